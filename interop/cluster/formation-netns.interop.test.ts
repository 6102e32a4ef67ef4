import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCluster, netnsPeer, randomCookie, type Cluster, type ClusterHost, type ErlNode, type HostProcess } from '@courier/testkit';
import { erlPeer } from './cluster.js';

/**
 * Cluster formation across hosts (network namespaces of the testkit's cluster, each with its own
 * address, /etc/hosts and EPMD on 4369): a `courier node` on host d, configured with a DNS
 * strategy (A records of a headless-service-like name → app@<address>), a DNS SRV strategy
 * (→ web@<host name>) and EPMD host scanning (.hosts.erlang naming host e), joins erl nodes on
 * hosts a, b and e. The DNS server (dns2) runs on host c and answers for the namespaced hosts.
 */
const netns = netnsPeer();
const CLI = fileURLToPath(new URL('../../packages/cli/src/cli.ts', import.meta.url));
const DNS = fileURLToPath(new URL('./fixtures/formation-dns.ts', import.meta.url));
const cookie = randomCookie();
let cluster: Cluster | undefined;
let dir: string;
const running: { stop(ms?: number): Promise<unknown> }[] = [];
const host = (n: string): ClusterHost => (cluster as Cluster).host(n);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cf-netns-'));
  if (!netns.available || !erlPeer.available) return;
  cluster = await createCluster({ hosts: ['a', 'b', 'c', 'd', 'e'], subnet: 17 });
  await Promise.all(['a', 'b', 'd', 'e'].map((h) => host(h).startEpmd()));
});
afterAll(async () => {
  await Promise.all(running.splice(0).map((p) => p.stop(3000)));
  await cluster?.teardown();
  rmSync(dir, { recursive: true, force: true });
});

/** An erl on `h` that prints `JOINED <nodes()>` once `courier` is among its nodes. */
async function erlAwaiting(h: string, name: string, courier: string): Promise<ErlNode> {
  const e = host(h).startErl({
    name,
    cookie,
    eval: `io:format("UP~n"), W = fun W(0) -> io:format("JOINED timeout ~p~n", [nodes()]); W(N) -> case lists:member('${courier}', nodes()) of true -> io:format("JOINED ~p~n", [lists:member('${courier}', nodes())]); false -> timer:sleep(50), W(N - 1) end end, W(600).`,
  });
  running.push(e);
  await e.stdout.waitFor('UP', 20_000);
  return e;
}

describe('cluster formation across hosts', () => {
  it('a courier node on d finds erl nodes on a, b (DNS A and SRV, server on c) and e (EPMD scan) and connects them', async (ctx) => {
    netns.require(ctx);
    erlPeer.require(ctx);
    const [a, b, c, d, e] = ['a', 'b', 'c', 'd', 'e'].map(host) as [ClusterHost, ClusterHost, ClusterHost, ClusterHost, ClusterHost];
    const courier = `app@${d.address}`;
    const erls = await Promise.all([
      erlAwaiting('a', `app@${a.address}`, courier),
      erlAwaiting('b', `app@${b.address}`, courier),
      erlAwaiting('a', `web@${a.hostname}`, courier),
      erlAwaiting('b', `web@${b.hostname}`, courier),
      erlAwaiting('e', `scan@${e.hostname}`, courier),
    ]);
    const zone = {
      'app.default.svc.cluster.test': { a: [a.address, b.address, d.address] },
      '_dist._tcp.web.cluster.test': { srv: [a.hostname, b.hostname].map((t) => ({ target: `${t}.`, port: 0 })) },
    };
    const dns: HostProcess = await c.startNode(DNS, [c.address, JSON.stringify(zone)], { ready: 'DNS READY' });
    running.push(dns);
    const hostsFile = join(dir, '.hosts.erlang');
    writeFileSync(hostsFile, `'${e.hostname}'.\n`);
    const config = join(dir, 'node.yaml');
    writeFileSync(
      config,
      [
        `node: { name: "${courier}", cookie: "${cookie}", hidden: false }`,
        `echo: false`,
        `carriers:`,
        `  - { kind: tcp, listen: { host: 0.0.0.0 } }`,
        `cluster:`,
        `  intervalMs: 500`,
        `  strategies:`,
        `    - { kind: dns, query: app.default.svc.cluster.test, servers: ["${c.address}"] }`,
        `    - { kind: dns-srv, query: _dist._tcp.web.cluster.test, basename: web, servers: ["${c.address}"] }`,
        `    - { kind: epmd-hosts, hostsFile: "${hostsFile}" }`,
        '',
      ].join('\n'),
    );
    const node = await d.startNode(CLI, ['node', '--config', config], { ready: /^READY/ });
    running.push(node);
    for (const x of erls) expect(await x.stdout.waitFor('JOINED', 30_000), x.node).toBe('JOINED true');
  });
});
