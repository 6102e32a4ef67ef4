import { Atom, Pid, atom, type Ref, type Term } from '@courier/term';
import { reasonText } from './exit-reason.js';
import { CourierError } from '../errors.js';
import type { DistOp } from '../seams/dist-op.js';
import { refKey } from './keys.js';
import { KeyTable } from './key-table.js';
import type { Node } from './node.js';
import type { Process } from './process.js';

/** A spawn_request to another node failed: the reason is Erlang's (`noconnection`, `badopt`, `notsup`, …). */
export class SpawnError extends CourierError {
  constructor(readonly reason: Term) {
    super('SPAWN_FAILED', `remote spawn failed: ${reasonText(reason)}`);
    this.name = 'SpawnError';
  }
}

interface Pending {
  readonly process: Process;
  readonly peer: Atom;
  readonly resolve: (r: [Pid, Ref | undefined]) => void;
  readonly reject: (e: Error) => void;
  /** Abandoned (spawn_request_abandon): the reply is only undone. */
  readonly abandoned?: boolean;
}

const LINK = atom('link');
const ABANDONED = atom('abandoned');
const MONITOR = atom('monitor');
const SPAWN_LINK = 1;
const SPAWN_MONITOR = 2;

/** Outgoing spawn_request bookkeeping: request ids waiting for their spawn_reply. */
export class RemoteSpawns {
  private readonly pending = new Map<string, Pending>();

  constructor(private readonly node: Node) {}

  request(
    p: Process,
    peer: Atom,
    module: Atom,
    fun: Atom,
    args: Term[],
    opts: { link?: boolean; monitor?: boolean },
    reqId: Ref = this.node.makeRef(),
  ): Promise<[Pid, Ref | undefined]> {
    const sopts: Term[] = [];
    if (opts.link) sopts.push(LINK);
    if (opts.monitor) sopts.push(MONITOR);
    return new Promise((resolve, reject) => {
      this.pending.set(refKey(reqId), { process: p, peer, resolve, reject });
      this.node.dist.send(peer, {
        op: 'spawn_request',
        reqId,
        from: p.pid,
        groupLeader: this.node.groupLeader ?? p.pid,
        module,
        fun,
        args,
        opts: sopts,
      });
    });
  }

  /**
   * erlang:spawn_request_abandon/1: true when the request was still outstanding. Its reply is then
   * ignored; a process it created gets no monitor from us, and an exit `abandoned` if linked.
   */
  abandon(reqId: Ref): boolean {
    const key = refKey(reqId);
    const w = this.pending.get(key);
    if (w === undefined) return false;
    this.pending.set(key, { ...w, abandoned: true });
    return true;
  }

  reply(op: DistOp & { op: 'spawn_reply' }): void {
    const key = refKey(op.reqId);
    const w = this.pending.get(key);
    if (w === undefined) return;
    this.pending.delete(key);
    if (!(op.result instanceof Pid)) {
      if (w.abandoned !== true) w.reject(new SpawnError(op.result));
      return;
    }
    const pid = op.result;
    const linked = (op.flags & SPAWN_LINK) !== 0;
    const monitored = (op.flags & SPAWN_MONITOR) !== 0;
    if (w.abandoned === true) {
      if (linked) this.node.dist.send(pid.node, { op: 'exit', from: w.process.pid, to: pid, reason: ABANDONED });
      if (monitored) this.node.dist.send(pid.node, { op: 'demonitor_p', from: w.process.pid, to: pid, ref: op.reqId });
      return;
    }
    if (!w.process.alive) {
      // The requester died meanwhile: undo what the other side set up for it.
      if (linked) this.node.dist.send(pid.node, { op: 'exit', from: w.process.pid, to: pid, reason: w.process.exitReason ?? atom('noproc') });
      if (monitored) this.node.dist.send(pid.node, { op: 'demonitor_p', from: w.process.pid, to: pid, ref: op.reqId });
      return;
    }
    if (linked) w.process.addLink(pid);
    if (monitored) {
      this.node.signals.peers.add(w.process, pid.node);
      (w.process.monitors ??= new KeyTable()).set(key, { ref: op.reqId, target: pid, node: pid.node, who: pid, name: undefined });
    }
    w.resolve([pid, monitored ? op.reqId : undefined]);
  }

  nodeDown(peer: Atom): void {
    for (const [key, w] of this.pending) {
      if (w.peer !== peer) continue;
      this.pending.delete(key);
      if (w.abandoned !== true) w.reject(new SpawnError(atom('noconnection')));
    }
  }
}
