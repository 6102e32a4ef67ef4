import { Atom, Pid, ProtocolError, Ref, Tuple, atom, atoms, type Term } from '@courier/term';
import type { DistOp } from '../seams/dist-op.js';
import type { Session } from '../seams/session.js';
import { resolveDest } from './dest.js';
import { pidKey, refKey } from './keys.js';
import { KeyTable } from './key-table.js';
import type { Node } from './node.js';
import type { Process } from './process.js';
import { ExceptionReason, ExitCall } from './exit-reason.js';
import { PeerIndex } from './peer-index.js';

/**
 * Signals between processes with OTP semantics: messages, links, exit signals, monitors, and
 * the same operations arriving from other nodes. Local signals are processed in one FIFO per
 * node: a signal raised while another is being handled (a crash cascading over links) waits its
 * turn, so order between any two processes is kept and no cascade recurses.
 */
const EXIT_TAG = atoms.EXIT;
const NOPROC = atoms.noproc;
const NOCONNECTION = atoms.noconnection;
const KILL = atoms.kill;
const KILLED = atoms.killed;
const NORMAL = atoms.normal;
const UNDEF = atom('undef');
const SPAWN_LINKED = 1;
const SPAWN_MONITORED = 2;

export class Signals {
  private draining = false;
  private readonly queue: Array<() => void> = [];
  private unlinkIds = 0n;
  /** @internal The processes holding links or monitors toward each remote node (nodeDown's list). */
  readonly peers = new PeerIndex();

  constructor(private readonly node: Node) {}

  /**
   * Run `fn` now if no signal is being handled, else after the ones before it. One signal that
   * throws never drops those queued behind it, nor reaches the caller (a connection's route).
   */
  private post(fn: () => void): void {
    if (this.draining) {
      this.queue.push(fn);
      return;
    }
    this.draining = true;
    try {
      this.runSignal(fn);
      for (let i = 0; i < this.queue.length; i++) this.runSignal(this.queue[i] as () => void);
    } finally {
      this.queue.length = 0;
      this.draining = false;
    }
  }

  private runSignal(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      // Handlers guard their own process (handlerFailed); this is a broken runtime invariant.
      this.node.log.error({ err }, 'signal handler failed');
    }
  }

  /**
   * A handler running for `p` threw (its linksChanged, …): `p` exits with the error as reason,
   * after the signals already queued; the signal, its sender and its connection are unaffected.
   */
  handlerFailed(p: Process, err: unknown): void {
    this.node.log.error({ pid: p.pid.toString(), err }, 'signal handler threw; the process exits');
    this.post(() => this.terminate(p, new ExceptionReason(err)));
  }

  message(p: Process, msg: Term): void {
    if (!this.draining) {
      p.mailbox.push(msg);
      return;
    }
    this.queue.push(() => {
      if (p.alive) p.mailbox.push(msg);
    });
  }

  // ---- links -----------------------------------------------------------------------------

  /**
   * Links follow OTP's link protocol (erl_dist_protocol, "Link Protocol"): a remote link is
   * active (in `p.links`) or, after unlink/1 until the peer's UNLINK_ID_ACK, unlinking with the
   * id sent (in `p.unlinking`): then a LINK or link EXIT from the peer that crossed our
   * UNLINK_ID is ignored, and only the ack with that id removes the state. Links between two
   * local processes change both sides at once, so they need no such state.
   */
  link(p: Process, pid: Pid): void {
    if (pid === p.pid || p.isLinked(pid)) return;
    if (!this.node.isLocal(pid)) {
      // LINK sent: active, and the result of an outstanding unlink is ignored from now on.
      p.unlinking?.delete(pidKey(pid));
      p.addLink(pid);
      this.node.dist.send(pid.node, { op: 'link', from: p.pid, to: pid });
      return;
    }
    const q = this.node.lookup(pid);
    if (q === undefined) {
      // Linking to a dead process: an exit signal `noproc` arrives (trapped or fatal).
      p.addLink(pid);
      this.post(() => this.exitArrived(p, pid, NOPROC, true));
      return;
    }
    p.addLink(pid);
    q.addLink(p.pid);
  }

  unlink(p: Process, pid: Pid): void {
    if (!p.removeLink(pid)) return;
    if (!this.node.isLocal(pid)) {
      // UNLINK_ID sent: inactive until the ack with this id.
      const id = ++this.unlinkIds;
      this.peers.add(p, pid.node);
      (p.unlinking ??= new Map()).set(pidKey(pid), id);
      this.node.dist.send(pid.node, { op: 'unlink_id', id, from: p.pid, to: pid });
      return;
    }
    this.node.lookup(pid)?.removeLink(p.pid);
  }

  // ---- exits -----------------------------------------------------------------------------

  /** exit/2 */
  exit2(from: Pid, to: Pid, reason: Term): void {
    if (!this.node.isLocal(to)) {
      this.node.dist.send(to.node, { op: 'exit2', from, to, reason });
      return;
    }
    const q = this.node.lookup(to);
    if (q !== undefined) this.post(() => this.exitArrived(q, from, reason, false));
  }

  /**
   * An exit signal reached `p`. Link signals need the link to exist (and remove it); `kill`
   * sent by exit/2 cannot be trapped and becomes `killed`; `normal` is ignored unless trapped
   * (or sent by the process to itself).
   */
  private exitArrived(p: Process, from: Pid, reason: Term, viaLink: boolean): void {
    if (!p.alive) return;
    // A link EXIT acts only on an active link; either way the link's state goes (an unlinking one too).
    if (viaLink && !p.removeLink(from)) {
      if (p.unlinking !== undefined) p.unlinking.delete(pidKey(from));
      return;
    }
    if (!viaLink && reason === KILL) {
      this.terminate(p, KILLED);
    } else if (p.trapExit) {
      p.mailbox.push(new Tuple([EXIT_TAG, from, reason]));
    } else if (reason === NORMAL) {
      if (!viaLink && from === p.pid) this.terminate(p, NORMAL);
    } else {
      this.terminate(p, reason);
    }
  }

  /** The process is gone: tell links and monitors, free its name, aliases and slot. */
  terminate(p: Process, reason: Term): void {
    if (!p.alive) return;
    p.alive = false;
    p.exitReason = reason;
    // What its body awaits rejects with ProcessGone (so its finally blocks run); its timers go.
    p.abort(reason);
    this.node.timers.processExited(p);
    // Links being unlinked send no EXIT (OTP-18177); only active ones do, below.
    p.unlinking = undefined;
    const node = this.node;
    node.procs.delete(p.pid.id);
    this.peers.drop(p);
    if (p.name !== undefined) {
      node.names.delete(p.name);
    }
    if (p.aliases !== undefined) for (const k of p.aliases) node.aliasTable.delete(k);
    const self = p.pid;
    // Local link partners get the reason; `killed` propagates as is.
    if (p.linkCount !== 0) {
      for (const pid of p.linkedPids()) {
        if (node.isLocal(pid)) {
          const q = node.lookup(pid);
          if (q !== undefined) this.post(() => this.exitArrived(q, self, reason, true));
        } else {
          node.dist.send(pid.node, { op: 'exit', from: self, to: pid, reason });
        }
      }
    }
    if (p.monitors !== undefined) {
      for (const m of p.monitors.values()) {
        if (m.node === node.name) {
          const t = m.target !== undefined ? node.lookup(m.target) : undefined;
          t?.monitoredBy?.delete(refKey(m.ref));
        } else {
          node.dist.send(m.node, { op: 'demonitor_p', from: self, to: m.target ?? (m.name as Atom), ref: m.ref });
        }
      }
    }
    if (p.monitoredBy !== undefined) {
      for (const m of p.monitoredBy.values()) this.fireDown(m.by, m.ref, m.who, m.name ?? self, reason);
    }
    node.emitExit(p, reason);
    if (reason !== NORMAL && !(reason instanceof ExceptionReason)) {
      node.log.debug({ pid: self.toString(), reason: String(reason) }, 'process exited');
    }
  }

  private fireDown(by: Pid, ref: Ref, who: Term, from: Pid | Atom, reason: Term): void {
    if (this.node.isLocal(by)) {
      const q = this.node.lookup(by);
      if (q === undefined) return;
      this.post(() => this.downArrived(q, ref, reason));
    } else {
      void who;
      this.node.dist.send(by.node, { op: 'monitor_p_exit', from, to: by, ref, reason });
    }
  }

  /** A DOWN for a monitor `p` holds: delivered only if the monitor is still active. */
  private downArrived(p: Process, ref: Ref, reason: Term): void {
    if (!p.alive) return;
    const key = refKey(ref);
    const m = p.monitors?.get(key);
    if (m === undefined) return;
    p.monitors?.delete(key);
    p.mailbox.push(new Tuple([atoms.DOWN, ref, atoms.process, m.who, reason]));
  }

  // ---- monitors --------------------------------------------------------------------------

  monitor(p: Process, target: Pid | Atom | Tuple | { name: Atom | string; node: Atom | string }): Ref {
    const node = this.node;
    const ref = node.makeRef();
    const key = refKey(ref);
    const monitors = (p.monitors ??= new KeyTable());
    let pid: Pid | undefined;
    let name: Atom | undefined;
    let where = node.name;
    if (target instanceof Pid) {
      pid = target;
      where = target.node;
    } else {
      const d = resolveDest(target);
      if (d.kind !== 'name') throw new TypeError('monitor a pid, a name or {Name, Node}');
      name = d.name;
      where = d.node ?? node.name;
    }
    const who: Term = pid ?? new Tuple([name, where]);
    monitors.set(key, { ref, target: pid, node: where, who, name });
    if (where !== node.name) {
      this.peers.add(p, where);
      node.dist.send(where, { op: 'monitor_p', from: p.pid, to: pid ?? (name as Atom), ref });
      return ref;
    }
    const q = pid !== undefined ? node.lookup(pid) : node.names.get(name as Atom);
    if (q === undefined) {
      this.post(() => this.downArrived(p, ref, NOPROC));
    } else {
      (q.monitoredBy ??= new KeyTable()).set(key, { ref, by: p.pid, who, name });
      if (name !== undefined) monitors.set(key, { ref, target: q.pid, node: where, who, name });
    }
    return ref;
  }

  demonitor(p: Process, ref: Ref): boolean {
    const key = refKey(ref);
    const m = p.monitors?.get(key);
    if (m === undefined) return false;
    p.monitors?.delete(key);
    if (m.node === this.node.name) {
      const q = m.target !== undefined ? this.node.lookup(m.target) : undefined;
      q?.monitoredBy?.delete(key);
    } else {
      this.node.dist.send(m.node, { op: 'demonitor_p', from: p.pid, to: m.target ?? (m.name as Atom), ref });
    }
    return true;
  }

  monitorNode(p: Process, peer: Atom, on: boolean): void {
    const nm = (p.nodeMonitors ??= new Map());
    if (!on) {
      nm.delete(peer);
      return;
    }
    nm.set(peer, (nm.get(peer) ?? 0) + 1);
    if (peer === this.node.name) return;
    this.peers.add(p, peer);
    void this.node.dist.connect(peer, 'auto').then((up) => {
      if (!up && p.alive && nm.has(peer)) {
        nm.delete(peer);
        p.mailbox.push(this.node.nodedownMessage(peer));
      }
    });
  }

  // ---- remote operations -----------------------------------------------------------------

  /**
   * An operation from `peer`, for a local process. Throws a ProtocolError (`FOREIGN_SENDER`) when
   * the operation's sender is not a process of `peer` (see {@link foreignSender}): the session
   * closes the connection, as OTP's dist.c kills a connection on such an invalid_message.
   */
  route(op: DistOp, peer: Atom): void {
    const node = this.node;
    const foreign = foreignSender(op, peer);
    if (foreign !== undefined) {
      throw new ProtocolError(
        'FOREIGN_SENDER',
        `${peer.name} sent ${op.op} on behalf of ${foreign.toString()}, a process of ${foreign.node.name}: a node may only send the signals of its own processes (a broken or hostile peer); the connection is closed`,
        -1,
      );
    }
    switch (op.op) {
      case 'send': {
        const q = node.lookup(op.to);
        if (q !== undefined) this.message(q, op.msg);
        return;
      }
      case 'reg_send':
      case 'port_send': {
        const name = op.op === 'reg_send' ? op.to : atom(op.to);
        const q = node.names.get(name);
        if (q !== undefined) this.message(q, op.msg);
        else node.log.debug({ peer: peer.name, name: name.name }, 'reg_send to unregistered name dropped');
        return;
      }
      case 'alias_send': {
        const q = node.aliasTable.get(refKey(op.alias));
        if (q !== undefined) this.message(q, op.msg);
        return;
      }
      case 'link': {
        const q = node.lookup(op.to);
        if (q === undefined) node.dist.send(peer, { op: 'exit', from: op.to, to: op.from, reason: NOPROC });
        // Ignored while our unlink is outstanding: the peer gets our UNLINK_ID after its LINK, so both end unlinked.
        else if (q.unlinking?.has(pidKey(op.from)) !== true) q.addLink(op.from);
        return;
      }
      case 'unlink_id':
        // Removes an active link; an unlinking one stays until our own ack. Acked before anything else to that process.
        node.lookup(op.to)?.removeLink(op.from);
        node.dist.send(peer, { op: 'unlink_id_ack', id: op.id, from: op.to, to: op.from });
        return;
      case 'unlink_id_ack': {
        const q = node.lookup(op.to);
        const key = pidKey(op.from);
        if (q?.unlinking?.get(key) === op.id) q.unlinking.delete(key);
        return;
      }
      case 'group_leader':
        return;
      case 'exit':
      case 'exit2': {
        const q = node.lookup(op.to);
        if (q !== undefined) this.post(() => this.exitArrived(q, op.from, op.reason, op.op === 'exit'));
        return;
      }
      case 'monitor_p': {
        const byName = op.to instanceof Atom;
        const q = byName ? node.names.get(op.to) : node.lookup(op.to);
        if (q === undefined) {
          node.dist.send(peer, { op: 'monitor_p_exit', from: op.to, to: op.from, ref: op.ref, reason: NOPROC });
          return;
        }
        const who: Term = byName ? new Tuple([op.to, node.name]) : q.pid;
        this.peers.add(q, op.from.node);
        (q.monitoredBy ??= new KeyTable()).set(refKey(op.ref), { ref: op.ref, by: op.from, who, name: byName ? op.to : undefined });
        return;
      }
      case 'demonitor_p': {
        const q = op.to instanceof Atom ? node.names.get(op.to) : node.lookup(op.to);
        q?.monitoredBy?.delete(refKey(op.ref));
        return;
      }
      case 'monitor_p_exit': {
        const q = node.lookup(op.to);
        if (q !== undefined) this.post(() => this.downArrived(q, op.ref, op.reason));
        return;
      }
      case 'spawn_request':
        this.spawnRequest(op, peer);
        return;
      case 'spawn_reply':
        node.remoteSpawnReply(op);
        return;
    }
  }

  private spawnRequest(op: DistOp & { op: 'spawn_request' }, peer: Atom): void {
    const node = this.node;
    let link = false;
    let monitor = false;
    for (const o of op.opts) {
      if (o === atom('link')) link = true;
      else if (o === atom('monitor')) monitor = true;
      else if (o instanceof Tuple && o.elements[0] === atom('monitor')) monitor = true;
    }
    const fn = node.exposed.lookup(op.module, op.fun, op.args.length);
    const pid = node.spawn(async (self) => {
      if (fn === undefined) throw new ExitCall(new Tuple([UNDEF, [new Tuple([op.module, op.fun, op.args, []])]]));
      await fn.apply(self, op.args);
    });
    const q = node.lookup(pid) as Process;
    if (link) q.addLink(op.from);
    if (monitor) {
      this.peers.add(q, op.from.node);
      (q.monitoredBy ??= new KeyTable()).set(refKey(op.reqId), { ref: op.reqId, by: op.from, who: pid, name: undefined });
    }
    node.dist.send(peer, {
      op: 'spawn_reply',
      reqId: op.reqId,
      to: op.from,
      flags: (link ? SPAWN_LINKED : 0) | (monitor ? SPAWN_MONITORED : 0),
      result: pid,
    });
  }

  /**
   * The connection to `peer` is gone: `noconnection` to every link and monitor across it (whatever
   * `reason`, the nodedown reason that monitor_nodes and events$ report), and its links' states go.
   */
  nodeDown(peer: Atom, reason: Term, wasUp = true, session?: Session): void {
    const node = this.node;
    if (wasUp) node.log.info({ peer: peer.name, reason: String(reason) }, 'node down');
    node.remoteSpawnsDown(peer);
    const prefix = `${peer.name}<`;
    this.post(() => {
      // Only the processes holding something toward `peer` (runtime/peer-index.ts), in spawn order.
      for (const p of this.peers.take(peer)) {
        if (p.monitoredBy !== undefined) {
          for (const [k, m] of p.monitoredBy.entries()) if (m.by.node === peer) p.monitoredBy.delete(k);
        }
        if (p.monitors !== undefined) {
          for (const m of p.monitors.values()) if (m.node === peer) this.downArrived(p, m.ref, NOCONNECTION);
        }
        if (p.nodeMonitors?.has(peer)) {
          const n = p.nodeMonitors.get(peer) as number;
          p.nodeMonitors.delete(peer);
          for (let i = 0; i < n; i++) p.mailbox.push(node.nodedownMessage(peer));
        }
        if (p.unlinking !== undefined) {
          for (const k of p.unlinking.keys()) if (k.startsWith(prefix)) p.unlinking.delete(k);
        }
        if (p.linkCount !== 0) {
          // Every link across the lost connection goes now, before any exit is handled: a process
          // killed by the first one must not send EXIT back over the others (that would redial).
          for (const pid of p.linkedPids()) {
            if (pid.node !== peer) continue;
            p.removeLink(pid);
            this.post(() => this.exitArrived(p, pid, NOCONNECTION, false));
          }
        }
      }
    });
    // As net_kernel:monitor_nodes, a connection that never came up is no nodedown.
    if (wasUp) node.reportNodeDown(peer, reason, session);
  }
}

/**
 * The sender pid of `op` when it is not a process of `peer`, else undefined. As OTP's dist.c
 * (erts_net_message), which treats these as an invalid_message and kills the connection:
 * LINK, UNLINK_ID, UNLINK_ID_ACK, EXIT, EXIT2 (`from`), MONITOR_P and DEMONITOR_P (the watcher).
 * Courier also checks SPAWN_REQUEST's `from`, which OTP only requires to be a remote pid: the new
 * process links to and is monitored by it, and a link or monitor must run over the connection it
 * came on (nodeDown clears them by the pid's node), else a peer could make this node dial a third.
 * Not checked, as OTP does not: SEND_SENDER, REG_SEND and ALIAS_SEND (`from` only labels a message
 * and sets up nothing), GROUP_LEADER (its `from` is the new group leader, which may live anywhere),
 * MONITOR_P_EXIT (`from` is the monitored process or its name; the DOWN is matched by its ref) and
 * SPAWN_REPLY (no sender).
 */
export function foreignSender(op: DistOp, peer: Atom): Pid | undefined {
  switch (op.op) {
    case 'link':
    case 'unlink_id':
    case 'unlink_id_ack':
    case 'exit':
    case 'exit2':
    case 'monitor_p':
    case 'demonitor_p':
    case 'spawn_request':
      return op.from.node === peer ? undefined : op.from;
    default:
      return undefined;
  }
}

export { pidKey };
