import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startErl, type ErlNode, type StartErlOptions } from '../erl.js';
import { requirePeer, type Peer } from '../peer.js';
import { NS_PREFIX, ip, netnsSupport, removeNamespace, sweepStaleNamespaces } from './ip.js';
import { spawnIn, type HostProcess, type SpawnInOptions } from './host-process.js';

/**
 * A test cluster of N "hosts" on one machine: each host is a network namespace with `lo` and
 * one interface `eth0` at 10.77.<subnet>.<i+1>/24, plugged by a veth pair into a bridge that lives
 * in a namespace of its own (the switch), so nothing is added to the machine's own network.
 * Host names resolve through the system resolver: every host gets /etc/netns/<ns>/hosts, which
 * `ip netns exec` bind-mounts over /etc/hosts for what runs there (erl, epmd, Courier nodes).
 *
 * Faults: `cut(host)` takes the host's switch port down (a pulled cable: no FIN, no RST, its
 * packets vanish), `cutPair(a, b)` blackholes the two hosts' addresses for each other only (routes
 * in both namespaces, no iptables), and `host.faultProxy()` runs the userspace fault proxy
 * (latency, bandwidth, stall, reset) inside a host. `teardown()` stops every process, deletes the
 * namespaces and the hosts files, also after a failure; `createCluster` first sweeps what dead
 * runs left behind (`cn-<pid>-…` whose pid is gone).
 */
export interface ClusterOptions {
  /** Short host names, e.g. `['a', 'b', 'c']`; each gets the FQDN `<name>.<domain>`. */
  readonly hosts: readonly string[];
  /** Default `cluster.test`. */
  readonly domain?: string;
  /** Third octet of 10.77.x.0/24 (namespaces are private, so clusters never clash). Default 0. */
  readonly subnet?: number;
}

export interface ClusterHost {
  /** Short name, as given. */
  readonly name: string;
  /** Fully qualified host name (`a.cluster.test`), for long node names. */
  readonly hostname: string;
  readonly address: string;
  /** The namespace (`ip netns exec <ns> …`). */
  readonly ns: string;
  /** Start a program in this host; stopped at teardown. */
  spawn(cmd: string, args: readonly string[], opts?: SpawnInOptions): HostProcess;
  /** Run a program in this host to completion; returns its stdout. */
  exec(cmd: string, args: readonly string[]): string;
  /** Start this host's EPMD (OTP's epmd on 4369, in the foreground); resolves once it answers. */
  startEpmd(): Promise<void>;
  /** Start `erl` in this host (its EPMD must run: `-start_epmd false`); a bare `name` gets `@<hostname>`. */
  startErl(opts: StartErlOptions): ErlNode;
  /** Start a TypeScript program (a Courier node) with tsx in this host; waits for `ready` on stdout when given. */
  startNode(script: string, args: readonly string[], opts?: { ready?: string | RegExp; timeoutMs?: number }): Promise<HostProcess>;
  /** Run the fault proxy in this host, listening on `listenPort` (0: any) and forwarding to `target`. */
  faultProxy(listenPort: number, target: { host: string; port: number }): Promise<RemoteFaultProxy>;
}

/** The fault proxy running in a host; each call resolves once the proxy has applied it. */
export interface RemoteFaultProxy {
  readonly port: number;
  latency(ms: number): Promise<void>;
  bandwidth(bytesPerSecond: number): Promise<void>;
  stall(): Promise<void>;
  resume(): Promise<void>;
  reset(): Promise<void>;
  stop(): Promise<void>;
}

export interface Cluster {
  readonly hosts: readonly ClusterHost[];
  host(name: string): ClusterHost;
  /** The hosts file every host has (`127.0.0.1 localhost`, then `<address> <fqdn> <name>` a line). */
  readonly hostsFile: string;
  /** Host name (short and FQDN) → address, for resolvers that do not read /etc/hosts. */
  readonly hostsMap: Readonly<Record<string, string>>;
  /** Cut a host off: its switch port goes down. */
  cut(host: string): void;
  heal(host: string): void;
  /** Cut the traffic between two hosts only (both directions); each still reaches the others. */
  cutPair(a: string, b: string): void;
  healPair(a: string, b: string): void;
  /** Stop every process started in the cluster, delete its namespaces and files. Never throws. */
  teardown(): Promise<void>;
}

/** The policy for tests that need the cluster: skipped with the reason outside CI, failed in CI. */
export function netnsPeer(): Peer {
  const s = netnsSupport();
  return requirePeer('netns', s.available, s.reason);
}

const REPO_ROOT = new URL('../../../../', import.meta.url).pathname;
const PROXY_MAIN = new URL('./proxy-main.ts', import.meta.url).pathname;
let clusters = 0;

export async function createCluster(opts: ClusterOptions): Promise<Cluster> {
  sweepStaleNamespaces();
  const domain = opts.domain ?? 'cluster.test';
  const subnet = opts.subnet ?? 0;
  const id = `${NS_PREFIX}${process.pid}-${++clusters}`;
  const sw = `${id}-sw`;
  const made: string[] = [];
  const procs: HostProcess[] = [];
  const tmp = mkdtempSync(join(tmpdir(), 'courier-netns-'));
  const addressOf = (i: number): string => `10.77.${subnet}.${i + 1}`;
  const hostsMap: Record<string, string> = {};
  opts.hosts.forEach((h, i) => {
    hostsMap[h] = addressOf(i);
    hostsMap[`${h}.${domain}`] = addressOf(i);
  });
  const hostsFile = `127.0.0.1 localhost\n${opts.hosts.map((h, i) => `${addressOf(i)} ${h}.${domain} ${h}`).join('\n')}\n`;

  const teardown = async (): Promise<void> => {
    await Promise.all(procs.map((p) => p.stop(3000).catch(() => undefined)));
    for (const ns of made.reverse()) removeNamespace(ns);
    rmSync(tmp, { recursive: true, force: true });
  };

  try {
    ip('netns', 'add', sw);
    made.push(sw);
    ip('-n', sw, 'link', 'add', 'br0', 'type', 'bridge');
    ip('-n', sw, 'link', 'set', 'br0', 'up');
    const hosts = opts.hosts.map((name, i) => {
      const ns = `${id}-${name}`;
      ip('netns', 'add', ns);
      made.push(ns);
      mkdirSync(`/etc/netns/${ns}`, { recursive: true });
      writeFileSync(`/etc/netns/${ns}/hosts`, hostsFile);
      // The veth pair is made in the switch with its other end straight in the host: nothing in the root namespace.
      ip('-n', sw, 'link', 'add', `p${i}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns);
      ip('-n', sw, 'link', 'set', `p${i}`, 'master', 'br0');
      ip('-n', sw, 'link', 'set', `p${i}`, 'up');
      ip('-n', ns, 'link', 'set', 'lo', 'up');
      ip('-n', ns, 'addr', 'add', `${addressOf(i)}/24`, 'dev', 'eth0');
      ip('-n', ns, 'link', 'set', 'eth0', 'up');
      return makeHost({ name, hostname: `${name}.${domain}`, address: addressOf(i), ns, tmp, procs });
    });
    const byName = new Map(hosts.map((h, i) => [h.name, { host: h, port: `p${i}` }]));
    const find = (name: string): { host: ClusterHost; port: string } => {
      const h = byName.get(name);
      if (h === undefined) throw new Error(`no host ${name} in this cluster (${opts.hosts.join(', ')})`);
      return h;
    };
    const pair = (a: string, b: string, op: 'add' | 'del'): void => {
      const x = find(a).host;
      const y = find(b).host;
      for (const [from, to] of [
        [x, y],
        [y, x],
      ] as const) {
        try {
          ip('-n', from.ns, 'route', op, 'blackhole', `${to.address}/32`);
        } catch (err) {
          // Healing what is not cut (or cutting twice) is no error.
          if (!/No such process|File exists/.test((err as Error).message)) throw err;
        }
      }
    };
    return {
      hosts,
      host: (name) => find(name).host,
      hostsFile,
      hostsMap,
      cut: (name) => void ip('-n', sw, 'link', 'set', find(name).port, 'down'),
      heal: (name) => void ip('-n', sw, 'link', 'set', find(name).port, 'up'),
      cutPair: (a, b) => pair(a, b, 'add'),
      healPair: (a, b) => pair(a, b, 'del'),
      teardown,
    };
  } catch (err) {
    await teardown();
    throw err;
  }
}

function makeHost(h: { name: string; hostname: string; address: string; ns: string; tmp: string; procs: HostProcess[] }): ClusterHost {
  const track = (p: HostProcess): HostProcess => {
    h.procs.push(p);
    return p;
  };
  // erl through a wrapper, so testkit's startErl (and its stop by pid) runs it in the namespace.
  const erlWrapper = join(h.tmp, `erl-${h.name}`);
  writeFileSync(erlWrapper, `#!/bin/sh\nexec ip netns exec ${h.ns} erl "$@"\n`);
  chmodSync(erlWrapper, 0o755);
  const host: ClusterHost = {
    ...h,
    spawn: (cmd, args, opts) => track(spawnIn(h.ns, cmd, args, opts)),
    exec: (cmd, args) => ip('netns', 'exec', h.ns, cmd, ...args),
    async startEpmd() {
      track(spawnIn(h.ns, 'epmd', ['-port', '4369']));
      for (let i = 0; i < 200; i++) {
        try {
          host.exec('epmd', ['-names']);
          return;
        } catch {
          await new Promise((r) => setTimeout(r, 25));
        }
      }
      throw new Error(`epmd did not come up on ${h.hostname}`);
    },
    startErl(opts) {
      const name = opts.name === undefined || opts.name.includes('@') ? opts.name : `${opts.name}@${h.hostname}`;
      // No erl_crash.dump in the working directory when a node fails to boot.
      const env = { ERL_CRASH_DUMP_SECONDS: '0', ...opts.env };
      const e = startErl({ ...opts, name, erl: erlWrapper, env, args: ['-start_epmd', 'false', ...(opts.args ?? [])] });
      track({ pid: e.pid, stdout: e.stdout, stderr: e.stderr, exited: e.exited, stop: (ms) => e.stop(ms), write: (d) => e.write(d) });
      return e;
    },
    async startNode(script, args, opts = {}) {
      const p = track(spawnIn(h.ns, process.execPath, ['--conditions=source', '--import', 'tsx', script, ...args], { cwd: REPO_ROOT }));
      if (opts.ready !== undefined) await p.stdout.waitFor(opts.ready, opts.timeoutMs ?? 30_000);
      return p;
    },
    async faultProxy(listenPort, target) {
      const p = await host.startNode(PROXY_MAIN, ['0.0.0.0', String(listenPort), target.host, String(target.port)]);
      const port = Number((await p.stdout.waitFor(/^LISTENING \d+/, 30_000)).split(' ')[1]);
      const command = async (line: string): Promise<void> => {
        p.write(`${line}\n`);
        await p.stdout.waitFor(`OK ${line.split(' ')[0] ?? ''}`, 5000);
      };
      return {
        port,
        latency: (ms) => command(`latency ${ms}`),
        bandwidth: (rate) => command(`bandwidth ${rate}`),
        stall: () => command('stall'),
        resume: () => command('resume'),
        reset: () => command('reset'),
        stop: async () => void (await p.stop(3000)),
      };
    },
  };
  return host;
}
