import { describe, expect, it } from 'vitest';
import { atom, type Atom, type Term } from '@courier/term';
import { UsageError, type DistOp, type Node, type NodeEvent, type Session } from '@courier/core';
import { localNode } from './helpers.js';

/** net_kernel:monitor_nodes/1,2 messages, nodes/1 kinds and disconnectNode, against a fake session. */
class FakeSession implements Session {
  readonly carrier = 'fake';
  closed: string | undefined;
  constructor(
    readonly peer: Atom,
    readonly hidden: boolean,
  ) {}
  send(_op: DistOp): boolean {
    return true;
  }
  close(reason = 'closed'): void {
    this.closed = reason;
  }
}

const A = atom('a@h');
const B = atom('b@h');
const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 0));

function subscriber(node: Node, setup: (n: Node, self: import('@courier/core').Process) => void): Term[] {
  const got: Term[] = [];
  node.spawn(async (self) => {
    setup(node, self);
    for (;;) got.push(await self.receive());
  });
  return got;
}

describe('monitorNodes', () => {
  it('gives OTP 25 shapes for each option set, filtered by node type', async () => {
    const node = localNode();
    const plain = subscriber(node, (n, p) => n.monitorNodes(p, true));
    const empty = subscriber(node, (n, p) => n.monitorNodes(p, true, {}));
    const reason = subscriber(node, (n, p) => n.monitorNodes(p, true, { nodedownReason: true }));
    const all = subscriber(node, (n, p) => n.monitorNodes(p, true, { nodeType: 'all', nodedownReason: true, connectionId: true }));
    const hidden = subscriber(node, (n, p) => n.monitorNodes(p, true, { nodeType: 'hidden' }));
    const map = subscriber(node, (n, p) => n.monitorNodes(p, true, { nodeType: 'all', nodedownReason: true, info: 'map' }));
    const emptyMap = subscriber(node, (n, p) => n.monitorNodes(p, true, { info: 'map' }));
    await tick();
    const sa = new FakeSession(A, false);
    const sb = new FakeSession(B, true);
    node.dist.attach(sa);
    node.dist.attach(sb);
    node.nodeDown(A, atom('net_tick_timeout'), sa);
    node.nodeDown(B, atom('connection_closed'), sb);
    await tick();
    expect(plain.map(String)).toEqual(['{nodeup,a@h}', '{nodedown,a@h}']);
    expect(empty.map(String)).toEqual(['{nodeup,a@h}', '{nodedown,a@h}']);
    expect(reason.map(String)).toEqual(['{nodeup,a@h,[]}', '{nodedown,a@h,[{nodedown_reason,net_tick_timeout}]}']);
    expect(all.map(String)).toEqual([
      '{nodeup,a@h,[{connection_id,1},{node_type,visible}]}',
      '{nodeup,b@h,[{connection_id,2},{node_type,hidden}]}',
      '{nodedown,a@h,[{connection_id,1},{nodedown_reason,net_tick_timeout},{node_type,visible}]}',
      '{nodedown,b@h,[{connection_id,2},{nodedown_reason,connection_closed},{node_type,hidden}]}',
    ]);
    expect(hidden.map(String)).toEqual(['{nodeup,b@h,[{node_type,hidden}]}', '{nodedown,b@h,[{node_type,hidden}]}']);
    expect(map.map(String)).toEqual([
      '{nodeup,a@h,#{node_type => visible}}',
      '{nodeup,b@h,#{node_type => hidden}}',
      '{nodedown,a@h,#{node_type => visible,nodedown_reason => net_tick_timeout}}',
      '{nodedown,b@h,#{node_type => hidden,nodedown_reason => connection_closed}}',
    ]);
    expect(emptyMap.map(String)).toEqual(['{nodeup,a@h,#{}}', '{nodedown,a@h,#{}}']);
  });

  it('counts subscriptions; false drops all of those options; a dead subscriber is forgotten', async () => {
    const node = localNode();
    const twice = subscriber(node, (n, p) => {
      n.monitorNodes(p, true);
      n.monitorNodes(p, true);
    });
    const dropped = subscriber(node, (n, p) => {
      n.monitorNodes(p, true);
      n.monitorNodes(p, true);
      n.monitorNodes(p, true, { nodedownReason: true });
      n.monitorNodes(p, false);
    });
    await tick();
    node.dist.attach(new FakeSession(A, false));
    await tick();
    expect(twice.map(String)).toEqual(['{nodeup,a@h}', '{nodeup,a@h}']);
    expect(dropped.map(String)).toEqual(['{nodeup,a@h,[]}']);
    expect(() =>
      node.monitorNodes(
        node.spawn(() => undefined),
        true,
        { nodeType: 'bad' as 'all' },
      ),
    ).toThrow(UsageError);
  });

  it('events$ carry nodeType, hidden and the reason; disconnectNode reports disconnect and answers like OTP', () => {
    const node = localNode();
    const events: NodeEvent[] = [];
    node.events$.subscribe((e) => events.push(e));
    const s = new FakeSession(B, true);
    node.dist.attach(s);
    expect(node.nodes()).toEqual([]);
    expect(node.nodes('hidden')).toEqual([B]);
    expect(node.nodes('connected')).toEqual([B]);
    expect(node.nodes('this')).toEqual([node.name]);
    expect(node.nodes(['this', 'visible', 'hidden'])).toEqual([node.name, B]);
    expect(node.disconnectNode(B)).toBe(true);
    expect(s.closed).toBe('disconnect_node');
    expect(node.disconnectNode(B)).toBe(false);
    // The session's own report of its close comes after and is ignored.
    node.nodeDown(B, atom('connection_closed'), s);
    expect(events).toEqual([
      { type: 'nodeup', node: B, carrier: 'fake', hidden: true, nodeType: 'hidden', connectionId: 1 },
      { type: 'nodedown', node: B, reason: atom('disconnect'), hidden: true, nodeType: 'hidden', connectionId: 1 },
    ]);
    expect(node.nodes('known')).toEqual([node.name, B]);
  });

  it('node stop reports net_kernel_terminated', async () => {
    const node = localNode();
    const events: NodeEvent[] = [];
    node.events$.subscribe((e) => events.push(e));
    node.dist.attach(new FakeSession(A, false));
    await node.stop();
    expect(events[1]).toMatchObject({ type: 'nodedown', node: A, reason: atom('net_kernel_terminated') });
  });
});
