import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCluster, netnsPeer, randomCookie, uniqueName, type Cluster, type ClusterHost, type HostProcess, type ErlNode } from '@courier/testkit';
import { TICKTIME, erlPeer, events, hostCerts, startPeer, startProbe, waitEv } from './cluster.js';

/**
 * The Erlang distribution across hosts: a Courier node on host a (listening on 0.0.0.0,
 * registered with a's own EPMD) and real erl nodes on hosts b and c, each host a network
 * namespace of the testkit's cluster with its own address and /etc/hosts. Long names by host name
 * and by address, over TCP and TLS (each host's certificate names it); partitions with
 * net_ticktime 4 s — a pulled cable, a cut between two hosts only, a connection stalled by the
 * fault proxy on host p — give nodedown on both sides within OTP's bound, noconnection to links
 * and monitors, and a new connection on demand after healing with no duplicate and in order.
 */
const netns = netnsPeer();
const T = TICKTIME * 1000;
// OTP's bound is T×¾..T×1¼ after the last byte; the cut falls anywhere within a tick, and both
// programs' timers and the line reading add a little: 300 ms either way.
const SLACK = 300;

let cluster: Cluster | undefined;
let certs: ReturnType<typeof hostCerts> | undefined;
const running: { stop(ms?: number): Promise<unknown> }[] = [];

const host = (n: string): ClusterHost => (cluster as Cluster).host(n);
async function probe(h: string, name: string, cookie: string, tls = false, mine = running): Promise<HostProcess> {
  const p = await startProbe(host(h), name, cookie, tls ? { tlsOptfile: certs?.optfile.get(h) } : {});
  mine.push(p);
  return p;
}
async function erl(h: string, name: string, cookie: string, evalExpr: string, tls = false, mine = running): Promise<ErlNode> {
  const e = await startPeer(host(h), name, cookie, evalExpr, tls ? certs?.optfile.get(h) : undefined);
  mine.push(e);
  return e;
}
async function stopAll(mine = running): Promise<void> {
  await Promise.all(mine.splice(0).map((p) => p.stop(3000)));
}

beforeAll(async () => {
  if (!netns.available || !erlPeer.available) return;
  cluster = await createCluster({ hosts: ['a', 'b', 'c', 'p'] });
  await Promise.all(['a', 'b', 'c'].map((h) => host(h).startEpmd()));
  certs = hostCerts(cluster.hosts);
});
afterAll(async () => {
  await stopAll();
  await cluster?.teardown();
  if (certs !== undefined) rmSync(certs.certs.dir, { recursive: true, force: true });
});

describe.each([
  { carrier: 'tcp', tls: false },
  { carrier: 'tls', tls: true },
])('erl on b and c reach a Courier node on a over $carrier', ({ tls }) => {
  // Both at once (each with its own nodes and cookie): the suite stays within its time budget.
  it.concurrent.for([
    { how: 'by host name', courier: 'a.cluster.test', b: 'b.cluster.test', c: 'c.cluster.test' },
    { how: 'by address', courier: '10.77.0.1', b: '10.77.0.2', c: '10.77.0.3' },
  ])('$how', async ({ courier, b, c }, ctx) => {
    netns.require(ctx);
    erlPeer.require(ctx);
    const cookie = randomCookie();
    const ts = `${uniqueName('ts')}@${courier}`;
    const mine: { stop(ms?: number): Promise<unknown> }[] = [];
    try {
      await probe('a', ts, cookie, tls, mine);
      // Registered with a's EPMD, listening on every interface.
      expect(host('a').exec('epmd', ['-names'])).toContain(`name ${ts.split('@')[0]} at port`);
      const peers = await Promise.all([
        erl('b', `${uniqueName('b')}@${b}`, cookie, `cluster_peer:reach('${ts}').`, tls, mine),
        erl('c', `${uniqueName('c')}@${c}`, cookie, `cluster_peer:reach('${ts}').`, tls, mine),
      ]);
      await Promise.all(peers.map((e) => e.stdout.waitFor('EV reached', 20_000)));
    } finally {
      await stopAll(mine);
    }
  });
});

/** Whether a TCP connection from host `from` to port 4369 (EPMD) of `address` opens within a second. */
function reaches(from: string, address: string): boolean {
  try {
    host(from).exec('timeout', ['1', 'bash', '-c', `exec 3<>/dev/tcp/${address}/4369`]);
    return true;
  } catch {
    return false;
  }
}

type Fault = { kind: string; cut(c: Cluster): Promise<void> | void; heal(c: Cluster): Promise<void> | void; courierHost: string };

describe('partitions with net_ticktime 4 s', () => {
  let proxyFault: { stall(): Promise<void>; resume(): Promise<void>; stop(): Promise<void> } | undefined;
  const faults: Fault[] = [
    { kind: 'host b cut off (link down)', courierHost: 'a.cluster.test', cut: (c) => c.cut('b'), heal: (c) => c.heal('b') },
    {
      kind: 'the pair a–b cut, both still reach c',
      courierHost: 'a.cluster.test',
      cut: (c) => {
        c.cutPair('a', 'b');
        // c still reaches both EPMDs; b no longer reaches a's.
        expect(reaches('c', c.host('a').address)).toBe(true);
        expect(reaches('c', c.host('b').address)).toBe(true);
        expect(reaches('b', c.host('a').address)).toBe(false);
      },
      heal: (c) => c.healPair('a', 'b'),
    },
    {
      // The node's host name is p: b reaches its EPMD and its port through the proxy on p.
      kind: 'the connection stalled by the fault proxy (not closed)',
      courierHost: 'p.cluster.test',
      cut: () => (proxyFault as { stall(): Promise<void> }).stall(),
      heal: () => (proxyFault as { resume(): Promise<void> }).resume(),
    },
  ];

  it.for(faults)('$kind: nodedown on both sides in bound, noconnection, reconnect on demand, no duplicates', async (fault, ctx) => {
    netns.require(ctx);
    erlPeer.require(ctx);
    const c = cluster as Cluster;
    const cookie = randomCookie();
    const ts = `${uniqueName('ts')}@${fault.courierHost}`;
    try {
      const courier = await probe('a', ts, cookie);
      if (fault.courierHost.startsWith('p.')) {
        const port = Number(
          /at port (\d+)/.exec(
            host('a')
              .exec('epmd', ['-names'])
              .split('\n')
              .find((l) => l.includes(ts.split('@')[0] as string)) ?? '',
          )?.[1],
        );
        const epmd = await host('p').faultProxy(4369, { host: host('a').address, port: 4369 });
        proxyFault = await host('p').faultProxy(port, { host: host('a').address, port });
        running.push({ stop: () => epmd.stop() }, { stop: () => (proxyFault as { stop(): Promise<void> }).stop() });
      }
      const peer = await erl('b', `${uniqueName('b')}@b.cluster.test`, cookie, `cluster_peer:watch('${ts}', 20).`);
      await peer.stdout.waitFor('EV watching', 20_000);
      const before = await waitEv(courier, 'seq', (e) => e.ev === 'seq' && (e.n ?? 0) > 20, 0, 5000);
      expect(before.n).toBeGreaterThan(20);

      const cutAt = Date.now();
      await fault.cut(c);
      const inBound = (e: { at: number }): void => {
        expect(e.at - cutAt).toBeGreaterThanOrEqual((T * 3) / 4 - SLACK);
        expect(e.at - cutAt).toBeLessThanOrEqual((T * 5) / 4 + SLACK);
      };
      const [erlDown, courierDown] = await Promise.all([
        waitEv(peer, 'nodedown on erl', (e) => e.ev === 'nodedown', cutAt, 2 * T),
        waitEv(courier, 'nodedown on Courier', (e) => e.ev === 'nodedown', cutAt, 2 * T),
      ]);
      inBound(erlDown);
      inBound(courierDown);
      expect(erlDown.arg).toContain('net_tick_timeout');
      expect(courierDown.arg).toBe('net_tick_timeout');
      // Links and monitors across the connection fire noconnection, on both sides.
      for (const p of [peer, courier]) {
        for (const kind of ['DOWN', 'EXIT']) await waitEv(p, `${kind} noconnection`, (e) => e.ev === kind && e.arg === 'noconnection', cutAt, 2000);
      }
      const lastBefore = Math.max(...events(courier).map((e) => e.n ?? 0));

      await fault.heal(c);
      const healedAt = Date.now();
      // erl keeps sending to {sink, Node}: the send itself brings a new connection up.
      await waitEv(courier, 'nodeup after the heal', (e) => e.ev === 'nodeup', healedAt, 3 * T);
      await waitEv(peer, 'nodeup after the heal', (e) => e.ev === 'nodeup', healedAt, 3 * T);
      await waitEv(courier, 'seq after the heal', (e) => e.ev === 'seq' && (e.n ?? 0) > lastBefore + 20, healedAt, 3 * T);
      // No message twice, none out of order (a gap is what a partition may cost).
      const seqs = events(courier).flatMap((e) => (e.ev === 'seq' && e.n !== undefined ? [e.n] : []));
      for (let i = 1; i < seqs.length; i++) expect(seqs[i] as number).toBeGreaterThan(seqs[i - 1] as number);
    } finally {
      await fault.heal(c);
      await stopAll();
    }
  });
});
