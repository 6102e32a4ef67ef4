import { afterEach, describe, expect, it } from 'vitest';
import { atom, atoms, type Atom } from '@courier/term';
import { CarrierError, Node, type NodeEvent, type Transport } from '@courier/core';
import { Recorder, rejection, within } from '@courier/carrier-compliance';
import { MemoryNetwork } from '../src/memory-network.js';
import { memoryDist, type MemoryDistOptions } from '../src/memory-dist.js';

const DEADLINE = 5000;
let made: Node[] = [];

afterEach(async () => {
  for (const n of made) await n.stop();
  made = [];
});

async function node(network: MemoryNetwork, name: string, opts: Partial<MemoryDistOptions> = {}): Promise<Node> {
  const n = new Node({ name, transports: [memoryDist({ network, cookie: 'c', ...opts })] });
  made.push(n);
  return n.start();
}

/** One connection attempt through the node's pipeline over `t`, to see its typed error. */
const attempt = (n: Node, t: Transport, peer: Atom): Promise<unknown> => Promise.resolve().then(() => n.pipeline.dial(peer, t.dialer(peer)));

const events = (n: Node) => new Recorder<NodeEvent>({ subscribe: (fn) => n.events$.subscribe(fn) });

async function pingPong(a: Node, b: Node): Promise<void> {
  const got = new Promise<unknown>((resolve) => {
    b.spawn(async (self) => resolve(await self.receive(undefined, DEADLINE)), { name: atom('pp') });
  });
  a.send({ name: 'pp', node: b.name }, atom('ping'));
  expect(await within(got, DEADLINE, 'ping')).toBe(atom('ping'));
}

describe('memoryDist', () => {
  it('a hidden node is listed by nodes("hidden"), not nodes(), on both sides', async () => {
    const net = new MemoryNetwork();
    const a = await node(net, 'a@h', { hidden: true });
    const b = await node(net, 'b@h');
    expect(await a.connect(b.name)).toBe(true);
    await pingPong(a, b);
    expect(a.nodes()).toEqual([]);
    expect(a.nodes('hidden')).toEqual([b.name]);
    expect(b.nodes()).toEqual([]);
    expect(b.nodes('hidden')).toEqual([a.name]);
  });

  it('refuses a second listener with the same name, and dials to nobody with CONNECTION_REFUSED', async () => {
    const net = new MemoryNetwork();
    const a = await node(net, 'a@h');
    const twin = new Node({ name: 'a@h', transports: [memoryDist({ network: net, cookie: 'c' })] });
    const err = await rejection(twin.start(), DEADLINE, 'second listener');
    expect(err).toBeInstanceOf(CarrierError);
    expect((err as CarrierError).code).toBe('ADDRESS_IN_USE');
    const t = memoryDist({ network: net, cookie: 'c' });
    const host = new Node({ name: 'x@h', transports: [t] });
    made.push(host);
    await host.start();
    const refused = await rejection(attempt(host, t, atom('nobody@h')), DEADLINE, 'dial to nobody');
    expect((refused as CarrierError).code).toBe('CONNECTION_REFUSED');
    expect(await a.connect(atom('nobody@h'))).toBe(false);
  });

  it('stop() closes the sessions (the peer sees nodedown) and later connects fail', async () => {
    const net = new MemoryNetwork();
    const t = memoryDist({ network: net, cookie: 'c' });
    const a = new Node({ name: 'a@h', transports: [t] });
    made.push(a);
    await a.start();
    const b = await node(net, 'b@h');
    const eb = events(b);
    expect(await a.connect(b.name)).toBe(true);
    await t.stop();
    await eb.next((e) => e.type === 'nodedown' && e.node === a.name, DEADLINE, 'nodedown at b');
    expect(net.isListening(a.name)).toBe(false);
    expect(((await rejection(attempt(a, t, b.name), DEADLINE, 'after stop')) as CarrierError).code).toBe('NOT_RUNNING');
    expect(net.openConnections()).toBe(0);
  });

  it('alive: a peer that still holds a stale connection replaces it when we connect again', async () => {
    const net = new MemoryNetwork();
    const a = await node(net, 'a@h');
    const b = await node(net, 'b@h');
    const eb = events(b);
    expect(await a.connect(b.name)).toBe(true);
    await eb.next((e) => e.type === 'nodeup', DEADLINE, 'first nodeup at b');
    // a forgets its connection without closing it: b still believes it is up.
    const stale = a.dist.session(b.name);
    a.dist.down(b.name, atoms.noconnection, stale);
    expect(a.nodes()).toEqual([]);
    expect(await within(a.connect(b.name), DEADLINE, 'reconnect')).toBe(true);
    await eb.next((e) => e.type === 'nodedown', DEADLINE, 'b drops the stale connection');
    await pingPong(a, b);
    expect(eb.count((e) => e.type === 'nodeup')).toBe(2);
    expect(eb.count((e) => e.type === 'nodedown')).toBe(1);
    expect(b.nodes()).toEqual([a.name]);
    expect(a.nodes()).toEqual([b.name]);
    expect(net.openConnections()).toBe(1);
  });
});
