import { fileURLToPath } from 'node:url';
import { compileErl, findErl, makeTestCerts, requirePeer, sslDistOptfile, type ClusterHost, type ErlNode, type HostProcess, type TestCerts } from '@courier/testkit';

/**
 * Shared pieces of the multi-host suites: the Courier probe node and the erl fixture run in hosts
 * of a test cluster (@courier/testkit's netns harness), and the `EV …` lines both print.
 */
export const tools = findErl();
export const erlPeer = requirePeer('erl', tools !== null, 'erl/erlc not on PATH (install Debian erlang-base)');
export const TICKTIME = 4;
const PROBE = fileURLToPath(new URL('./fixtures/probe-node.ts', import.meta.url));

let compiled: Promise<string> | undefined;
export function fixtures(): Promise<string> {
  compiled ??= compileErl([fileURLToPath(new URL('./fixtures/cluster_peer.erl', import.meta.url))], tools).then((c) => c.dir);
  return compiled;
}

/** One `EV` line: the Courier node prints JSON, erl prints `EV Kind Arg Millis`. */
export interface Ev {
  readonly ev: string;
  readonly arg: string;
  readonly at: number;
  readonly n?: number;
}

function parse(line: string): Ev | undefined {
  if (!line.startsWith('EV ')) return undefined;
  const rest = line.slice(3);
  if (rest.startsWith('{')) {
    const o = JSON.parse(rest) as { ev: string; at: number; reason?: string; node?: string; n?: number };
    return { ev: o.ev, arg: o.reason ?? o.node ?? '', at: o.at, ...(o.n === undefined ? {} : { n: o.n }) };
  }
  const m = /^(\S+) (.*) (\d+)$/.exec(rest);
  return m === null ? undefined : { ev: (m[1] as string).replace(/'/g, ''), arg: m[2] as string, at: Number(m[3]) };
}

/** Every `EV` line a process printed so far. */
export function events(p: { stdout: { text: string } }): Ev[] {
  return p.stdout.text
    .split('\n')
    .map(parse)
    .filter((e): e is Ev => e !== undefined);
}

/** The first `EV` line after `since` (ms) that `match` accepts, waiting up to `ms`. */
export async function waitEv(p: { stdout: { text: string } }, what: string, match: (e: Ev) => boolean, since: number, ms: number): Promise<Ev> {
  const end = Date.now() + ms;
  for (;;) {
    const e = events(p).find((x) => x.at >= since && match(x));
    if (e !== undefined) return e;
    if (Date.now() > end) throw new Error(`no ${what} within ${ms} ms; saw: ${p.stdout.text.slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The probe Courier node (fixtures/probe-node.ts) named `name`, on `host`. */
export function startProbe(host: ClusterHost, name: string, cookie: string, opts: { tlsOptfile?: string; ticktime?: number } = {}): Promise<HostProcess> {
  const args = ['--name', name, '--cookie', cookie, '--net-ticktime', String(opts.ticktime ?? TICKTIME)];
  if (opts.tlsOptfile !== undefined) args.push('--tls-optfile', opts.tlsOptfile);
  return host.startNode(PROBE, args, { ready: `READY ${name}` });
}

/** erl on `host` running `eval` (cluster_peer is on the code path), with net_ticktime TICKTIME. */
export async function startPeer(host: ClusterHost, name: string, cookie: string, evalExpr: string, tlsOptfile?: string): Promise<ErlNode> {
  const tls = tlsOptfile === undefined ? [] : ['-proto_dist', 'inet_tls', '-ssl_dist_optfile', tlsOptfile];
  return host.startErl({ name, cookie, codePath: [await fixtures()], eval: evalExpr, args: ['-kernel', 'net_ticktime', String(TICKTIME), ...tls] });
}

/**
 * A certificate per host with its names and address, from one test CA, and an ssl_dist_optfile for each.
 * The address is in the certificate twice: as IP (Courier, RFC 6125) and as a DNS name, because OTP 25's
 * inet_tls_dist checks a node name's host part as a DNS name even when it is an address.
 */
export function hostCerts(hosts: readonly ClusterHost[]): { certs: TestCerts; optfile: Map<string, string> } {
  const certs = makeTestCerts();
  const optfile = new Map<string, string>();
  for (const h of hosts) {
    const c = certs.issueFor(`host-${h.name}`, `DNS:${h.hostname},DNS:${h.name},DNS:${h.address},IP:${h.address}`);
    optfile.set(h.name, sslDistOptfile(certs.dir, `dist-${h.name}`, { cert: c.cert, key: c.key, ca: certs.ca }));
  }
  return { certs, optfile };
}
