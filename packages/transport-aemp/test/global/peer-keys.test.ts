import { afterAll, afterEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { atom, type Term } from '@courier/term';
import { ResolveError } from '@courier/core';
import { PacketReader, PacketWriter, parseGreeting, type AempRegistry } from '@courier/transport-aemp';
import { Nodes, SECRET, until } from '../nodes.js';
import { PerlPeer } from '../perl-peer.js';

/**
 * Peer data never reaches a prototype (issue 13): family names, keys and values a peer chooses —
 * `__proto__`, `constructor`, `toString` and every other member of Object.prototype, or any
 * string — are data in the AEMP global registry: stored, merged, queried, subscribed to, sent to
 * other global nodes and deleted as they came, and Object.prototype stays as it was.
 */

/** Every member name of Object.prototype (`__proto__`, `constructor`, `toString`, `hasOwnProperty`, `valueOf`, `__defineGetter__`, …). */
const PROTO_NAMES = Object.getOwnPropertyNames(Object.prototype);
const name = fc.oneof(
  { arbitrary: fc.constantFrom(...PROTO_NAMES), weight: 3 },
  { arbitrary: fc.string({ minLength: 1, maxLength: 12 }), weight: 1 },
  { arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 6 }), weight: 1 },
);

/** A JSON value whose objects may have hostile keys, built the way JSON.parse builds a peer's (own properties). */
const hostileJson: fc.Arbitrary<string> = fc.letrec<{ v: string }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom('null', 'true', '1', '-2.5', '"x"', '{"polluted":"yes"}'),
    fc.string({ maxLength: 8 }).map((s) => JSON.stringify(s)),
    fc.array(tie('v'), { maxLength: 3 }).map((a) => `[${a.join(',')}]`),
    fc.uniqueArray(fc.tuple(name, tie('v')), { maxLength: 4, selector: ([k]) => k }).map((kv) => `{${kv.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`),
  ),
})).v;
const value: fc.Arbitrary<Term> = hostileJson.map((text) => JSON.parse(text) as Term);
/** A family's entries: distinct keys. */
const entries = fc.uniqueArray(fc.tuple(name, value), { minLength: 1, maxLength: 6, selector: ([k]) => k });
/** The cases every property starts with: `__proto__` as family and key, with an object, null and a string as values. */
const firstEntries: Array<[string, Term]> = [
  ['__proto__', JSON.parse('{"polluted":"yes","__proto__":{"polluted":"deep"}}') as Term],
  ['constructor', null],
  ['toString', 'x'],
  ['hasOwnProperty', [1]],
  ['valueOf', 1],
  ['__defineGetter__', JSON.parse('{"__proto__":null}') as Term],
];

/** Object.prototype and its relatives as the test started. */
const pristine = {
  names: Object.getOwnPropertyNames(Object.prototype).sort(),
  values: Object.getOwnPropertyNames(Object.prototype).map((k) => Object.getOwnPropertyDescriptor(Object.prototype, k)?.value as unknown),
  arrayNames: Object.getOwnPropertyNames(Array.prototype).sort(),
};

function expectPrototypesUntouched(): void {
  expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(pristine.names);
  expect(Object.getOwnPropertyNames(Object.prototype).map((k) => Object.getOwnPropertyDescriptor(Object.prototype, k)?.value as unknown)).toEqual(pristine.values);
  expect(Object.getOwnPropertyNames(Array.prototype).sort()).toEqual(pristine.arrayNames);
  expect(Object.getPrototypeOf({})).toBe(Object.prototype);
  expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
}

/** A wire object as data: its own entries, sorted, each value canonical; and it must be a plain object. */
function canon(t: unknown): unknown {
  if (Array.isArray(t)) return t.map(canon);
  if (typeof t !== 'object' || t === null) return t;
  expect(Object.getPrototypeOf(t)).toBe(Object.prototype);
  return {
    own: Object.entries(t)
      .map(([k, v]) => [k, canon(v)] as const)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
  };
}
/** Values in any order (a family's values come in its keys' order, which an object may change: integer-like keys first). */
const canonBag = (vs: unknown): string[] => (vs as unknown[]).map((v) => JSON.stringify(canon(v), (_k, x: unknown) => (typeof x === 'bigint' ? `${x}n` : x))).sort();
const canonEntries = (kv: ReadonlyArray<readonly [string, Term]>): unknown => canon(Object.fromEntries(kv));
const sortedKeys = (kv: ReadonlyArray<readonly [string, unknown]>): string[] => kv.map(([k]) => k).sort();

afterAll(() => expectPrototypesUntouched());

describe('peer-chosen keys in the wire forms', () => {
  it('greeting key=value pairs are own keys of a prototype-less table', () => {
    const g = parseGreeting('aemp;1;n;hmac_sha3_512;json;__proto__=p;constructor=c;toString=t;hasOwnProperty=h;tls=1.0');
    expect(g).toBeDefined();
    const kv = g?.kv ?? {};
    expect(Object.getPrototypeOf(kv)).toBeNull();
    expect(Object.entries(kv)).toEqual([
      ['__proto__', 'p'],
      ['constructor', 'c'],
      ['toString', 't'],
      ['hasOwnProperty', 'h'],
      ['tls', '1.0'],
    ]);
    expect(parseGreeting('aemp;1;n;hmac_sha3_512;json')?.kv['constructor']).toBeUndefined();
    expectPrototypesUntouched();
  });

  for (const framing of ['json', 'cbor'] as const) {
    it(`a packet's objects keep hostile keys as data both ways (${framing}, Perl mapping)`, () => {
      fc.assert(
        fc.property(value, (v) => {
          const w = new PacketWriter(framing, 'perl');
          w.packet(['', 'g_upd', w.value(v)]);
          const r = new PacketReader(framing, 'perl', 1 << 20);
          for (const c of w.take()) r.push(c);
          expect(canon((r.next() as Term[])[2])).toEqual(canon(v));
          expectPrototypesUntouched();
        }),
        { numRuns: 300 },
      );
    });
  }

  it('JSON with integers past 2^53 (the exact path) keeps a "__proto__" key as data', () => {
    const r = new PacketReader('json', 'perl', 1 << 20);
    r.push(Buffer.from('["","g_upd","f",{"__proto__":{"n":123456789012345678901,"polluted":1},"constructor":1234567890123456}]'));
    const o = (r.next() as Term[])[3] as Record<string, Term>;
    expect(Object.keys(o)).toEqual(['__proto__', 'constructor']);
    expect(Object.getPrototypeOf(o)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(o, '__proto__')?.value).toEqual({ n: 123456789012345678901n, polluted: 1 });
    expect(o['constructor']).toBe(1234567890123456);
    expectPrototypesUntouched();
  });
});

const nodes = new Nodes();
afterEach(() => nodes.stopAll());

describe('the global registry keeps peer-chosen names as data', () => {
  let seq = 0;
  const fresh = (): string => `peer-keys-${process.pid}-${++seq}`;

  it('its own API on a global node: set, get, keys, values, monitor, delete', async () => {
    const g = await nodes.make(fresh(), { global: true, peers: {} });
    const reg = g.t.registry;
    await fc.assert(
      fc.asyncProperty(name, entries, fc.integer({ min: 0, max: 6 }), async (family, kv, cut) => {
        const seen = monitorOf(reg, family);
        for (const [k, v] of kv) reg.dbSet(family, k, v);
        expect(canon(await reg.dbFamily(family))).toEqual(canonEntries(kv));
        expect((await reg.dbKeys(family)).sort()).toEqual(sortedKeys(kv));
        expect(canonBag(await reg.dbValues(family))).toEqual(canonBag(kv.map(([, v]) => v)));
        await until(() => seen.view().size === kv.length, 1000, 'db_mon saw every set');
        expect(canonEntries([...seen.view()])).toEqual(canonEntries(kv));
        const gone = kv.slice(0, cut).map(([k]) => k);
        reg.dbDel(family, ...gone);
        expect((await reg.dbKeys(family)).sort()).toEqual(sortedKeys(kv.slice(cut)));
        reg.dbDel(family, ...kv.map(([k]) => k));
        expect(await reg.dbKeys(family)).toEqual([]);
        await until(() => seen.view().size === 0, 1000, 'db_mon saw every delete');
        seen.stop();
        expectPrototypesUntouched();
      }),
      { numRuns: 25, examples: [['__proto__', firstEntries, 2]] },
    );
  });

  for (const extended of [true, false]) {
    it(`a slave's entries reach its master and come back as data (${extended ? 'Courier' : 'Perl'} mapping: g_slave, g_upd, g_db_*, g_mon1 → g_chg1/g_chg2)`, async () => {
      const g = await nodes.make(fresh(), { global: true, peers: {}, extended });
      const s = await nodes.make(fresh(), { seeds: [g.addr], peers: {}, extended });
      await s.t.attached(3000);
      await fc.assert(
        fc.asyncProperty(name, entries, async (family, kv) => {
          const seen = monitorOf(s.t.registry, family);
          for (const [k, v] of kv) s.t.registry.dbSet(family, k, v);
          await until(async () => (await g.t.registry.dbKeys(family)).length === kv.length, 3000, 'the master has every key');
          expect(canon(await g.t.registry.dbFamily(family))).toEqual(canonEntries(kv));
          expect(canon(await s.t.registry.dbFamily(family))).toEqual(canonEntries(kv));
          expect((await s.t.registry.dbKeys(family)).sort()).toEqual(sortedKeys(kv));
          expect(canonBag(await s.t.registry.dbValues(family))).toEqual(canonBag(kv.map(([, v]) => v)));
          await until(() => seen.view().size === kv.length, 3000, 'the subscription has every key');
          expect(canonEntries([...seen.view()])).toEqual(canonEntries(kv));
          s.t.registry.dbDel(family, ...kv.map(([k]) => k));
          await until(async () => (await g.t.registry.dbKeys(family)).length === 0, 3000, 'the master dropped every key');
          await until(() => seen.view().size === 0, 3000, 'the subscription saw the deletes');
          seen.stop();
          expectPrototypesUntouched();
        }),
        { numRuns: 15, examples: [['__proto__', firstEntries]] },
      );
    });
  }

  it('a second global node gets everything in g_set, hostile family names included', async () => {
    const g1 = await nodes.make(fresh(), { global: true, peers: {} });
    const pairs = PROTO_NAMES.map((k, i) => [k, { [k]: i }] as const);
    for (const [k, v] of pairs) g1.t.registry.dbSet(k, k, JSON.parse(JSON.stringify(v)) as Term);
    const g2 = await nodes.make(fresh(), { global: true, seeds: [g1.addr], peers: {} });
    for (const [k, v] of pairs) {
      await until(async () => (await g2.t.registry.dbKeys(k)).includes(k), 3000, `g2 learns family ${k}`);
      expect(canon(await g2.t.registry.dbFamily(k))).toEqual(canon({ [k]: v }));
    }
    expectPrototypesUntouched();
  });

  it("a node id that names an Object.prototype member is not found in the `peers` table's prototype", async () => {
    const t = (await nodes.make(fresh(), { peers: {} })).t;
    for (const id of PROTO_NAMES) {
      await expect(t.dialer(atom(id)).resolver.resolve(atom(id), new AbortController().signal)).rejects.toBeInstanceOf(ResolveError);
    }
  });
});

describe('a Perl-speaking peer writing hostile names straight onto the wire', () => {
  for (const framing of ['json', 'cbor'] as const) {
    it(`g_slave, g_upd, g_db_family/keys/values, g_mon1 and g_find answer with the names as data (${framing})`, async () => {
      const g = await nodes.make(`wire-global-${framing}`, { global: true, peers: {} });
      const perl = await PerlPeer.connect(g.addr, { nodeid: `wire-perl-${framing}`, secret: SECRET, framing });
      try {
        await fc.assert(
          fc.asyncProperty(name, entries, fc.integer({ min: 0, max: 6 }), async (family, kv, cut) => {
            const id = `q${Math.random().toString(36).slice(2)}`;
            perl.send(['', 'g_slave', JSON.parse(`{${JSON.stringify(family)}:{${kv.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(',')}}}`) as Term]);
            perl.send(['', 'g_mon1', family]);
            const chg1 = await perl.reply('g_chg1', family);
            expect(canon(chg1[3])).toEqual(canonEntries(kv));
            perl.send(['', 'g_db_family', family, id]);
            expect(canon((await perl.reply('g_reply', id))[3])).toEqual(canonEntries(kv));
            perl.send(['', 'g_db_keys', family, id]);
            expect(((await perl.reply('g_reply', id))[3] as string[]).sort()).toEqual(sortedKeys(kv));
            perl.send(['', 'g_db_values', family, id]);
            expect(canonBag((await perl.reply('g_reply', id))[3])).toEqual(canonBag(kv.map(([, v]) => v)));
            // Deletes by name, then a set of the same names again.
            const gone = kv.slice(0, cut).map(([k]) => k);
            perl.send(['', 'g_upd', family, null, gone]);
            if (gone.length > 0) expect(((await perl.reply('g_chg2', family))[4] as string[]).sort()).toEqual([...gone].sort());
            expect(canon(await g.t.registry.dbFamily(family))).toEqual(canonEntries(kv.slice(cut)));
            perl.send(['', 'g_mon0', family]);
            perl.send(['', 'g_slave', {}]);
            await until(async () => (await g.t.registry.dbKeys(family)).length === 0, 3000, 'a new g_slave replaces the contribution');
            perl.send(['', 'g_find', family]);
            expect((await perl.reply('g_found', family))[3]).toBeNull();
            expectPrototypesUntouched();
          }),
          { numRuns: 25, examples: [['__proto__', firstEntries, 2]] },
        );
        expect(perl.closed).toBe(false);
      } finally {
        perl.close();
      }
    });
  }
});

/** What a db_mon listener has seen, folded into the family's current contents. */
function monitorOf(reg: AempRegistry, family: string): { view: () => Map<string, Term>; stop: () => void } {
  const view = new Map<string, Term>();
  const stop = reg.dbMon(family, (c) => {
    for (const [k, v] of c.set) view.set(k, v);
    for (const k of c.del) view.delete(k);
  });
  return { view: () => view, stop };
}
