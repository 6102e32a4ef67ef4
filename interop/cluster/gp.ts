import { fileURLToPath } from 'node:url';
import { compileErl, type ClusterHost } from '@courier/testkit';
import { TICKTIME, tools } from './cluster.js';

/**
 * A node of the global/pg suites driven by commands on its stdin: the Courier node
 * (fixtures/gp-node.ts) and erl (fixtures/gp_peer.erl) answer the same commands with the same
 * texts, so what every node sees is compared as strings.
 */
export interface GpNode {
  readonly name: string;
  /** What it printed so far (the `EV` lines of `monitor`). */
  readonly out: { readonly text: string };
  ask(cmd: string, timeoutMs?: number): Promise<string>;
  stop(ms?: number): Promise<unknown>;
}

const GP_NODE = fileURLToPath(new URL('./fixtures/gp-node.ts', import.meta.url));
let compiled: Promise<string> | undefined;
function gpBeams(): Promise<string> {
  compiled ??= compileErl([fileURLToPath(new URL('./fixtures/gp_peer.erl', import.meta.url))], tools).then((c) => c.dir);
  return compiled;
}

interface Driven {
  readonly stdout: { readonly text: string; waitFor(p: (line: string) => boolean, ms: number, what?: string): Promise<string> };
  write(d: string): void;
  stop(ms?: number): Promise<unknown>;
}

function driver(name: string, p: Driven): GpNode {
  let next = 0;
  let queue: Promise<unknown> = Promise.resolve();
  return {
    name,
    out: p.stdout,
    ask(cmd, timeoutMs = 20_000) {
      const id = ++next;
      const answer = queue.then(async () => {
        p.write(`${id} ${cmd}\n`);
        const line = await p.stdout.waitFor((l) => l.startsWith(`R ${id} `) || l === `R ${id}`, timeoutMs, `${name}: ${cmd}`);
        return line.slice(`R ${id} `.length);
      });
      queue = answer.catch(() => undefined);
      return answer;
    },
    stop: (ms) => p.stop(ms),
  };
}

/** The visible Courier node `name` on `host` (TLS with `tlsOptfile`; checking the dialled hosts' names with `checkHostname`). */
export async function courierGp(host: ClusterHost, name: string, cookie: string, tlsOptfile?: string, checkHostname = false, ticktime = TICKTIME): Promise<GpNode> {
  const args = ['--name', name, '--cookie', cookie, '--net-ticktime', String(ticktime)];
  if (tlsOptfile !== undefined) args.push('--tls-optfile', tlsOptfile);
  if (checkHostname) args.push('--check-hostname');
  return driver(name, await host.startNode(GP_NODE, args, { ready: `READY ${name}` }));
}

/** erl `name` on `host` with pg started and net_ticktime `ticktime` (TLS with `tlsOptfile`). */
export async function erlGp(host: ClusterHost, name: string, cookie: string, tlsOptfile?: string, ticktime = TICKTIME): Promise<GpNode> {
  const tls = tlsOptfile === undefined ? [] : ['-proto_dist', 'inet_tls', '-ssl_dist_optfile', tlsOptfile];
  const e = host.startErl({
    name,
    cookie,
    codePath: [await gpBeams()],
    eval: 'gp_peer:serve().',
    args: ['-kernel', 'net_ticktime', String(ticktime), '-kernel', 'start_pg', 'true', ...tls],
  });
  await e.stdout.waitFor('READY', 30_000);
  return driver(e.node as string, e);
}

/** Poll `probe` until `ok`, at most `ms`; the error says what was last seen. */
export async function eventually<T>(probe: () => Promise<T>, ok: (v: T) => boolean, ms: number, what: string): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (ok(v)) return v;
    if (Date.now() > end) throw new Error(`no ${what} within ${ms} ms; last: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
