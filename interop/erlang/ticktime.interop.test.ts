import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Node, rpcCall, type NodeEvent } from '@courier/core';
import { Tuple, atom, type Atom, type Term } from '@courier/term';
import { tcpDist, type ErlDistOptions, type ErlDistTransport } from '@courier/transport-tcp';
import { randomCookie, uniqueName } from '@courier/testkit';
import { erlNode, erlPeer, inProcess, startEpmd, type Epmd } from './harness.js';
import { TICK, collectingLogger, fakePeer, within, type LogEntry } from './fake-peer.js';

/**
 * net_ticktime with `netTicktime: 2`: Courier ticks every 0.5 s on an idle connection, declares a
 * silent peer down after 4 silent intervals (2–2.5 s), keeps a ticking peer; and a real OTP node
 * with the same net_ticktime keeps the connection only because Courier ticks.
 */
const TICKTIME = 2;

let cookie: string;
let node: Node;
let transport: ErlDistTransport;
let entries: LogEntry[];

/** A node with the given ticktime, without EPMD (fake peers dial its port directly). */
async function tickNode(o: Partial<ErlDistOptions> = {}): Promise<{ node: Node; transport: ErlDistTransport; entries: LogEntry[] }> {
  const c = collectingLogger();
  const t = tcpDist({ cookie, epmd: false, netTicktime: TICKTIME, ...o });
  const n = new Node({ name: `${uniqueName('tick')}@127.0.0.1`, log: c.log, transports: [t] });
  await n.start();
  return { node: n, transport: t, entries: c.entries };
}

type NodeDown = Extract<NodeEvent, { type: 'nodedown' }> & { at: number };

function nodedown(n: Node, peer: Atom): Promise<NodeDown> {
  return new Promise((resolve) => {
    const sub = n.events$.subscribe((e) => {
      if (e.type === 'nodedown' && e.node === peer) {
        sub.unsubscribe();
        resolve({ ...e, at: Date.now() });
      }
    });
  });
}

beforeAll(async () => {
  cookie = randomCookie();
  ({ node, transport, entries } = await tickNode());
});
afterAll(() => node?.stop());

describe('net_ticktime against a fake peer', () => {
  it('a silent peer: Courier ticks every ticktime/4, then declares it down within the bound', async () => {
    const p = await fakePeer(transport.port as number, node.name, { cookie });
    const down = nodedown(node, p.name);
    const ev = await within(down, 5000, 'nodedown of the silent peer');
    const after = ev.at - p.upAt;
    // 4 silent intervals of 0.5 s: 2 s after the last byte read (none here), plus timer slack.
    expect(after).toBeGreaterThanOrEqual(1900);
    expect(after).toBeLessThan(3000);
    expect(ev.reason).toBe(atom('net_tick_timeout'));
    await within(p.closed, 1000, 'the socket to close');
    // Courier wrote nothing else, so it ticked: first within ticktime/4 (+ slack), then every 0.5 s.
    expect(p.received).toEqual([]);
    expect(p.ticks.length).toBeGreaterThanOrEqual(3);
    expect(p.ticks[0]).toBeLessThan(500 + 300);
    for (let i = 1; i < p.ticks.length; i++) expect((p.ticks[i] as number) - (p.ticks[i - 1] as number)).toBeGreaterThan(300);
    expect(entries.some((e) => e.level === 'warn' && e.msg === 'net_tick_timeout: peer silent, closing connection' && e.fields['peer'] === p.name.name)).toBe(true);
  });

  it('a peer that ticks stays up past 2 × ticktime, and goes down once it stops', async () => {
    const p = await fakePeer(transport.port as number, node.name, { cookie });
    const downs: NodeEvent[] = [];
    const sub = node.events$.subscribe((e) => e.type === 'nodedown' && e.node === p.name && downs.push(e));
    const ticker = setInterval(() => p.write(TICK), 400);
    try {
      // There is no event for "stayed up": watch for 2 × ticktime that none comes.
      await new Promise((r) => setTimeout(r, 2 * TICKTIME * 1000));
      expect(downs).toEqual([]);
      expect(p.isClosed).toBe(false);
      expect(node.nodes('all')).toContain(p.name);
    } finally {
      clearInterval(ticker);
      sub.unsubscribe();
    }
    const stopped = Date.now();
    const ev = await within(nodedown(node, p.name), 5000, 'nodedown once the ticks stop');
    expect(ev.at - stopped).toBeGreaterThanOrEqual(1500);
    expect(ev.at - stopped).toBeLessThan(3200);
  }, 15_000);

  it('any traffic counts as life: a peer sending messages but no ticks stays up', async () => {
    const p = await fakePeer(transport.port as number, node.name, { cookie });
    const downs: NodeEvent[] = [];
    const sub = node.events$.subscribe((e) => e.type === 'nodedown' && e.node === p.name && downs.push(e));
    const talker = setInterval(() => p.regSend(atom('no_such_name'), atom('hello')), 400);
    try {
      await new Promise((r) => setTimeout(r, 1.5 * TICKTIME * 1000));
      expect(downs).toEqual([]);
      expect(p.isClosed).toBe(false);
    } finally {
      clearInterval(talker);
      sub.unsubscribe();
      p.close();
    }
  }, 10_000);
});

describe('net_ticktime against OTP 25', () => {
  let epmd: Epmd | undefined;
  beforeAll(async () => {
    if (erlPeer.available) epmd = await startEpmd();
  });
  afterAll(() => epmd?.stop());

  /** A Courier node registered in the private EPMD, connected to an erl with net_ticktime 2. */
  async function pair(courierTicktime: number) {
    const c = collectingLogger();
    const n = new Node({
      name: `${uniqueName('tick')}@127.0.0.1`,
      log: c.log,
      transports: [tcpDist({ cookie, epmd: { port: (epmd as Epmd).port, embedded: false }, netTicktime: courierTicktime })],
    });
    await n.start();
    const e = await erlNode(epmd as Epmd, cookie, { args: ['-kernel', 'net_ticktime', String(TICKTIME)] });
    const E = atom(e.node as string);
    expect(await n.connect(E)).toBe(true);
    return { n, e, E };
  }

  it('an erl with net_ticktime 2 keeps an idle connection to a Courier node with netTicktime 2', async (ctx) => {
    erlPeer.require(ctx);
    const { n, e, E } = await pair(TICKTIME);
    try {
      const downs: NodeEvent[] = [];
      const sub = n.events$.subscribe((ev) => ev.type === 'nodedown' && downs.push(ev));
      // Idle for 2.5 × ticktime: without Courier's ticks erl would drop it after ~2 s (next test).
      await new Promise((r) => setTimeout(r, 2.5 * TICKTIME * 1000));
      sub.unsubscribe();
      expect(downs).toEqual([]);
      const seen = (await inProcess(n, (self) => rpcCall(self, E, atom('courier_peer'), atom('nodes_seen'), []))) as Tuple;
      expect(seen.elements[1] as Term[]).toContain(n.name);
    } finally {
      await n.stop();
      await e.stop();
    }
  }, 20_000);

  it('control: with Courier at the default ticktime (60 s) the same erl drops it within ~ticktime', async (ctx) => {
    erlPeer.require(ctx);
    const { n, e, E } = await pair(60);
    try {
      const t0 = Date.now();
      await within(nodedown(n, E), 6000, 'erl to drop the connection');
      expect(Date.now() - t0).toBeGreaterThan(1000);
    } finally {
      await n.stop();
      await e.stop();
    }
  }, 20_000);
});
