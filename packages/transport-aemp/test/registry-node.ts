import { createInterface } from 'node:readline';
import { Node, TIMEOUT } from '@courier/core';
import { atom, type Term } from '@courier/term';
import { aemp, portIdOfPid } from '@courier/transport-aemp';

/**
 * A Courier AEMP node in its own process, driven over stdin/stdout, for the interop test of
 * peer-chosen registry names (global/peer-keys.interop.test.ts):
 *   node --conditions=source --import tsx packages/transport-aemp/test/registry-node.ts NODEID SECRET SEED|- [perl]
 * Without a seed (`-`) it runs the global registry service (a seed); with one it joins that seed
 * as a slave. `perl`: it speaks to every peer as a Perl node would (the natural mapping). It
 * prints `READY <listen address>` once it listens (and has a master), then reads one JSON array a
 * line, `[id, command, ...args]`, and answers each with one JSON line
 * `{"id": id, "result": …}` or `{"id": id, "error": "…"}`. Every string crosses as JSON, so any
 * name does. Commands (registry calls as MP.pm names them):
 *   set FAMILY KEY VALUE-JSON · del FAMILY KEY… · family FAMILY (→ own entries) · keys FAMILY ·
 *   values FAMILY · mon FAMILY · monview FAMILY (→ the entries db_mon has seen, folded) ·
 *   reg FAMILY NAME (a process registered as NAME echoing `[reply, …args]` → args, db_reg'd as
 *   `NODEID#NAME`) · call PORTID ARGS… (→ the echo's reply, or "timeout") ·
 *   check (→ whether Object.prototype and its relatives are as they were at start).
 */
const [nodeid, secret, seedArg, mapping] = process.argv.slice(2);
if (nodeid === undefined || secret === undefined || seedArg === undefined) {
  process.stderr.write('usage: registry-node.ts NODEID SECRET SEED|- [perl]\n');
  process.exit(2);
}
const seed = seedArg === '-' ? undefined : seedArg;

const pristine = {
  object: Object.getOwnPropertyNames(Object.prototype).sort().join(),
  objectValues: Object.getOwnPropertyNames(Object.prototype).map((k) => Object.getOwnPropertyDescriptor(Object.prototype, k)?.value as unknown),
  array: Object.getOwnPropertyNames(Array.prototype).sort().join(),
  fn: Object.getOwnPropertyNames(Function.prototype).sort().join(),
};

const t = aemp({ secret, seeds: seed !== undefined ? [seed] : [], global: seed === undefined, peers: {}, queryTimeoutMs: 10_000, extended: mapping !== 'perl' });
const node = await new Node({ name: nodeid, transports: [t] }).start();
await t.attached(30_000);
const reg = t.registry;
const views = new Map<string, Map<string, Term>>();

function check(): Record<string, unknown> {
  const values = Object.getOwnPropertyNames(Object.prototype).map((k) => Object.getOwnPropertyDescriptor(Object.prototype, k)?.value as unknown);
  return {
    polluted: typeof ({} as Record<string, unknown>)['polluted'],
    objectPrototype: Object.getOwnPropertyNames(Object.prototype).sort().join() === pristine.object && values.every((v, i) => v === pristine.objectValues[i]),
    arrayPrototype: Object.getOwnPropertyNames(Array.prototype).sort().join() === pristine.array,
    functionPrototype: Object.getOwnPropertyNames(Function.prototype).sort().join() === pristine.fn,
    literalPrototype: Object.getPrototypeOf({}) === Object.prototype,
  };
}

/** A process registered as `name` that answers `[reply, ...args]` with `args`, as the echo port does. */
function echoPort(name: string): void {
  node.spawn(
    async (self) => {
      for (;;) {
        const m = await self.receive();
        if (Array.isArray(m) && typeof m[0] === 'string') self.send(m[0], m.slice(1));
      }
    },
    { name: atom(name) },
  );
}

function call(port: string, args: Term[]): Promise<Term> {
  return new Promise((resolve) => {
    node.spawn(async (self) => {
      self.send(port, [portIdOfPid(self.pid), ...args]);
      const m = await self.receive(undefined, 10_000);
      resolve(m === TIMEOUT ? 'timeout' : m);
    });
  });
}

async function run(cmd: string, a: string[]): Promise<unknown> {
  const [family = '', ...rest] = a;
  switch (cmd) {
    case 'set':
      reg.dbSet(family, rest[0] ?? '', JSON.parse(rest[1] ?? 'null') as Term);
      return 'ok';
    case 'del':
      reg.dbDel(family, ...rest);
      return 'ok';
    case 'family': {
      const f = await reg.dbFamily(family);
      return { plain: Object.getPrototypeOf(f) === Object.prototype, entries: Object.entries(f) };
    }
    case 'keys':
      return reg.dbKeys(family);
    case 'values':
      return reg.dbValues(family);
    case 'mon': {
      const view = new Map<string, Term>();
      views.set(family, view);
      reg.dbMon(family, (c) => {
        for (const [k, v] of c.set) view.set(k, v);
        for (const k of c.del) view.delete(k);
      });
      return 'ok';
    }
    case 'monview':
      return [...(views.get(family) ?? [])];
    case 'reg':
      echoPort(rest[0] ?? '');
      reg.dbReg(family, `${nodeid}#${rest[0] ?? ''}`);
      return 'ok';
    case 'call':
      return call(family, rest);
    case 'check':
      return check();
    default:
      throw new Error(`unknown command ${cmd}`);
  }
}

process.stdout.write(`READY ${t.listening[0] ?? ''}\n`);
const pending: Array<Promise<void>> = [];
for await (const line of createInterface({ input: process.stdin })) {
  if (line.trim() === '') continue;
  const [id, cmd, ...args] = JSON.parse(line) as [number, string, ...string[]];
  pending.push(
    run(cmd, args).then(
      (result) => void process.stdout.write(`${JSON.stringify({ id, result })}\n`),
      (err: unknown) => void process.stdout.write(`${JSON.stringify({ id, error: (err as Error).message })}\n`),
    ),
  );
}
await Promise.all(pending);
await node.stop();
process.exit(0);
