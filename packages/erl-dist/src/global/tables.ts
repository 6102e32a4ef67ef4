import { Atom, Pid, Ref, termKey, type Term } from '@courier/term';
import { pidKey, refKey, type Process } from '@courier/core';
import { Subject } from 'rxjs';
import { GLOBAL } from './wire.js';

/**
 * global.erl's ETS tables, owned by the name server process (which holds the monitors):
 * - names: `{Name, Pid, Method, MonitorRef}`, one per name; `pidNames` indexes them by pid and ref;
 * - namesExt: names registered by external (C-)nodes through an Erlang node, `{Name, Pid, RegNode}`;
 * - locks: `{ResourceId, LockRequesterId, [{Pid, Ref}]}`; `refLocks` indexes them by monitor ref;
 * - nodeResources: the monitor refs of names and locks held by processes of each node, so a
 *   node's resources can be dropped at once.
 */
export interface NameEntry {
  readonly name: Term;
  readonly pid: Pid;
  readonly method: Term;
  readonly ref: Ref;
}

export interface LockEntry {
  readonly resourceId: Term;
  readonly requesterId: Term;
  pidRefs: Array<{ readonly pid: Pid; readonly ref: Ref }>;
}

/** A global name registered or unregistered (on {@link ErlGlobal.changes$}). */
export type NameChange = { readonly type: 'registered'; readonly name: Term; readonly pid: Pid } | { readonly type: 'unregistered'; readonly name: Term; readonly pid: Pid };

export class GlobalTables {
  readonly names = new Map<string, NameEntry>();
  readonly namesExt = new Map<string, { readonly name: Term; readonly pid: Pid; readonly regNode: Atom }>();
  private readonly refName = new Map<string, string>();
  private readonly pidNameCount = new Map<string, Set<string>>();
  readonly locks = new Map<string, LockEntry>();
  private readonly refLocks = new Map<string, string>();
  private readonly nodeResources = new Map<Atom, Set<string>>();
  private readonly refNode = new Map<string, Atom>();
  private readonly refs = new Map<string, Ref>();
  /** True once the global lock was removed because its holder died (lock_still_set/3). */
  globalLockDown = false;
  readonly changes$ = new Subject<NameChange>();

  // ---- names ---------------------------------------------------------------------------

  lookup(name: Term): NameEntry | undefined {
    return this.names.get(termKey(name));
  }

  namesOf(pid: Pid): number {
    return this.pidNameCount.get(pidKey(pid))?.size ?? 0;
  }

  namesOfPid(pid: Pid): Term[] {
    const keys = this.pidNameCount.get(pidKey(pid));
    if (keys === undefined) return [];
    const out: Term[] = [];
    for (const k of keys) {
      const e = this.names.get(k);
      if (e !== undefined) out.push(e.name);
    }
    return out;
  }

  /** insert_global_name/6 minus the lock check: monitor the pid from the server and record. */
  insertName(self: Process, name: Term, pid: Pid, method: Term): void {
    const ref = self.monitor(pid);
    this.saveResource(pid.node, ref);
    const key = termKey(name);
    this.names.set(key, { name, pid, method, ref });
    this.refName.set(refKey(ref), key);
    let s = this.pidNameCount.get(pidKey(pid));
    if (s === undefined) this.pidNameCount.set(pidKey(pid), (s = new Set()));
    s.add(key);
    this.changes$.next({ type: 'registered', name, pid });
  }

  /** delete_global_name2/2: drop the name, its monitor and its external entry; the external entry's pid. */
  deleteName(self: Process, name: Term): { pid: Pid; regNode: Atom | undefined } | undefined {
    const key = termKey(name);
    const e = this.names.get(key);
    if (e === undefined) return undefined;
    this.names.delete(key);
    this.refName.delete(refKey(e.ref));
    this.dropResource(e.ref);
    self.demonitor(e.ref, { flush: true });
    const s = this.pidNameCount.get(pidKey(e.pid));
    s?.delete(key);
    if (s?.size === 0) this.pidNameCount.delete(pidKey(e.pid));
    const ext = this.namesExt.get(key);
    this.namesExt.delete(key);
    this.changes$.next({ type: 'unregistered', name: e.name, pid: e.pid });
    return { pid: e.pid, regNode: ext !== undefined && termKey(ext.pid) === termKey(e.pid) ? ext.regNode : undefined };
  }

  /** The name whose monitor is `ref` (del_name/2). */
  nameOfRef(ref: Ref): Term | undefined {
    const key = this.refName.get(refKey(ref));
    return key === undefined ? undefined : this.names.get(key)?.name;
  }

  // ---- locks ---------------------------------------------------------------------------

  /** can_set_lock/1: the holders when `requesterId` may (also) hold `resourceId`, else false. */
  canSetLock(resourceId: Term, requesterId: Term): LockEntry['pidRefs'] | false {
    const l = this.locks.get(termKey(resourceId));
    if (l === undefined) return [];
    return termKey(l.requesterId) === termKey(requesterId) ? l.pidRefs : false;
  }

  isLockSet(resourceId: Term): boolean {
    return this.locks.has(termKey(resourceId));
  }

  isGlobalLockSet(): boolean {
    return this.isLockSet(GLOBAL);
  }

  /** The global lock's entry (lock_still_set/3). */
  globalLock(): LockEntry | undefined {
    return this.locks.get(termKey(GLOBAL));
  }

  insertLock(self: Process, resourceId: Term, requesterId: Term, pid: Pid, holders: LockEntry['pidRefs']): void {
    const ref = self.monitor(pid);
    this.saveResource(pid.node, ref);
    const key = termKey(resourceId);
    this.refLocks.set(refKey(ref), key);
    this.locks.set(key, { resourceId, requesterId, pidRefs: [{ pid, ref }, ...holders] });
  }

  /** handle_del_lock/3 and the DOWN path (delete_lock/2): `pid` (or the holder monitored by `ref`) lets go. */
  removeLock(self: Process, resourceId: Term, holder: { pid?: Pid; ref?: Ref }, down: boolean): void {
    const key = termKey(resourceId);
    const l = this.locks.get(key);
    if (l === undefined) return;
    const i = l.pidRefs.findIndex((x) => (holder.ref !== undefined ? refKey(x.ref) === refKey(holder.ref) : termKey(x.pid) === termKey(holder.pid)));
    if (i < 0) return;
    const { ref } = l.pidRefs[i] as { ref: Ref };
    this.dropResource(ref);
    this.refLocks.delete(refKey(ref));
    self.demonitor(ref, { flush: true });
    l.pidRefs.splice(i, 1);
    if (l.pidRefs.length === 0) {
      this.locks.delete(key);
      if (l.resourceId === GLOBAL) this.globalLockDown = down;
    }
  }

  /** The resource whose lock is held through monitor `ref`. */
  lockOfRef(ref: Ref): Term | undefined {
    const key = this.refLocks.get(refKey(ref));
    return key === undefined ? undefined : this.locks.get(key)?.resourceId;
  }

  // ---- node resources ------------------------------------------------------------------

  private saveResource(node: Atom, ref: Ref): void {
    const k = refKey(ref);
    let s = this.nodeResources.get(node);
    if (s === undefined) this.nodeResources.set(node, (s = new Set()));
    s.add(k);
    this.refNode.set(k, node);
    this.refs.set(k, ref);
  }

  dropResource(ref: Ref): void {
    const k = refKey(ref);
    const node = this.refNode.get(k);
    if (node === undefined) return;
    this.refNode.delete(k);
    this.refs.delete(k);
    const s = this.nodeResources.get(node);
    s?.delete(k);
    if (s?.size === 0) this.nodeResources.delete(node);
  }

  /** The monitor refs of everything held by processes of `node`. */
  resourcesOf(node: Atom): Ref[] {
    const s = this.nodeResources.get(node);
    return s === undefined ? [] : [...s].map((k) => this.refs.get(k) as Ref);
  }
}
