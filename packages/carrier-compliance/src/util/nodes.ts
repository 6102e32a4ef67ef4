import { atom, type Atom } from '@courier/term';
import type { Node, NodeEvent } from '@courier/core';
import type { CarrierHarness, NodesOptions } from '../harness.js';
import { Recorder } from './deadline.js';

export const COOKIE = 'compliance-cookie';

export const nodeName = (short: string): string => `${short}@localhost`;
export const nodeAtom = (short: string): Atom => atom(nodeName(short));

export interface Peers {
  readonly nodeA: Node;
  readonly nodeB: Node;
  readonly eventsA: Recorder<NodeEvent>;
  readonly eventsB: Recorder<NodeEvent>;
}

/** Node events recorded from now on. */
export function events(node: Node): Recorder<NodeEvent> {
  return new Recorder<NodeEvent>({ subscribe: (fn) => node.events$.subscribe(fn) });
}

export const isUp = (peer: Node) => (e: NodeEvent) => e.type === 'nodeup' && e.node === peer.name;
export const isDown = (peer: Node) => (e: NodeEvent) => e.type === 'nodedown' && e.node === peer.name;

/** Two nodes, connected (both have seen nodeup), with their events recorded. */
export async function connectedPair(h: CarrierHarness, deadline: number, short = ['a', 'b'], opts?: Partial<NodesOptions>): Promise<Peers> {
  const [a, b] = (await h.makeNodes(short.map(nodeName), { cookie: COOKIE, ...opts })) as [Node, Node];
  const ea = events(a);
  const eb = events(b);
  if (!(await a.connect(b.name))) throw new Error(`${a.name.name} could not connect to ${b.name.name}`);
  await ea.next(isUp(b), deadline, 'nodeup at a');
  await eb.next(isUp(a), deadline, 'nodeup at b');
  return { nodeA: a, nodeB: b, eventsA: ea, eventsB: eb };
}
