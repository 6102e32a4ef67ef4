import { Atom, ErlMap, Pid, Ref, Tuple, atoms, termKey, type Term } from '@courier/term';
import { UsageError, pidKey, refKey, type Logger, type Node, type Process } from '@courier/core';
import { Subject, type Observable, type Subscription } from 'rxjs';
import { genReply } from '../services/erlang-services.js';
import { PgMonitors } from './pg-monitors.js';
import { PgTable, samePids, subtract } from './pg-table.js';
import { DEMONITOR, DISCOVER, GEN_CALL, GEN_CAST, JOIN, LEAVE, MONITOR, SYNC, discover, joinMsg, leaveMsg, monitorMsg, pidList, syncCast, syncGroups } from './pg-messages.js';

/** A membership change in a scope: what its monitors are told, as an event. */
export interface PgChange {
  readonly scope: Atom;
  readonly type: 'join' | 'leave';
  readonly group: Term;
  readonly pids: readonly Pid[];
  /** Whether the pids are this node's (joined or left here) rather than a peer's. */
  readonly local: boolean;
}

interface LocalMember {
  readonly pid: Pid;
  readonly ref: Ref;
  /** The groups it joined, newest first, one entry per join. */
  groups: Term[];
}

interface RemoteScope {
  readonly pid: Pid;
  readonly ref: Ref;
  /** Group key → what this peer has in it (for sync and for its DOWN). */
  groups: Map<string, { readonly group: Term; pids: Pid[] }>;
}

/**
 * A pg scope on a Courier node: the process registered under the scope's name that speaks pg.erl's
 * protocol with the scope processes of the same name on every visible node, and the API Courier
 * code uses (pg's functions, as methods). Made by {@link startPg}.
 *
 * The state is pg.erl's `#state{}`; every update of it runs on the JS thread, so the methods change
 * it at once (pg.erl serialises them through gen_server:call; the order each node sees is the same).
 */
export class PgScope {
  readonly scope: Atom;
  readonly pid: Pid;
  private readonly proc: Process;
  private readonly log: Logger;
  private readonly table: PgTable;
  private readonly local = new Map<string, LocalMember>();
  private readonly remote = new Map<string, RemoteScope>();
  private readonly monitors = new PgMonitors();
  private readonly changes = new Subject<PgChange>();
  private readonly subs: Subscription[] = [];
  private running = true;
  /** Resolves once the scope process has exited. */
  readonly stopped: Promise<void>;

  /** Join and leave events of this scope (what monitor_scope reports), until the scope stops. */
  readonly changes$: Observable<PgChange> = this.changes.asObservable();

  constructor(
    private readonly node: Node,
    scope: Atom,
  ) {
    this.scope = scope;
    this.log = node.log.child({ pg: scope.name });
    this.table = new PgTable((action, group, pids, local) => this.notify(action, group, pids, local));
    this.pid = node.spawn((self) => this.loop(self), { name: scope });
    this.proc = node.lookup(this.pid) as Process;
    let exited!: () => void;
    this.stopped = new Promise((r) => (exited = r));
    this.subs.push(
      node.exits$.subscribe((x) => {
        if (x.pid === this.pid) {
          this.terminated(x.reason);
          exited();
        }
      }),
      node.events$.subscribe((e) => {
        // nodeup: discover whether the node runs this scope. Hidden nodes are not pg peers (as
        // net_kernel:monitor_nodes(true) reports visible nodes only). nodedown: wait for the DOWN.
        if (e.type === 'nodeup' && !e.hidden && e.node !== node.name && this.running) this.proc.send(new Tuple([scope, e.node]), discover(this.pid));
      }),
    );
    for (const peer of node.nodes('visible')) this.proc.send(new Tuple([scope, peer]), discover(this.pid));
  }

  /** alive Whether the scope's process runs. */
  get alive(): boolean {
    return this.running;
  }

  // ---- the API (pg.erl's exported functions) -------------------------------------------------

  /** pg:join/3: one local pid or several; a pid may join a group more than once. */
  join(group: Term, pidOrPids: Pid | readonly Pid[]): void {
    const pids = this.ensureLocal(pidOrPids);
    for (const pid of pids) {
      const m = this.local.get(pidKey(pid));
      if (m !== undefined) m.groups = [group, ...m.groups];
      else this.local.set(pidKey(pid), { pid, ref: this.proc.monitor(pid), groups: [group] });
    }
    this.table.joinLocal(group, pids);
    this.broadcast(joinMsg(this.pid, group, pidOrPids instanceof Pid ? pidOrPids : [...pids]));
  }

  /** pg:leave/3: false (pg's `not_joined`) when none of the pids was in the group. */
  leave(group: Term, pidOrPids: Pid | readonly Pid[]): boolean {
    const pids = this.ensureLocal(pidOrPids);
    const gk = termKey(group);
    let changed = false;
    for (const pid of pids) {
      const k = pidKey(pid);
      const m = this.local.get(k);
      if (m === undefined) continue;
      const i = m.groups.findIndex((g) => termKey(g) === gk);
      if (i < 0) continue;
      changed = true;
      if (m.groups.length === 1) {
        this.proc.demonitor(m.ref);
        this.local.delete(k);
      } else {
        m.groups = m.groups.filter((_, j) => j !== i);
      }
    }
    if (!changed) return false;
    this.table.leaveLocal(group, pids);
    this.broadcast(leaveMsg(this.pid, pidOrPids instanceof Pid ? pidOrPids : [...pids], [group]));
    return true;
  }

  /** pg:get_members/2: every member, newest first, a pid once per join. */
  getMembers(group: Term): Pid[] {
    return [...(this.table.get(group)?.all ?? [])];
  }

  /** pg:get_local_members/2. */
  getLocalMembers(group: Term): Pid[] {
    return [...(this.table.get(group)?.local ?? [])];
  }

  /** pg:which_groups/1: groups with at least one member. */
  whichGroups(): Term[] {
    return this.table.groups();
  }

  /** pg:which_local_groups/1. */
  whichLocalGroups(): Term[] {
    return this.table.localGroups();
  }

  /** The scope processes of other nodes this one exchanges membership with. */
  peers(): Pid[] {
    return [...this.remote.values()].map((r) => r.pid);
  }

  /**
   * pg:monitor_scope/1 for `by`: the groups with their members now, and from then on
   * `{Ref, join | leave, Group, Pids}` messages to `by` until it exits or {@link demonitor}.
   */
  monitorScope(by: Process | Pid): { ref: Ref; groups: ErlMap } {
    this.check();
    const pid = by instanceof Pid ? by : by.pid;
    const ref = this.proc.monitor(pid);
    this.monitors.addScope(pid, ref);
    return { ref, groups: new ErlMap(this.table.snapshot().map((e) => [e.group, [...e.all]] as const)) };
  }

  /** pg:monitor/2 for `by`: the group's members now, then its join and leave messages. */
  monitor(by: Process | Pid, group: Term): { ref: Ref; members: Pid[] } {
    this.check();
    const pid = by instanceof Pid ? by : by.pid;
    const ref = this.proc.monitor(pid);
    this.monitors.addGroup(pid, ref, group);
    return { ref, members: this.getMembers(group) };
  }

  /**
   * pg:demonitor/2: false when `ref` is no monitor of this scope. Given the monitoring process,
   * its mailbox is flushed of the monitor's messages (as pg:demonitor does for the caller).
   */
  demonitor(ref: Ref, by?: Process): boolean {
    this.check();
    if (!this.monitors.remove(ref)) return false;
    this.proc.demonitor(ref);
    const k = refKey(ref);
    if (by !== undefined && by.alive) {
      by.mailbox.drop(
        (m) => m instanceof Tuple && m.elements.length === 4 && m.elements[0] instanceof Ref && refKey(m.elements[0]) === k && (m.elements[1] === JOIN || m.elements[1] === LEAVE),
      );
    }
    return true;
  }

  /** Stop the scope (its peers drop its members when they see it go). */
  async stop(): Promise<void> {
    if (this.running) this.node.exitSignal(undefined, this.pid, atoms.shutdown);
    await this.stopped;
  }

  // ---- the scope process ---------------------------------------------------------------------

  private async loop(self: Process): Promise<void> {
    for (;;) {
      const m = await self.receive();
      try {
        this.handle(m);
      } catch (err) {
        // pg.erl crashes on a message it does not know (its supervisor restarts it); a scope
        // that peers can crash is worse than one that tells.
        this.log.warn({ msg: String(m), err: err instanceof Error ? err.message : String(err) }, 'pg: message ignored');
      }
    }
  }

  private handle(m: Term): void {
    if (!(m instanceof Tuple)) return this.unexpected(m);
    const e = m.elements;
    const tag = e[0];
    if (tag === JOIN && e.length === 4 && e[1] instanceof Pid) return this.remoteJoin(e[1], e[2], e[3]);
    if (tag === LEAVE && e.length === 4 && e[1] instanceof Pid) return this.remoteLeave(e[1], e[2], e[3]);
    if (tag === DISCOVER && e.length === 2 && e[1] instanceof Pid) return this.discovered(e[1]);
    if (tag === atoms.DOWN && e.length === 5 && e[1] instanceof Ref && e[3] instanceof Pid) return this.down(e[1], e[3]);
    if (tag === GEN_CAST && e.length === 2) {
      const c = e[1];
      if (c instanceof Tuple && c.elements.length === 3 && c.elements[0] === SYNC && c.elements[1] instanceof Pid) return this.sync(c.elements[1], c.elements[2]);
    }
    if (tag === GEN_CALL && e.length === 3) return this.call(e[1], e[2]);
    this.unexpected(m);
  }

  private unexpected(m: Term): void {
    this.log.warn({ msg: String(m) }, 'pg: unexpected message ignored');
  }

  /** handle_info({discover, Peer}): answer with our members; discover it back when new. */
  private discovered(peer: Pid): void {
    this.proc.send(peer, syncCast(this.pid, this.allLocalPids()));
    if (this.remote.has(pidKey(peer))) return;
    const ref = this.proc.monitor(peer);
    this.proc.send(peer, discover(this.pid));
    this.remote.set(pidKey(peer), { pid: peer, ref, groups: new Map() });
  }

  /** handle_sync: what the peer sends replaces all we knew of it. */
  private sync(peer: Pid, groupsTerm: Term): void {
    const groups = syncGroups(groupsTerm);
    if (groups === undefined) return this.unexpected(groupsTerm);
    const k = pidKey(peer);
    let r = this.remote.get(k);
    if (r === undefined) {
      r = { pid: peer, ref: this.proc.monitor(peer), groups: new Map() };
      this.remote.set(k, r);
    }
    const old = r.groups;
    const next = new Map<string, { group: Term; pids: Pid[] }>();
    for (const [group, pids] of groups) {
      const gk = termKey(group);
      const before = old.get(gk);
      if (before === undefined) this.table.joinRemote(group, pids);
      else {
        old.delete(gk);
        if (!samePids(before.pids, pids)) this.table.replaceRemote(group, before.pids, pids);
      }
      next.set(gk, { group, pids });
    }
    // Groups the peer no longer has members in.
    for (const { group, pids } of old.values()) this.table.leaveRemote(pids, [group]);
    r.groups = next;
  }

  /** handle_info({join, Peer, Group, PidOrPids}): ignored from a scope we do not know (a race, or a stranger). */
  private remoteJoin(peer: Pid, group: Term, pidOrPids: Term): void {
    const r = this.remote.get(pidKey(peer));
    if (r === undefined) return;
    const pids = pidList(pidOrPids);
    if (pids === undefined) return this.unexpected(pidOrPids);
    this.table.joinRemote(group, pids);
    const gk = termKey(group);
    const g = r.groups.get(gk);
    if (g !== undefined) g.pids = [...pids, ...g.pids];
    else r.groups.set(gk, { group, pids });
  }

  /** handle_info({leave, Peer, PidOrPids, Groups}). */
  private remoteLeave(peer: Pid, pidOrPids: Term, groupsTerm: Term): void {
    const r = this.remote.get(pidKey(peer));
    if (r === undefined) return;
    const pids = pidList(pidOrPids);
    const groups = Array.isArray(groupsTerm) ? groupsTerm : undefined;
    if (pids === undefined || groups === undefined) return this.unexpected(new Tuple([pidOrPids, groupsTerm]));
    this.table.leaveRemote(pids, groups);
    for (const group of groups) {
      const gk = termKey(group);
      const g = r.groups.get(gk);
      if (g === undefined) continue;
      const rest = subtract(g.pids, pids);
      if (rest.length === 0) r.groups.delete(gk);
      else g.pids = rest;
    }
  }

  /** handle_info({'DOWN', …}): a member exited, a peer scope (or its node) went, or a monitor exited. */
  private down(ref: Ref, pid: Pid): void {
    const k = pidKey(pid);
    if (pid.node === this.node.name) {
      const m = this.local.get(k);
      if (m !== undefined && refKey(m.ref) === refKey(ref)) {
        this.local.delete(k);
        for (const group of m.groups) this.table.leaveLocal(group, [pid]);
        this.broadcast(leaveMsg(this.pid, pid, m.groups));
        return;
      }
    } else {
      const r = this.remote.get(k);
      if (r !== undefined && refKey(r.ref) === refKey(ref)) {
        this.remote.delete(k);
        for (const { group, pids } of r.groups.values()) this.table.leaveRemote(pids, [group]);
        return;
      }
    }
    // maybe_drop_monitor: a process that monitored this scope exited.
    this.monitors.remove(ref);
  }

  /** The monitor calls of pg.erl's handle_call, for Erlang processes that call this scope. */
  private call(from: Term, req: Term): void {
    const caller = from instanceof Tuple ? from.elements[0] : undefined;
    if (!(caller instanceof Pid)) return this.unexpected(req);
    if (req === MONITOR) {
      const { ref, groups } = this.monitorScope(caller);
      genReply(this.proc, from, new Tuple([ref, groups]));
    } else if (req instanceof Tuple && req.elements.length === 2 && req.elements[0] === MONITOR) {
      const { ref, members } = this.monitor(caller, req.elements[1]);
      genReply(this.proc, from, new Tuple([ref, members]));
    } else if (req instanceof Tuple && req.elements.length === 2 && req.elements[0] === DEMONITOR && req.elements[1] instanceof Ref) {
      genReply(this.proc, from, this.demonitor(req.elements[1]) ? atoms.ok : atoms.false);
    } else {
      this.unexpected(req);
    }
  }

  // ---- internals ---------------------------------------------------------------------------

  private ensureLocal(pidOrPids: Pid | readonly Pid[]): Pid[] {
    this.check();
    const pids = pidOrPids instanceof Pid ? [pidOrPids] : [...pidOrPids];
    for (const p of pids) {
      if (!(p instanceof Pid) || p.node !== this.node.name) {
        throw new UsageError('NOT_LOCAL', `pg: only processes of this node (${this.node.name.name}) can join or leave here, not ${String(p)} (as OTP's {nolocal, Pid})`);
      }
    }
    return pids;
  }

  private check(): void {
    if (!this.running) throw new UsageError('NOPROC', `the pg scope ${this.scope.name} has stopped: start it again with startPg(node, '${this.scope.name}')`);
  }

  /** all_local_pids: `[{Group, [Pid]}]` of every local member, a pid once per join. */
  private allLocalPids(): Array<[Term, Pid[]]> {
    const acc = new Map<string, [Term, Pid[]]>();
    for (const m of this.local.values()) {
      for (const g of m.groups) {
        const gk = termKey(g);
        const e = acc.get(gk);
        if (e !== undefined) e[1] = [m.pid, ...e[1]];
        else acc.set(gk, [g, [m.pid]]);
      }
    }
    return [...acc.values()];
  }

  /** To every known peer scope (pg.erl's broadcast: erlang:send with noconnect). */
  private broadcast(msg: Term): void {
    for (const r of this.remote.values()) this.proc.send(r.pid, msg);
  }

  private notify(action: 'join' | 'leave', group: Term, pids: readonly Pid[], local: boolean): void {
    for (const m of this.monitors.watchers(group)) this.proc.send(m.pid, monitorMsg(m.ref, action, group, pids));
    if (this.changes.observed) this.changes.next({ scope: this.scope, type: action, group, pids: [...pids], local });
  }

  /** terminate: the table goes with the process (pg.erl's ets:delete). */
  private terminated(reason: Term): void {
    this.running = false;
    this.log.debug({ reason: String(reason) }, 'pg scope stopped');
    for (const s of this.subs) s.unsubscribe();
    this.table.clear();
    this.local.clear();
    this.remote.clear();
    this.monitors.clear();
    this.changes.complete();
  }
}
