import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { Decoder, Encoder } from 'cbor-x';
import type { Framing } from '@courier/transport-aemp';
import { Nodes, SECRET } from '../nodes.js';
import { PerlPeer } from '../perl-peer.js';
import { vector, type Vector } from '../vectors.js';

/**
 * The captured Perl AnyEvent::MP 2.02 frames of ./fixtures (the global-registry packets of the
 * handshake vectors, and every packet a seed received in the four-node global mesh), replayed
 * into a Courier global node twice: as captured, and with their node ids, family names and keys
 * renamed to members of Object.prototype (`__proto__`, `constructor`, `toString`, …) — in the
 * frames' own bytes, JSON text or CBOR byte strings as Perl writes them. The renamed replay must
 * be the captured one renamed: the same database, the same packets back to every peer, and no
 * prototype touched.
 */

/** Names in the captures → Object.prototype members. Only whole strings are renamed. */
const RENAME = new Map<string, string>([
  ['seedA', '__proto__'],
  ['seedB', 'constructor'],
  ['slaveC', 'toString'],
  ['clientD', 'hasOwnProperty'],
  ['echo', '__defineGetter__'],
  ['seedA#echo', 'valueOf'],
  ['seedB#echo', '__lookupGetter__'],
  ['slaveC#echo', 'isPrototypeOf'],
  ['perl-echo', 'constructor'],
  ['perl-client', '__proto__'],
  ['perl-echo#echo', 'valueOf'],
  ['probe-ts', 'toString'],
  ['probe_group', 'hasOwnProperty'],
  ['probe-ts#worker', '__proto__'],
  ['probe-ts#worker2', '__defineSetter__'],
]);
type Rename = (s: string) => string;
const hostile: Rename = (s) => RENAME.get(s) ?? s;
const same: Rename = (s) => s;

// ---- renaming inside a frame's bytes ------------------------------------------------------------

/** Every JSON string token whose value is renamed, rewritten in the text; nothing else changes. */
function renameJson(text: string, rename: Rename): string {
  return text.replace(/"((?:[^"\\]|\\.)*)"/g, (token: string) => {
    const s = JSON.parse(token) as string;
    const r = rename(s);
    return r === s ? token : JSON.stringify(r);
  });
}

/** The options Courier's CBOR codec uses: maps stay Maps, byte strings Uint8Arrays. */
const CBOR = { useRecords: false, mapsAsObjects: false, tagUint8Array: false, variableMapSize: true, pack: false } as const;
const latin1 = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.length).toString('latin1');

/** A CBOR frame with its byte strings (Perl's strings: port names, keys, node ids) renamed. */
function renameCbor(bytes: Uint8Array, rename: Rename): Buffer {
  const walk = (v: unknown): unknown => {
    if (v instanceof Uint8Array) return Buffer.from(rename(latin1(v)), 'latin1');
    if (typeof v === 'string') return rename(v);
    if (Array.isArray(v)) return v.map(walk);
    if (v instanceof Map) return new Map([...(v as Map<unknown, unknown>)].map(([k, x]) => [walk(k), walk(x)]));
    return v;
  };
  return Buffer.from(new Encoder(CBOR).encode(walk(new Decoder(CBOR).decode(bytes))));
}

/** A packet of a trace (JSON text) as Perl would have written it in CBOR: strings are byte strings, hashes maps. */
function perlCbor(text: string): Buffer {
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return Buffer.from(v, 'utf8');
    if (Array.isArray(v)) return v.map(walk);
    if (typeof v === 'object' && v !== null) return new Map(Object.entries(v).map(([k, x]) => [Buffer.from(k, 'utf8'), walk(x)]));
    return v;
  };
  return Buffer.from(new Encoder(CBOR).encode(walk(JSON.parse(text))));
}

// ---- what the node did, as data -----------------------------------------------------------------

/** A wire value as comparable data: objects become their own entries, sorted (and must be plain objects); our own address a placeholder. */
function canon(t: unknown, selfAddr: string): unknown {
  if (t === selfAddr) return '<self-address>';
  if (Array.isArray(t)) return t.map((x) => canon(x, selfAddr));
  if (typeof t !== 'object' || t === null) return t;
  expect(Object.getPrototypeOf(t)).toBe(Object.prototype);
  return Object.entries(t)
    .map(([k, v]) => ['own', k, canon(v, selfAddr)] as const)
    .sort(([, a], [, b]) => (a < b ? -1 : a > b ? 1 : 0));
}

// ---- the replay --------------------------------------------------------------------------------

interface Frame {
  /** The peer that sent it (a node id of the capture). */
  readonly from: string;
  /** Its bytes with names renamed. */
  readonly bytes: (rename: Rename) => Buffer;
}

interface Scenario {
  /** The node id the Courier node plays (renamed like the rest). */
  readonly self: string;
  readonly framing: Framing;
  readonly frames: readonly Frame[];
  /** Families whose contents are compared at the end. */
  readonly families: readonly string[];
  /** Registrations the Perl node had (`db_reg`), made on the Courier node before the replay. */
  readonly registrations?: ReadonlyArray<readonly [string, string]>;
}

interface Replay {
  readonly state: Map<string, unknown>;
  readonly received: Map<string, unknown[]>;
}

const nodes = new Nodes();
afterEach(() => nodes.stopAll());
let run = 0;

/** Replay `s` with names renamed by `rename` into a fresh Courier global node; what it ended with and sent, in capture names. */
async function replay(s: Scenario, rename: Rename): Promise<Replay> {
  const g = await nodes.make(rename(s.self), { global: true, framings: [s.framing], peers: {} });
  const selfAddr = g.addr;
  for (const [family, key] of s.registrations ?? []) g.t.registry.dbSet(rename(family), rename(key));
  const peers = new Map<string, PerlPeer>();
  let syncs = 0;
  const sync = async (peer: string, p: PerlPeer): Promise<void> => {
    const tag = `sync-${++syncs}`;
    p.send(['', 'time', `${rename(peer)}#${tag}`]);
    await p.next((x) => x[0] === tag, 3000, `the node processed what ${peer} sent (${tag})`);
  };
  run++;
  try {
    for (const f of s.frames) {
      let p = peers.get(f.from);
      if (p === undefined) {
        p = await PerlPeer.connect(g.addr, { nodeid: rename(f.from), secret: SECRET, framing: s.framing });
        peers.set(f.from, p);
      }
      p.sendRaw(f.bytes(rename));
      await sync(f.from, p);
    }
    for (const [peer, p] of peers) await sync(peer, p);
    const state = new Map<string, unknown>();
    for (const family of s.families) state.set(family, canon(await g.t.registry.dbFamily(rename(family)), selfAddr));
    const received = new Map<string, unknown[]>();
    for (const [peer, p] of peers) {
      expect(p.closed, `the node kept the connection of ${peer} (run ${run})`).toBe(false);
      received.set(
        peer,
        p.log.filter((x) => !(typeof x[0] === 'string' && x[0].startsWith('sync-'))).map((x) => canon(x, selfAddr)),
      );
    }
    return { state, received };
  } finally {
    for (const p of peers.values()) p.close();
  }
}

/** The captured replay, renamed, must be what the renamed replay did. */
async function expectSameUnderRenaming(s: Scenario): Promise<void> {
  const captured = await replay(s, same);
  const renamed = await replay(s, hostile);
  for (const family of s.families) {
    expect(renamed.state.get(family), `family ${family} (${hostile(family)})`).toEqual(canonRenamed(captured.state.get(family)));
  }
  for (const [peer, packets] of captured.received) {
    expect(renamed.received.get(peer), `what ${peer} (${hostile(peer)}) received`).toEqual(packets.map(canonRenamed));
  }
  expect(renamed.received.size).toBe(captured.received.size);
  expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(PROTO_NAMES);
  expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
}

const PROTO_NAMES = Object.getOwnPropertyNames(Object.prototype).sort();

/** Rename a canonical form (entries lists re-sorted after renaming their keys). */
function canonRenamed(c: unknown): unknown {
  if (typeof c === 'string') return hostile(c);
  if (!Array.isArray(c)) return c;
  if (c.every((x) => Array.isArray(x) && x[0] === 'own')) {
    return (c as Array<[string, string, unknown]>).map(([, k, v]) => ['own', hostile(k), canonRenamed(v)] as const).sort(([, a], [, b]) => (a < b ? -1 : a > b ? 1 : 0));
  }
  return c.map(canonRenamed);
}

// ---- the captures --------------------------------------------------------------------------------

const fixtures = fileURLToPath(new URL('../fixtures/', import.meta.url));

/** The client's global-registry packets of a handshake vector (`["", "g_…", …]`), as captured. */
function vectorFrames(v: Vector, from: string): Frame[] {
  const frames: Frame[] = [];
  for (const p of v.client_to_server_packets) {
    const d = p.decoded as unknown[];
    const [first, tag] = d;
    const isGlobal =
      (first === '' || (first as { $bytes?: string } | null)?.$bytes === '') && (typeof tag === 'string' ? tag : (tag as { $bytes: string }).$bytes).startsWith('g_');
    if (!isGlobal) continue;
    if (p.wire !== undefined) {
      const wire = p.wire;
      frames.push({ from, bytes: (r) => Buffer.from(renameJson(wire, r), 'utf8') });
    } else if (p.hex !== undefined) {
      const raw = Buffer.from(p.hex, 'hex');
      frames.push({ from, bytes: (r) => renameCbor(raw, r) });
    }
  }
  return frames;
}

/** Every packet `self` received from another node in a global-mesh trace (`RCV peer -> [...]`). */
function traceFrames(file: string, self: string, framing: Framing): Frame[] {
  const frames: Frame[] = [];
  for (const line of readFileSync(`${fixtures}global-mesh/${file}`, 'utf8').split('\n')) {
    const m = /^RCV (\S+) -> (.*)$/.exec(line);
    if (m === null || m[1] === self) continue;
    const text = m[2] as string;
    frames.push({ from: m[1] as string, bytes: (r) => (framing === 'json' ? Buffer.from(renameJson(text, r), 'utf8') : perlCbor(renameJson(text, r))) });
  }
  return frames;
}

describe('captured Perl frames with their names renamed to Object.prototype members', () => {
  it('the renaming changes only the names: the captured bytes come back unchanged when nothing is renamed', () => {
    for (const name of ['perl_perl_json', 'probe_perl_json', 'perl_perl_cbor'] as const) {
      for (const p of vector(name).client_to_server_packets) {
        if (p.wire !== undefined) expect(renameJson(p.wire, same)).toBe(p.wire);
        if (p.hex !== undefined) expect(renameCbor(Buffer.from(p.hex, 'hex'), same).toString('hex')).toBe(p.hex);
      }
    }
    expect(renameJson('["","g_slave",{"\'l":{"perl-client":["127.0.0.1:4041"]}}]', hostile)).toBe('["","g_slave",{"\'l":{"__proto__":["127.0.0.1:4041"]}}]');
    expect(renameCbor(Buffer.from('834047675f736c617665a142276ca14b7065726c2d636c69656e74814e3132372e302e302e313a34303431', 'hex'), hostile).toString('hex')).toBe(
      Buffer.concat([
        Buffer.from('834047675f736c617665a142276ca1', 'hex'),
        Buffer.from([0x49]),
        Buffer.from('__proto__'),
        Buffer.from('814e3132372e302e302e313a34303431', 'hex'),
      ]).toString('hex'),
    );
  });

  it('Perl ↔ Perl, JSON: g_slave with the client’s listeners, g_find, g_db_keys', async () => {
    await expectSameUnderRenaming({
      self: 'perl-echo',
      framing: 'json',
      frames: vectorFrames(vector('perl_perl_json'), 'perl-client'),
      families: ["'l", "'g", 'echo'],
      registrations: [['echo', 'perl-echo#echo']],
    });
  });

  it('Perl ↔ Perl, CBOR (byte strings): the same exchange', async () => {
    await expectSameUnderRenaming({
      self: 'perl-echo',
      framing: 'cbor',
      frames: vectorFrames(vector('perl_perl_cbor'), 'perl-client'),
      families: ["'l", "'g", 'echo'],
      registrations: [['echo', 'perl-echo#echo']],
    });
  });

  it('the probe’s registry session: g_slave with a group, g_mon1, g_upd, g_mon0', async () => {
    await expectSameUnderRenaming({
      self: 'perl-echo',
      framing: 'json',
      frames: vectorFrames(vector('probe_perl_json'), 'probe-ts'),
      families: ["'l", "'g", 'echo', 'probe_group'],
      registrations: [['echo', 'perl-echo#echo']],
    });
  });

  for (const framing of ['json', 'cbor'] as const) {
    it(`the global mesh as seedA saw it: seedB's g_global/g_set/g_upd, slaveC's g_slave and g_find (${framing})`, async () => {
      await expectSameUnderRenaming({ self: 'seedA', framing, frames: traceFrames('A.trace', 'seedA', framing), families: ["'l", "'g", 'echo'] });
    });

    it(`the global mesh as seedB saw it: seedA's g_set and relays, clientD's g_slave, g_find, g_db_keys (${framing})`, async () => {
      await expectSameUnderRenaming({ self: 'seedB', framing, frames: traceFrames('B.trace', 'seedB', framing), families: ["'l", "'g", 'echo'] });
    });
  }
});
