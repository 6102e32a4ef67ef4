import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Node, rpcCall } from '@courier/core';
import { atom } from '@courier/term';
import { tcpDist } from '@courier/transport-tcp';
import { dnsA, dnsSrv, formCluster, type Cluster, type MembershipChange } from '@courier/discovery';
import { randomCookie, startErl, uniqueName, type ErlNode } from '@courier/testkit';
import { startTestDns, type TestDns } from '../../packages/discovery/test/dns-server.js';
import { courierNode, erlPeer, freePort, inProcess, startEpmd, until, type Epmd } from '../erlang/harness.js';

/**
 * Cluster formation by DNS against real OTP 25, with a DNS server started here (dns2) answering
 * for loopback "hosts" 127.0.0.x. As in a Kubernetes StatefulSet behind a headless service, every
 * node has the same basename and its own address, and the cluster runs EPMD-less (OTP's
 * `-start_epmd false -erl_epmd_port P`): each node listens on the one agreed port of its address.
 */
const BIN = fileURLToPath(new URL('../../packages/cli/bin/courier.mjs', import.meta.url));
const SERVICE = 'cf-app.default.svc.cluster.local';
const cookie = randomCookie();
let dns: TestDns;
let dir: string;
const erls: ErlNode[] = [];
const nodes: Node[] = [];
const clusters: Cluster[] = [];
const children: ChildProcess[] = [];

beforeAll(async () => {
  dns = await startTestDns();
  dir = mkdtempSync(join(tmpdir(), 'cf-dns-'));
});
afterAll(async () => {
  for (const c of clusters) await c.stop();
  for (const n of nodes) await n.stop();
  for (const ch of children) if (ch.exitCode === null && ch.pid !== undefined) ch.kill('SIGKILL');
  for (const e of erls) await e.stop();
  await dns.close();
  rmSync(dir, { recursive: true, force: true });
});

/** An EPMD-less erl `basename@ip` on `ip:port`; `eval` runs once it is up (after `UP`). */
async function erlAt(basename: string, ip: string, port: number, evalExpr = 'ok'): Promise<ErlNode> {
  const e = startErl({
    name: `${basename}@${ip}`,
    cookie,
    args: ['-start_epmd', 'false', '-erl_epmd_port', String(port), '-kernel', 'inet_dist_use_interface', `{${ip.replace(/\./g, ',')}}`],
    eval: `io:format("UP~n"), ${evalExpr}.`,
  });
  erls.push(e);
  await e.stdout.waitFor('UP', 15_000);
  return e;
}

/** Wait, in erl, until `node` is in nodes(); print JOINED with the sorted nodes(). */
const awaitJoin = (node: string) =>
  `W = fun W(0) -> io:format("JOINED timeout ~p~n", [nodes()]); W(N) -> case lists:member('${node}', nodes()) of true -> io:format("JOINED ~p~n", [lists:sort(nodes())]); false -> timer:sleep(50), W(N - 1) end end, W(400)`;

describe('DNS strategies with real erl nodes', () => {
  it('A records of a headless service: erl nodes found are connected, and one removed from DNS leaves', async (ctx) => {
    erlPeer.require(ctx);
    const port = await freePort();
    const base = uniqueName('cfa');
    const [e2, e3] = [await erlAt(base, '127.0.0.2', port), await erlAt(base, '127.0.0.3', port)];
    dns.zone.set(SERVICE, { a: ['127.0.0.2', '127.0.0.3', '127.0.0.4'] });
    const c = new Node({ name: `${base}@127.0.0.4`, transports: [tcpDist({ cookie, epmd: false, listen: { host: '127.0.0.4', port }, peerPort: port, hidden: false })] });
    nodes.push(c);
    await c.start();
    const cl = formCluster(c, { strategies: [dnsA({ query: SERVICE, basename: base, servers: dns.servers })], intervalMs: 200 });
    clusters.push(cl);
    const seen: string[] = [];
    cl.changes$.subscribe((x: MembershipChange) => seen.push(`${x.type === 'joined' ? '+' : '-'}${x.node.name}`));
    await until(() => cl.members().length === 2, 15_000, 'both erl nodes joined');
    expect(
      c
        .nodes()
        .map((n) => n.name)
        .sort(),
    ).toEqual([e2.node, e3.node].sort());
    // A visible member: erl lists the Courier node in nodes().
    const seenByErl = await inProcess(c, (self) => rpcCall(self, atom(e2.node as string), atom('erlang'), atom('nodes'), [], 5000));
    expect(seenByErl).toEqual([c.name]);
    // 127.0.0.3 leaves the service: out of the member list at the next round (its connection stays).
    dns.zone.set(SERVICE, { a: ['127.0.0.2', '127.0.0.4'] });
    await until(() => cl.members().length === 1, 15_000, 'the unlisted node left');
    expect(seen).toEqual(expect.arrayContaining([`+${e2.node}`, `+${e3.node}`, `-${e3.node}`]));
  });

  it('SRV records → basename@target: an erl node registered with EPMD on the target host is connected', async (ctx) => {
    erlPeer.require(ctx);
    const epmd: Epmd = await startEpmd();
    try {
      const base = uniqueName('cfsrv');
      // The SRV target is a host name (`localhost.`, with the trailing dot DNS gives), as erl -name writes it.
      const e = startErl({ name: `${base}@localhost`, cookie, env: { ERL_EPMD_PORT: String(epmd.port) }, eval: 'io:format("UP~n").' });
      erls.push(e);
      await e.stdout.waitFor('UP', 15_000);
      dns.zone.set(`_dist._tcp.${base}.test`, { srv: [{ target: 'localhost', port: 0 }] });
      const c = await courierNode(epmd, cookie, { name: uniqueName('cfsrvts') });
      nodes.push(c);
      const cl = formCluster(c, { strategies: [dnsSrv({ query: `_dist._tcp.${base}.test`, basename: base, servers: dns.servers })], intervalMs: 200 });
      clusters.push(cl);
      await until(() => cl.members().length === 1, 15_000, 'the erl node joined');
      expect(cl.members()).toEqual([atom(e.node as string)]);
      expect(c.nodes('hidden')).toEqual([atom(e.node as string)]);
    } finally {
      await epmd.stop();
    }
  });

  it('`courier node` with a cluster section joins a cluster of erl nodes by DNS', async (ctx) => {
    erlPeer.require(ctx);
    const port = await freePort();
    const base = uniqueName('cfcli');
    const courier = `${base}@127.0.0.7`;
    const service = `${base}.default.svc.cluster.local`;
    // The erl nodes form their cluster first: e6 pings e5 as it starts.
    const e5 = await erlAt(base, '127.0.0.5', port, awaitJoin(courier));
    const e6 = await erlAt(base, '127.0.0.6', port, `io:format("PING ~p~n", [net_adm:ping('${base}@127.0.0.5')])`);
    expect(await e6.stdout.waitFor('PING', 10_000)).toBe('PING pong');
    dns.zone.set(service, { a: ['127.0.0.5', '127.0.0.6', '127.0.0.7'] });
    const config = join(dir, `${base}.yaml`);
    writeFileSync(
      config,
      [
        `node: { name: "${courier}", cookie: "${cookie}", hidden: false }`,
        `carriers:`,
        `  - { kind: tcp, epmd: false, listen: { host: 127.0.0.7, port: ${port} }, peerPort: ${port} }`,
        `cluster:`,
        `  intervalMs: 500`,
        `  strategies:`,
        `    - { kind: dns, query: ${service}, records: [A], servers: ["${dns.servers[0]}"] }`,
        '',
      ].join('\n'),
    );
    const child = spawn(process.execPath, [BIN, 'node', '--config', config], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    // e5 prints the nodes it is connected to once the Courier node is one of them.
    const joined = await e5.stdout.waitFor('JOINED', 20_000);
    expect(joined, err).toBe(`JOINED ${JSON.stringify([courier, e6.node].sort()).replace(/"/g, "'")}`);
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
