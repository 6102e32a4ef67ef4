import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, readdirSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Node } from '@courier/core';
import { tcpDist, type ErlDistOptions } from '@courier/transport-tcp';
import { compileErl, findErl, freePort, requirePeer, startErl, uniqueName, type ErlNode } from '@courier/testkit';

/**
 * Shared set-up of the Erlang interop suites: a private `epmd` on a free port (so tests never
 * touch the machine's EPMD), the fixture module compiled once, Courier nodes and real `erl`
 * nodes registered with that EPMD, and teardown by pid.
 */
export const tools = findErl();
export const erlPeer = requirePeer('erl', tools !== null, 'erl/erlc not on PATH (install Debian erlang-base)');

/**
 * A program of the OTP installation `erl` belongs to (`epmd`, `erl_call`): the install root is
 * two levels above the real `erl` (`<root>/bin/erl`), the tools are in `<root>/erts-<vsn>/bin`.
 */
export function ertsTool(tool: string): string | null {
  if (tools === null) return null;
  const root = dirname(dirname(realpathSync(tools.erl)));
  const erts = readdirSync(root)
    .filter((d) => d.startsWith('erts-'))
    .sort()
    .reverse();
  for (const d of erts) {
    const file = join(root, d, 'bin', tool);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // not in this erts
    }
  }
  return null;
}

export interface Epmd {
  readonly port: number;
  stop(): Promise<void>;
}

/**
 * Start OTP's own epmd on a free port, in the foreground, as our child. `address`: listen on that
 * address only (epmd's `-address`), leaving the port free on the other loopback addresses.
 */
export async function startEpmd(opts: { address?: string } = {}): Promise<Epmd> {
  const port = await freePort();
  const args = ['-port', String(port), ...(opts.address === undefined ? [] : ['-address', opts.address])];
  const child: ChildProcess = spawn('epmd', args, { stdio: 'ignore' });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  // Wait until it accepts connections.
  const { connect } = await import('node:net');
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise<boolean>((r) => {
      const s = connect({ port, host: '127.0.0.1' }, () => {
        s.destroy();
        r(true);
      });
      s.once('error', () => r(false));
    });
    if (ok) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  return {
    port,
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

let fixtureDir: Promise<string> | undefined;
export function fixtures(): Promise<string> {
  fixtureDir ??= compileErl([fileURLToPath(new URL('./fixtures/courier_peer.erl', import.meta.url))], tools).then((c) => c.dir);
  return fixtureDir;
}

export async function erlNode(epmd: Epmd, cookie: string, opts: { name?: string; eval?: string; args?: string[] } = {}): Promise<ErlNode> {
  const name = `${opts.name ?? uniqueName('erl')}@127.0.0.1`;
  const e = startErl({
    name,
    cookie,
    codePath: [await fixtures()],
    env: { ERL_EPMD_PORT: String(epmd.port) },
    eval: opts.eval ?? 'io:format("UP~n").',
    args: opts.args,
  });
  await e.stdout.waitFor('UP', 15_000);
  return e;
}

export async function courierNode(
  epmd: Epmd,
  cookie: string | ((p: import('@courier/term').Atom) => string),
  opts: Partial<ErlDistOptions> & { name?: string } = {},
): Promise<Node> {
  const node = new Node({
    name: `${opts.name ?? uniqueName('ts')}@127.0.0.1`,
    transports: [tcpDist({ cookie, epmd: { port: epmd.port, embedded: false }, ...opts })],
  });
  await node.start();
  return node;
}

export { freePort, inProcess } from '@courier/testkit';

export async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
