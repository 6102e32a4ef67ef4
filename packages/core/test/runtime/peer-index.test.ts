import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Pid, Ref, Tuple, atom, atoms, type Atom, type Term } from '@courier/term';
import { type DistOp, type Node, type Process, type Session } from '@courier/core';
import { localNode } from './helpers.js';

/**
 * nodeDown reaches only the processes indexed under the lost node (runtime/peer-index.ts): the
 * index must hold every process with a link, unlinking state, monitor, monitored-by or node
 * monitor toward that node, and the nodedown must do what the scan of every process did.
 */
const A = atom('a@h');
const B = atom('b@h');

class WireSession implements Session {
  readonly carrier = 'fake';
  readonly hidden = true;
  constructor(readonly peer: Atom) {}
  send(_op: DistOp): boolean {
    return true;
  }
  close(): void {}
}

interface Rig {
  node: Node;
  procs: Process[];
  got: Map<Process, Term[]>;
}

async function rig(n: number): Promise<Rig> {
  const node = localNode();
  node.dist.attach(new WireSession(A));
  node.dist.attach(new WireSession(B));
  const procs: Process[] = [];
  const got = new Map<Process, Term[]>();
  for (let i = 0; i < n; i++) {
    node.spawn(
      async (self) => {
        procs.push(self);
        const mine: Term[] = [];
        got.set(self, mine);
        for (;;) mine.push(await self.receive());
      },
      { trapExit: true },
    );
  }
  await Promise.resolve();
  return { node, procs, got };
}

const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 0));

/** What `p` holds toward `peer`, as the old scan of every process looked for it. */
function holds(p: Process, peer: Atom): boolean {
  const prefix = `${peer.name}<`;
  return (
    p.linkedPids().some((x) => x.node === peer) ||
    [...(p.unlinking?.keys() ?? [])].some((k) => k.startsWith(prefix)) ||
    [...(p.monitors?.values() ?? [])].some((m) => m.node === peer) ||
    [...(p.monitoredBy?.values() ?? [])].some((m) => m.by.node === peer) ||
    (p.nodeMonitors?.has(peer) ?? false)
  );
}

describe('nodeDown through the per-node index', () => {
  it('reaches links, monitors, monitored-by and node monitors toward the lost node only', async () => {
    const { node, procs, got } = await rig(5);
    const [p0, p1, p2, p3, p4] = procs as [Process, Process, Process, Process, Process];
    const ra = new Pid(A, 10, 0, 1);
    const rb = new Pid(B, 11, 0, 1);
    p0.link(ra);
    const mref = p1.monitor(ra);
    node.route({ op: 'monitor_p', from: ra, to: p2.pid, ref: new Ref(A, 1, [1, 2, 3]) }, A);
    p3.monitorNode(A, true);
    p3.monitorNode(A, true);
    p4.link(rb);
    p4.monitor(rb);
    expect(node.signals.peers.size(A)).toBe(4);
    node.nodeDown(A, atom('connection_closed'));
    await tick();
    expect(got.get(p0)).toEqual([new Tuple([atoms.EXIT, ra, atoms.noconnection])]);
    expect(got.get(p1)).toEqual([new Tuple([atoms.DOWN, mref, atoms.process, ra, atoms.noconnection])]);
    expect(p2.monitoredBy?.size ?? 0).toBe(0);
    expect(got.get(p3)).toEqual([new Tuple([atom('nodedown'), A]), new Tuple([atom('nodedown'), A])]);
    expect(got.get(p4)).toEqual([]);
    expect(p4.isLinked(rb)).toBe(true);
    expect(node.signals.peers.size(A)).toBe(0);
    expect(node.signals.peers.size(B)).toBe(1);
  });

  it('a process that exited leaves the index; DOWNs and EXITs go in spawn order', async () => {
    const { node, procs } = await rig(4);
    const ra = new Pid(A, 10, 0, 1);
    // Indexed in reverse spawn order; the one that exits is gone from the index.
    for (const p of [...procs].reverse()) p.link(ra);
    node.signals.terminate(procs[1] as Process, atom('bye'));
    expect(node.signals.peers.size(A)).toBe(3);
    const order: Pid[] = [];
    const sub = node.exits$.subscribe((e) => order.push(e.pid));
    for (const p of procs) p.trapExit = false;
    node.nodeDown(A, atom('connection_closed'));
    await tick();
    sub.unsubscribe();
    expect(order).toEqual([procs[0], procs[2], procs[3]].map((p) => (p as Process).pid));
  });

  it('property: after any sequence of link/unlink/monitor/demonitor/remote ops, every holder is indexed and a nodedown clears exactly what it held', async () => {
    type Op = {
      k: 'link' | 'unlink' | 'monitor' | 'monitorName' | 'demonitor' | 'nodeMon' | 'nodeUnmon' | 'inLink' | 'inMonitor' | 'inUnlink' | 'ack' | 'exit' | 'spawnReq';
      p: number;
      peer: number;
      r: number;
    };
    const op = fc.record({
      k: fc.constantFrom('link', 'unlink', 'monitor', 'monitorName', 'demonitor', 'nodeMon', 'nodeUnmon', 'inLink', 'inMonitor', 'inUnlink', 'ack', 'exit', 'spawnReq'),
      p: fc.nat(3),
      peer: fc.nat(1),
      r: fc.nat(2),
    }) as fc.Arbitrary<Op>;
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 40 }), fc.nat(1), async (ops, downIdx) => {
        const { node, procs, got } = await rig(4);
        const refs: Ref[] = [];
        let ids = 1n;
        for (const o of ops) {
          const p = procs[o.p] as Process;
          const peer = o.peer === 0 ? A : B;
          const remote = new Pid(peer, 100 + o.r, 0, 1);
          if (!p.alive) continue;
          switch (o.k) {
            case 'link':
              p.link(remote);
              break;
            case 'unlink':
              p.unlink(remote);
              break;
            case 'monitor':
              refs.push(p.monitor(remote));
              break;
            case 'monitorName':
              refs.push(p.monitor({ name: 'srv', node: peer }));
              break;
            case 'demonitor':
              for (const r of refs) p.demonitor(r);
              break;
            case 'nodeMon':
              p.monitorNode(peer, true);
              break;
            case 'nodeUnmon':
              p.monitorNode(peer, false);
              break;
            case 'inLink':
              node.route({ op: 'link', from: remote, to: p.pid }, peer);
              break;
            case 'inUnlink':
              node.route({ op: 'unlink_id', id: ids++, from: remote, to: p.pid }, peer);
              break;
            case 'ack':
              for (const [k, id] of p.unlinking ?? []) if (k.startsWith(peer.name)) node.route({ op: 'unlink_id_ack', id, from: remote, to: p.pid }, peer);
              break;
            case 'inMonitor':
              node.route({ op: 'monitor_p', from: remote, to: p.pid, ref: new Ref(peer, 1, [Number(ids++), 0, 0]) }, peer);
              break;
            case 'spawnReq':
              node.route(
                {
                  op: 'spawn_request',
                  reqId: new Ref(peer, 1, [Number(ids++), 0, 0]),
                  from: remote,
                  groupLeader: remote,
                  module: atom('m'),
                  fun: atom('f'),
                  args: [],
                  opts: [atom('monitor'), atom('link')],
                },
                peer,
              );
              break;
            case 'exit':
              node.signals.terminate(p, atom('bye'));
              break;
          }
        }
        await tick();
        const all = [...node.procs.values()];
        for (const peer of [A, B]) {
          for (const p of all) if (holds(p, peer)) expect(p.peers?.has(peer)).toBe(true);
        }
        const down = downIdx === 0 ? A : B;
        const other = down === A ? B : A;
        const heldOther = new Map(all.map((p) => [p, holds(p, other)]));
        const before = new Map(all.map((p) => [p, (got.get(p) ?? []).length]));
        const toldDown = all.filter(
          (p) => (p.nodeMonitors?.get(down) ?? 0) > 0 || [...(p.monitors?.values() ?? [])].some((m) => m.node === down) || p.linkedPids().some((x) => x.node === down),
        );
        node.nodeDown(down, atom('connection_closed'));
        await tick();
        for (const p of all) {
          if (!p.alive) continue;
          expect(holds(p, down)).toBe(false);
          expect(holds(p, other)).toBe(heldOther.get(p));
          const grew = (got.get(p) ?? []).length > (before.get(p) ?? 0);
          expect(grew).toBe(toldDown.includes(p));
        }
        expect(node.signals.peers.size(down)).toBe(0);
      }),
      { numRuns: 150 },
    );
  });
});
