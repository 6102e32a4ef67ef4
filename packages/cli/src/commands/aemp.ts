import { Node, TIMEOUT, UsageError } from '@courier/core';
import { Tuple, formatErlang, parseErlang, type Term } from '@courier/term';
import type { AempTransport } from '@courier/transport-aemp';
import { buildNodeParts } from '../container.js';
import { loadConfig } from '../config/load.js';
import { validateConfig, type CourierConfig } from '../config/schema.js';
import type { Logger } from '@courier/core';

/**
 * `courier aemp snd|mon|db …`, in the spirit of AnyEvent::MP's `aemp` tool, through a short-lived
 * AEMP node (`courier_aemp_<pid>@127.0.0.1`): it reaches ports through `--seed HOST:PORT` (the
 * network's seed: addresses by g_find, the registry) or `--peer NODEID=HOST:PORT`, or the `aemp`
 * carrier of `--config FILE`. The secret: `--secret`, COURIER_AEMP_SECRET or the config.
 *
 *   courier aemp snd PORTID TERM…       snd PORTID, @TERMS (each in Erlang syntax)
 *   courier aemp mon PORTID             waits; prints `DOWN Reason` when the port dies (exit 0)
 *   courier aemp db keys FAMILY         one key a line
 *   courier aemp db values FAMILY       one value a line (Erlang syntax)
 *   courier aemp db get FAMILY KEY      the value (exit 1 if the key is not set)
 *   courier aemp db set FAMILY KEY [TERM]   sets a key (held as long as this command runs: use `--hold MS`)
 */
export interface AempCliOptions {
  readonly config?: string;
  readonly seed?: readonly string[];
  readonly peer?: readonly string[];
  readonly secret?: string;
  readonly timeoutMs: number;
  readonly holdMs?: number;
  readonly log: Logger;
  readonly out: (s: string) => void;
}

function clientConfig(o: AempCliOptions): CourierConfig {
  if (o.config) {
    const mixed = [o.seed?.length && '--seed', o.peer?.length && '--peer', o.secret !== undefined && '--secret'].filter(Boolean);
    if (mixed.length > 0) throw new UsageError('USAGE', `${mixed.join(', ')} would be ignored with --config ${o.config}: say it in its aemp carrier instead`);
    const c = loadConfig(o.config);
    if (!c.carriers.some((s) => s.kind === 'aemp')) throw new UsageError('USAGE', `${o.config} has no aemp carrier`);
    return c;
  }
  const peers: Record<string, string> = {};
  for (const p of o.peer ?? []) {
    const i = p.indexOf('=');
    if (i <= 0) throw new UsageError('USAGE', `--peer is NODEID=HOST:PORT, not ${p}`);
    peers[p.slice(0, i)] = p.slice(i + 1);
  }
  return validateConfig({
    node: { name: `courier_aemp_${process.pid}@127.0.0.1`, cookie: 'unused' },
    carriers: [
      {
        kind: 'aemp',
        secret: o.secret ?? process.env['COURIER_AEMP_SECRET'],
        seeds: o.seed && o.seed.length > 0 ? [...o.seed] : undefined,
        peers: Object.keys(peers).length > 0 ? peers : undefined,
      },
    ],
  });
}

async function withClient<T>(o: AempCliOptions, body: (node: Node, t: AempTransport) => Promise<T>): Promise<T> {
  const { node, transports } = buildNodeParts(clientConfig(o), { log: o.log });
  const t = transports.get('aemp') as AempTransport;
  await node.start();
  try {
    await t.attached(o.timeoutMs);
    return await body(node, t);
  } finally {
    await node.stop();
  }
}

const portNode = (port: string): string => {
  const i = port.indexOf('#');
  if (i <= 0 || i === port.length - 1) throw new UsageError('USAGE', `a port id is NODEID#PORT, not ${port}`);
  return port.slice(0, i);
};

export async function aempCommand(args: readonly string[], o: AempCliOptions): Promise<number> {
  const [sub, ...rest] = args;
  switch (sub) {
    case 'snd': {
      const [port, ...terms] = rest;
      if (port === undefined) throw new UsageError('USAGE', 'aemp snd PORTID TERM…');
      const nodeid = portNode(port);
      const msg: Term[] = terms.map((t) => parseErlang(t));
      return withClient(o, async (node) => {
        if (!(await node.connect(nodeid))) {
          process.stderr.write(`courier: cannot reach AEMP node ${nodeid}\n`);
          return 3;
        }
        node.send(port, msg);
        await new Promise((r) => setTimeout(r, 50));
        o.out('ok');
        return 0;
      });
    }
    case 'mon': {
      const [port] = rest;
      if (port === undefined) throw new UsageError('USAGE', 'aemp mon PORTID');
      const nodeid = portNode(port);
      return withClient(o, async (node) => {
        if (!(await node.connect(nodeid))) {
          process.stderr.write(`courier: cannot reach AEMP node ${nodeid}\n`);
          return 3;
        }
        return new Promise<number>((resolve) => {
          node.spawn(async (self) => {
            self.monitor({ name: port.slice(nodeid.length + 1), node: nodeid });
            // Say so once the monitor request has been written out (scripts may act on this line).
            for (let i = 0; i < 2; i++) await new Promise((r) => setImmediate(r));
            o.out(`monitoring ${port}`);
            const m = await self.receive(undefined, o.holdMs ?? 2 ** 31 - 1);
            if (m === TIMEOUT) return resolve(1);
            o.out(`DOWN ${formatErlang((m as Tuple).elements[4])}`);
            resolve(0);
          });
        });
      });
    }
    case 'db': {
      const [op, family, key, value] = rest;
      if (op === undefined || family === undefined) throw new UsageError('USAGE', 'aemp db keys|values|get|set FAMILY [KEY [TERM]]');
      return withClient(o, async (_node, t) => {
        switch (op) {
          case 'keys':
            for (const k of await t.registry.dbKeys(family)) o.out(k);
            return 0;
          case 'values':
            for (const v of await t.registry.dbValues(family)) o.out(formatErlang(v));
            return 0;
          case 'get': {
            if (key === undefined) throw new UsageError('USAGE', 'aemp db get FAMILY KEY');
            const f = await t.registry.dbFamily(family);
            if (!Object.prototype.hasOwnProperty.call(f, key)) {
              process.stderr.write(`courier: ${family}/${key} is not set\n`);
              return 1;
            }
            o.out(formatErlang(f[key]));
            return 0;
          }
          case 'set': {
            if (key === undefined) throw new UsageError('USAGE', 'aemp db set FAMILY KEY [TERM]');
            t.registry.dbSet(family, key, value !== undefined ? parseErlang(value) : null);
            o.out('ok');
            await new Promise((r) => setTimeout(r, o.holdMs ?? 200));
            return 0;
          }
          default:
            throw new UsageError('USAGE', `aemp db ${op}: keys, values, get or set`);
        }
      });
    }
    default:
      throw new UsageError('USAGE', `aemp ${sub ?? ''}: snd, mon or db`);
  }
}
