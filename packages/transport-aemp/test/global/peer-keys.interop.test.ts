import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { randomCookie } from '@courier/testkit';
import type { Term } from '@courier/term';
import { PerlPeer } from '../perl-peer.js';

/**
 * Peer-chosen registry names across processes: a Courier global node and a Courier slave, each a
 * separate OS process (registry-node.ts), and this test as a third party writing Perl-style
 * frames. The slave registers and sets entries whose family names, keys and port names are
 * Object.prototype members (`__proto__`, `constructor`, `toString`, …) and other awkward
 * strings, with values holding such keys too; the global node and the slave both see them as
 * data (db_family, db_keys, db_values, db_mon), ports named so answer, deletes go, both
 * processes keep working, and in both Object.prototype is untouched (`({}).polluted` stays
 * undefined) — checked inside each process, which reports it on stdout.
 */
const root = fileURLToPath(new URL('../../../../', import.meta.url));
const SCRIPT = 'packages/transport-aemp/test/registry-node.ts';

/** Names a peer may choose: every Object.prototype member, and strings that look like other things. */
const NAMES = [...Object.getOwnPropertyNames(Object.prototype), 'prototype', 'then', 'length', '0', '-1', 'a.b', 'x#y', ' ', 'ünïcödé ☃', '~a'];
/** A value with hostile keys of its own (JSON text, parsed in the process that sets it). */
const valueText = (family: string, key: string): string =>
  `{"__proto__":{"polluted":${JSON.stringify(`${family}/${key}`)}},${JSON.stringify(key)}:[1,null,{"constructor":{"prototype":{"polluted":true}}}]}`;

interface RegistryNode {
  readonly addr: string;
  readonly nodeid: string;
  ask(cmd: string, ...args: string[]): Promise<unknown>;
  stop(): Promise<number | null>;
}

const started: RegistryNode[] = [];
afterEach(async () => {
  for (const n of started.splice(0)) await n.stop();
});

async function startNode(nodeid: string, secret: string, seed: string | undefined, mapping: 'courier' | 'perl'): Promise<RegistryNode> {
  const child: ChildProcess = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', SCRIPT, nodeid, secret, seed ?? '-', mapping], {
    cwd: root,
    env: { ...process.env, LOG_LEVEL: 'warn' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-4000)));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const answers = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let ready: ((addr: string) => void) | undefined;
  const readyP = new Promise<string>((resolve) => (ready = resolve));
  const lines = createInterface({ input: child.stdout as NonNullable<ChildProcess['stdout']> });
  lines.on('line', (line) => {
    if (line.startsWith('READY ')) return ready?.(line.slice('READY '.length));
    const a = JSON.parse(line) as { id: number; result?: unknown; error?: string };
    const w = answers.get(a.id);
    answers.delete(a.id);
    if (a.error !== undefined) w?.reject(new Error(`${nodeid}: ${a.error}`));
    else w?.resolve(a.result);
  });
  const dead = exited.then((code) => {
    for (const w of answers.values()) w.reject(new Error(`${nodeid} exited (${String(code)}); stderr: ${stderr}`));
    throw new Error(`${nodeid} exited (${String(code)}) before READY; stderr: ${stderr}`);
  });
  dead.catch(() => {});
  /** `p`, or a rejection naming `what` after `ms`. */
  const within = <T>(p: Promise<T>, ms: number, what: string): Promise<T> => {
    let t: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_r, reject) => (t = setTimeout(() => reject(new Error(`${nodeid}: no ${what} within ${ms} ms; stderr: ${stderr}`)), ms)));
    return Promise.race([p, late]).finally(() => clearTimeout(t));
  };
  const addr = await within(Promise.race([readyP, dead]), 30_000, 'READY');
  let seq = 0;
  const n: RegistryNode = {
    addr,
    nodeid,
    ask(cmd, ...args) {
      const id = ++seq;
      const answer = new Promise<unknown>((resolve, reject) => answers.set(id, { resolve, reject }));
      child.stdin?.write(`${JSON.stringify([id, cmd, ...args])}\n`);
      return within(answer, 15_000, `answer to ${cmd}`);
    },
    async stop() {
      if (child.exitCode !== null) return child.exitCode;
      child.stdin?.end();
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      const code = await exited;
      clearTimeout(t);
      return code;
    },
  };
  started.push(n);
  return n;
}

/** Poll `probe` until `done` holds of its result (registry changes travel asynchronously). */
async function eventually<T>(probe: () => Promise<T>, done: (v: T) => boolean, what: string, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (done(v)) return v;
    if (Date.now() > end) throw new Error(`${what}: not within ${ms} ms (last: ${JSON.stringify(v)})`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const sortEntries = (e: unknown): Array<[string, unknown]> => [...(e as Array<[string, unknown]>)].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
const expectClean = async (n: RegistryNode): Promise<void> => {
  expect(await n.ask('check'), `${n.nodeid}: Object.prototype and its relatives untouched`).toEqual({
    polluted: 'undefined',
    objectPrototype: true,
    arrayPrototype: true,
    functionPrototype: true,
    literalPrototype: true,
  });
};

describe('registry names that are Object.prototype members, between Courier nodes in separate processes', () => {
  for (const mapping of ['courier', 'perl'] as const) {
    it(`a slave's entries and ports are data on the global node and back (${mapping} mapping)`, async () => {
      const secret = randomCookie();
      const tag = `${process.pid}-${mapping}`;
      const g = await startNode(`keys-global-${tag}`, secret, undefined, mapping);
      const s = await startNode(`keys-slave-${tag}`, secret, g.addr, mapping);
      const families = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', '__defineGetter__', 'x#y', '0'];
      for (const f of families) await g.ask('mon', f);
      await s.ask('mon', '__proto__');

      const expected = new Map<string, Array<[string, unknown]>>();
      // Asked all at once: the slave handles its input line by line, in order.
      await Promise.all(families.flatMap((f) => NAMES.map((k) => s.ask('set', f, k, valueText(f, k)))));
      for (const f of families) expected.set(f, sortEntries(NAMES.map((k) => [k, JSON.parse(valueText(f, k)) as unknown])));

      for (const f of families) {
        const want = expected.get(f);
        const onGlobal = (await eventually(
          () => g.ask('family', f),
          (v) => (v as { entries: unknown[] }).entries.length === NAMES.length,
          `the global node has family ${f}`,
        )) as { plain: boolean; entries: Array<[string, unknown]> };
        expect(onGlobal.plain).toBe(true);
        expect(sortEntries(onGlobal.entries)).toEqual(want);
        expect(sortEntries(((await s.ask('family', f)) as { entries: unknown }).entries)).toEqual(want);
        expect(((await s.ask('keys', f)) as string[]).sort()).toEqual([...NAMES].sort());
        expect(((await g.ask('values', f)) as unknown[]).length).toBe(NAMES.length);
        await eventually(
          () => g.ask('monview', f),
          (v) => (v as unknown[]).length === NAMES.length,
          `db_mon on the global node saw family ${f}`,
        );
        expect(sortEntries(await g.ask('monview', f))).toEqual(want);
      }
      await eventually(
        () => s.ask('monview', '__proto__'),
        (v) => (v as unknown[]).length === NAMES.length,
        'db_mon on the slave (g_mon1 at its master) saw family __proto__',
      );
      expect(sortEntries(await s.ask('monview', '__proto__'))).toEqual(expected.get('__proto__'));

      // Ports named like prototype members, registered on both sides, found by db_keys and called.
      for (const name of ['__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
        await s.ask('reg', 'ports', name);
        await g.ask('reg', 'ports', name);
      }
      const ports = (await eventually(
        () => s.ask('keys', 'ports'),
        (v) => (v as string[]).length === 8,
        'both nodes registered their ports',
      )) as string[];
      expect([...ports].sort()).toEqual(['__proto__', 'constructor', 'toString', 'hasOwnProperty'].flatMap((n) => [`${g.nodeid}#${n}`, `${s.nodeid}#${n}`]).sort());
      for (const port of ports) {
        expect(await s.ask('call', port, 'ping', port)).toEqual(['ping', port]);
        expect(await g.ask('call', port, 'pong', port)).toEqual(['pong', port]);
      }

      // Deletes by those names.
      await Promise.all(families.map((f) => s.ask('del', f, ...NAMES.slice(0, 6))));
      for (const f of families) {
        const left = (await eventually(
          () => g.ask('keys', f),
          (v) => (v as string[]).length === NAMES.length - 6,
          `the global node dropped the deleted keys of ${f}`,
        )) as string[];
        expect([...left].sort()).toEqual(NAMES.slice(6).sort());
      }

      await expectClean(g);
      await expectClean(s);
      expect(await s.stop()).toBe(0);
      expect(await g.stop()).toBe(0);
    });
  }

  it('a Perl-speaking third party writes hostile names straight onto the wire; both processes see data and stay clean', async () => {
    const secret = randomCookie();
    const g = await startNode(`keys-global-${process.pid}-wire`, secret, undefined, 'courier');
    const s = await startNode(`keys-slave-${process.pid}-wire`, secret, g.addr, 'courier');
    for (const framing of ['json', 'cbor'] as const) {
      const perl = await PerlPeer.connect(g.addr, { nodeid: `keys-perl-${process.pid}-${framing}`, secret, framing });
      try {
        const db = JSON.parse(`{${NAMES.map((f) => `${JSON.stringify(f)}:{${NAMES.map((k) => `${JSON.stringify(k)}:${valueText(f, k)}`).join(',')}}`).join(',')}}`) as Term;
        perl.send(['', 'g_slave', db]);
        perl.send(['', 'g_upd', '__proto__', JSON.parse('{"__proto__":{"polluted":"upd"},"constructor":null}') as Term, ['toString']]);
        perl.send(['', 'g_db_keys', '__proto__', 'q1']);
        const keys = (await perl.reply('g_reply', 'q1'))[3] as string[];
        expect([...keys].sort()).toEqual(NAMES.filter((k) => k !== 'toString').sort());
        for (const f of NAMES) {
          const onSlave = (await eventually(
            () => s.ask('family', f),
            (v) => (v as { entries: unknown[] }).entries.length >= NAMES.length - (f === '__proto__' ? 1 : 0),
            `the slave sees family ${f} through its master`,
          )) as { entries: Array<[string, unknown]> };
          const want = new Map<string, unknown>(NAMES.map((k) => [k, JSON.parse(valueText(f, k)) as unknown]));
          if (f === '__proto__') {
            want.set('__proto__', { polluted: 'upd' });
            want.set('constructor', null);
            want.delete('toString');
          }
          expect(sortEntries(onSlave.entries)).toEqual(sortEntries([...want]));
        }
        await expectClean(g);
        await expectClean(s);
        expect(perl.closed).toBe(false);
      } finally {
        perl.close();
      }
      // The Perl peer's contribution goes with its connection.
      await eventually(
        () => s.ask('keys', '__proto__'),
        (v) => (v as string[]).length === 0,
        'its entries vanish when the Perl peer leaves',
      );
    }
    expect(await s.stop()).toBe(0);
    expect(await g.stop()).toBe(0);
  });
});
