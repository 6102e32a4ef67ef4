import { describe, expect, it } from 'vitest';
import { Pid, Tuple, atom, atoms, type Atom, type Term } from '@courier/term';
import { type DistOp, type Node, type Process, type Session } from '@courier/core';
import { localNode } from './helpers.js';

/**
 * The link protocol of erl_dist_protocol ("Link Protocol", OTP 23.3+, mandatory from 26), driven
 * op by op: what a Courier process does when LINK, UNLINK_ID, UNLINK_ID_ACK and link EXITs from a
 * peer cross its own UNLINK_ID on the wire.
 */
const PEER = atom('peer@h');

class WireSession implements Session {
  readonly carrier = 'fake';
  readonly hidden = true;
  readonly sent: DistOp[] = [];
  constructor(readonly peer: Atom) {}
  send(op: DistOp): boolean {
    this.sent.push(op);
    return true;
  }
  close(): void {}
}

interface Rig {
  node: Node;
  wire: WireSession;
  p: Process;
  remote: Pid;
  got: Term[];
}

async function rig(): Promise<Rig> {
  const node = localNode();
  const wire = new WireSession(PEER);
  node.dist.attach(wire);
  const got: Term[] = [];
  let p!: Process;
  node.spawn(
    async (self) => {
      p = self;
      for (;;) got.push(await self.receive());
    },
    { trapExit: true },
  );
  await Promise.resolve();
  return { node, wire, p, remote: new Pid(PEER, 40, 0, 7), got };
}

const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 0));
const last = (w: WireSession): DistOp | undefined => w.sent[w.sent.length - 1];

describe('link protocol: unlinking(Id) until the matching UNLINK_ID_ACK', () => {
  it('a LINK that crossed our UNLINK_ID is ignored: no phantom link', async () => {
    const { node, wire, p, remote } = await rig();
    p.link(remote);
    expect(last(wire)).toMatchObject({ op: 'link', from: p.pid, to: remote });
    p.unlink(remote);
    const u = last(wire) as DistOp & { op: 'unlink_id' };
    expect(u.op).toBe('unlink_id');
    // The peer had unlinked and relinked before our UNLINK_ID reached it.
    node.route({ op: 'unlink_id', id: 900n, from: remote, to: p.pid }, PEER);
    expect(last(wire)).toEqual({ op: 'unlink_id_ack', id: 900n, from: p.pid, to: remote });
    node.route({ op: 'link', from: remote, to: p.pid }, PEER);
    expect(p.isLinked(remote)).toBe(false);
    // It removes its (new) link on our UNLINK_ID and acks it: both agree there is none.
    node.route({ op: 'unlink_id_ack', id: u.id, from: remote, to: p.pid }, PEER);
    expect(p.isLinked(remote)).toBe(false);
    expect(p.unlinking?.size ?? 0).toBe(0);
  });

  it('a link EXIT that crossed our UNLINK_ID is ignored (trapping: no EXIT message; not trapping: no death)', async () => {
    const { node, p, remote, got } = await rig();
    p.link(remote);
    p.unlink(remote);
    node.route({ op: 'link', from: remote, to: p.pid }, PEER);
    node.route({ op: 'exit', from: remote, to: p.pid, reason: atom('boom') }, PEER);
    await tick();
    expect(got).toEqual([]);
    expect(p.alive).toBe(true);
    // The EXIT removed the unlinking state; the late ack finds nothing and changes nothing.
    expect(p.unlinking?.size ?? 0).toBe(0);
    p.trapExit = false;
    node.route({ op: 'exit', from: remote, to: p.pid, reason: atom('boom') }, PEER);
    await tick();
    expect(p.alive).toBe(true);
  });

  it('relinking before the ack makes the link active: an EXIT then is not lost', async () => {
    const { node, wire, p, remote, got } = await rig();
    p.link(remote);
    p.unlink(remote);
    const u = last(wire) as DistOp & { op: 'unlink_id' };
    p.link(remote);
    expect(last(wire)).toMatchObject({ op: 'link' });
    // The ack of the old unlink arrives after we relinked: ignored.
    node.route({ op: 'unlink_id_ack', id: u.id, from: remote, to: p.pid }, PEER);
    expect(p.isLinked(remote)).toBe(true);
    node.route({ op: 'exit', from: remote, to: p.pid, reason: atom('boom') }, PEER);
    await tick();
    expect(got.map(String)).toEqual([String(new Tuple([atoms.EXIT, remote, atom('boom')]))]);
  });

  it('only the ack with our latest id ends unlinking: an older one leaves it', async () => {
    const { node, wire, p, remote } = await rig();
    p.link(remote);
    p.unlink(remote);
    const first = (last(wire) as DistOp & { op: 'unlink_id' }).id;
    p.link(remote);
    p.unlink(remote);
    const second = (last(wire) as DistOp & { op: 'unlink_id' }).id;
    expect(second).not.toBe(first);
    node.route({ op: 'unlink_id_ack', id: first, from: remote, to: p.pid }, PEER);
    // Still unlinking: a crossing LINK is still ignored.
    node.route({ op: 'link', from: remote, to: p.pid }, PEER);
    expect(p.isLinked(remote)).toBe(false);
    node.route({ op: 'unlink_id_ack', id: second, from: remote, to: p.pid }, PEER);
    expect(p.unlinking?.size ?? 0).toBe(0);
    // Now a LINK from the peer links again.
    node.route({ op: 'link', from: remote, to: p.pid }, PEER);
    expect(p.isLinked(remote)).toBe(true);
  });

  it('an UNLINK_ID from the peer while we unlink leaves our state and is acked at once', async () => {
    const { node, wire, p, remote } = await rig();
    p.link(remote);
    p.unlink(remote);
    node.route({ op: 'unlink_id', id: 5n, from: remote, to: p.pid }, PEER);
    expect(last(wire)).toEqual({ op: 'unlink_id_ack', id: 5n, from: p.pid, to: remote });
    expect(p.unlinking?.size).toBe(1);
  });

  it('a process that exits while unlinking sends no EXIT over that link (OTP-18177); an active one does', async () => {
    const { node, wire, p, remote } = await rig();
    const other = new Pid(PEER, 41, 0, 7);
    p.link(remote);
    p.link(other);
    p.unlink(remote);
    const before = wire.sent.length;
    node.exitSignal(undefined, p.pid, atoms.kill);
    await tick();
    const exits = wire.sent.slice(before).filter((o) => o.op === 'exit');
    expect(exits).toEqual([{ op: 'exit', from: p.pid, to: other, reason: atoms.killed }]);
  });

  it('connection loss clears unlinking states with it', async () => {
    const { node, wire, p, remote } = await rig();
    p.link(remote);
    p.unlink(remote);
    node.nodeDown(PEER, atom('connection_closed'), wire);
    await tick();
    expect(p.unlinking?.size ?? 0).toBe(0);
  });
});
