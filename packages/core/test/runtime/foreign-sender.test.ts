import { describe, expect, it } from 'vitest';
import { Pid, ProtocolError, Ref, Tuple, atom, atoms, type Atom } from '@courier/term';
import { Node, type DistOp, type Process } from '@courier/core';
import { inProcess, localNode } from './helpers.js';

const PEER = atom('peer@h');
const THIRD = atom('third@h');
const ref = (node: Atom) => new Ref(node, 1, [1, 2, 3]);

/** A local process that waits forever (a target for links and monitors). */
function idle(node: Node): Pid {
  return node.spawn(async (self) => {
    await self.receive();
  });
}

/** Every op whose sender OTP (and Courier) requires to be on the connection's peer, with that sender on `from`. */
function checked(node: Node, from: Pid): DistOp[] {
  const to = idle(node);
  return [
    { op: 'link', from, to },
    { op: 'unlink_id', id: 1n, from, to },
    { op: 'unlink_id_ack', id: 1n, from, to },
    { op: 'exit', from, to, reason: atom('boom') },
    { op: 'exit2', from, to, reason: atoms.kill },
    { op: 'monitor_p', from, to, ref: ref(from.node) },
    { op: 'demonitor_p', from, to, ref: ref(from.node) },
    { op: 'spawn_request', reqId: ref(from.node), from, groupLeader: from, module: atom('m'), fun: atom('f'), args: [], opts: [atom('link')] },
  ];
}

describe('signals from a peer carry a sender of that peer (OTP dist.c)', () => {
  it('each checked op whose sender is on a third node throws FOREIGN_SENDER and changes nothing', () => {
    const node = localNode();
    const foreign = new Pid(THIRD, 7, 0, 1);
    for (const op of checked(node, foreign)) {
      const before = node.processes().length;
      let err: unknown;
      try {
        node.route(op, PEER);
      } catch (e) {
        err = e;
      }
      expect(err, op.op).toBeInstanceOf(ProtocolError);
      expect((err as ProtocolError).code).toBe('FOREIGN_SENDER');
      expect((err as ProtocolError).message).toContain('third@h');
      // No process spawned, no link or monitor set, no process killed.
      expect(node.processes().length, op.op).toBe(before);
      const target = (op as { to?: Pid }).to;
      if (target instanceof Pid) {
        expect(node.isAlive(target), op.op).toBe(true);
        const p = (node as unknown as { lookup(pid: Pid): Process }).lookup(target);
        expect(p.linkCount, op.op).toBe(0);
        expect(p.monitoredBy?.size ?? 0, op.op).toBe(0);
      }
    }
  });

  it('a sender on our own node is foreign too (a peer cannot speak for our processes)', () => {
    const node = localNode();
    const victim = idle(node);
    const target = idle(node);
    expect(() => node.route({ op: 'exit2', from: victim, to: target, reason: atoms.kill }, PEER)).toThrow(expect.objectContaining({ code: 'FOREIGN_SENDER' }) as Error);
    expect(node.isAlive(target)).toBe(true);
  });

  it('the same ops from a process of the peer are accepted', async () => {
    const node = localNode();
    const mine = new Pid(PEER, 7, 0, 1);
    const to = node.spawn(
      async (self) => {
        await self.receive();
      },
      { trapExit: true },
    );
    expect(() => node.route({ op: 'monitor_p', from: mine, to, ref: ref(PEER) }, PEER)).not.toThrow();
    expect(() => node.route({ op: 'demonitor_p', from: mine, to, ref: ref(PEER) }, PEER)).not.toThrow();
    // exit2 with kill from the peer's own process does what exit/2 does.
    node.route({ op: 'exit2', from: mine, to, reason: atoms.kill }, PEER);
    await inProcess(node, () => Promise.resolve());
    expect(node.isAlive(to)).toBe(false);
  });

  it('ops OTP does not check pass with any sender: messages, group_leader, monitor_p_exit', () => {
    const node = localNode();
    const foreign = new Pid(THIRD, 7, 0, 1);
    const got: unknown[] = [];
    const to = node.spawn(async (self) => {
      for (;;) got.push(await self.receive());
    });
    node.register(atom('named'), to);
    const ops: DistOp[] = [
      { op: 'send', from: foreign, to, msg: 1 },
      { op: 'reg_send', from: foreign, to: atom('named'), msg: 2 },
      { op: 'alias_send', from: foreign, alias: ref(node.name), msg: 3 },
      { op: 'group_leader', from: foreign, to },
      { op: 'monitor_p_exit', from: foreign, to, ref: ref(node.name), reason: atoms.normal },
    ];
    for (const op of ops) expect(() => node.route(op, PEER), op.op).not.toThrow();
  });
});

describe('distAutoConnect never, at the node', () => {
  /** A node with a transport it must never dial through. */
  function neverNode(): { node: Node; dialed: Atom[] } {
    const dialed: Atom[] = [];
    const transport = {
      name: 'fake',
      start: () => Promise.resolve(),
      stop: () => Promise.resolve(),
      dialer: (peer: Atom) => {
        dialed.push(peer);
        throw new Error('no dialing in this test');
      },
    };
    const node = new Node({ name: `t${process.pid}_${Math.random().toString(36).slice(2, 8)}@localhost`, transports: [transport], distAutoConnect: 'never' });
    return { node, dialed };
  }

  it('a link to a process of an unconnected node gives noconnection; a monitor a DOWN; monitor_node a nodedown', async () => {
    const { node, dialed } = neverNode();
    const remote = new Pid(PEER, 5, 0, 1);
    const seen = await inProcess(node, async (self) => {
      self.trapExit = true;
      self.link(remote);
      const exit = await self.receive(undefined, 1000);
      const mref = self.monitor(remote);
      const down = await self.receive(undefined, 1000);
      self.monitorNode(PEER, true);
      const nodedown = await self.receive(undefined, 1000);
      return { exit, down, nodedown, mref };
    });
    expect(dialed).toEqual([]);
    expect(seen.exit).toEqual(new Tuple([atoms.EXIT, remote, atoms.noconnection]));
    expect(seen.down).toEqual(new Tuple([atoms.DOWN, seen.mref, atoms.process, remote, atoms.noconnection]));
    expect(seen.nodedown).toEqual(new Tuple([atom('nodedown'), PEER]));
    expect(node.nodes()).toEqual([]);
  });
});
