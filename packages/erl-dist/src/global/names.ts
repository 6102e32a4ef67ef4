import { Atom, Pid, Ref, Tuple, termEquals, termKey, type Term } from '@courier/term';
import type { Node, Process } from '@courier/core';
import type { GlobalTables } from './tables.js';
import { A, t } from './wire.js';

/**
 * The name and lock operations of global's name server (ins_name, delete_global_name2,
 * handle_set_lock, do_ops, the DOWN of a registered or locking process) on its tables; the
 * server's process holds the monitors.
 */
export class GlobalNames {
  private self!: Process;

  constructor(
    private readonly node: Node,
    private readonly tables: GlobalTables,
  ) {}

  attach(self: Process): void {
    this.self = self;
  }

  /** where/1. */
  where(name: Term): Pid | undefined {
    const e = this.tables.lookup(name);
    if (e === undefined) return undefined;
    if (e.pid.node === this.node.name) return this.node.isAlive(e.pid) ? e.pid : undefined;
    return e.pid;
  }

  getNames(): Tuple[] {
    return [...this.tables.names.values()].map((e) => t(e.name, e.pid, e.method));
  }

  namesExt(): Tuple[] {
    return [...this.tables.namesExt.values()].map((e) => t(e.name, e.pid, e.regNode));
  }

  insName(name: Term, pid: Pid, method: Term, fromPidOrNode: Pid | Atom | undefined, extraInfo: Term): void {
    this.deleteGlobalName(name);
    this.insertGlobalName(name, pid, method, fromPidOrNode, extraInfo);
  }

  insNameExt(name: Term, pid: Pid, method: Term, regNode: Atom, fromPidOrNode: Pid | Atom | undefined, extraInfo: Term): void {
    this.deleteGlobalName(name);
    if (regNode === this.node.name) this.self.link(pid);
    this.tables.namesExt.set(termKey(name), { name, pid, regNode });
    this.insertGlobalName(name, pid, method, fromPidOrNode, extraInfo);
  }

  insertGlobalName(name: Term, pid: Pid, method: Term, fromPidOrNode: Pid | Atom | undefined, extraInfo: Term): void {
    this.tables.insertName(this.self, name, pid, method);
    // The node that took the lock went down and up again meanwhile: the name is not kept.
    if (!this.lockStillSet(fromPidOrNode, extraInfo)) this.deleteGlobalName(name);
  }

  /** lock_still_set/3. */
  lockStillSet(fromPidOrNode: Pid | Atom | undefined, extraInfo: Term): boolean {
    const l = this.tables.globalLock();
    if (l === undefined) return !this.tables.globalLockDown;
    if (fromPidOrNode instanceof Pid) return l.pidRefs.some((x) => termEquals(x.pid, fromPidOrNode));
    const lock = extraInfoOf(A.lock, extraInfo);
    return lock instanceof Tuple && lock.elements.length === 2 && termEquals(l.requesterId, lock.elements[1]);
  }

  /** delete_global_name2/2, with the unlink of an external name's pid (dounlink_ext/2). */
  deleteGlobalName(name: Term): void {
    const gone = this.tables.deleteName(this.self, name);
    if (gone?.regNode === this.node.name && this.tables.namesOf(gone.pid) === 0 && !this.holdsLock(gone.pid)) this.self.unlink(gone.pid);
  }

  holdsLock(pid: Pid): boolean {
    for (const l of this.tables.locks.values()) if (l.pidRefs.some((x) => termEquals(x.pid, pid))) return true;
    return false;
  }

  /** handle_set_lock/3. */
  handleSetLock(id: Tuple, pid: Pid): boolean {
    const [rid, req] = id.elements as [Term, Term];
    const holders = this.tables.canSetLock(rid, req);
    if (holders === false) return false;
    if (!holders.some((x) => termEquals(x.pid, pid))) this.tables.insertLock(this.self, rid, req, pid, holders);
    return true;
  }

  onDown(ref: Ref): void {
    const rid = this.tables.lockOfRef(ref);
    if (rid !== undefined) this.tables.removeLock(this.self, rid, { ref }, true);
    const name = this.tables.nameOfRef(ref);
    if (name !== undefined) this.deleteGlobalName(name);
    this.tables.dropResource(ref);
  }

  /** do_ops/5: external inserts, then plain inserts, then deletes. */
  doOps(ops: Term[], connNode: Atom, namesExt: Term, extraInfo: Term): void {
    const ext = Array.isArray(namesExt) ? namesExt.filter((x): x is Tuple => x instanceof Tuple && x.elements.length === 3) : [];
    const inserts: Array<[Term, Pid, Term]> = [];
    const deletes: Term[] = [];
    for (const op of ops) {
      if (!(op instanceof Tuple) || op.elements.length !== 2) continue;
      const [kind, arg] = op.elements as [Term, Term];
      if (kind === A.insert && arg instanceof Tuple && arg.elements.length === 3 && arg.elements[1] instanceof Pid) inserts.push(arg.elements as [Term, Pid, Term]);
      else if (kind === A.delete) deletes.push(arg);
    }
    const extNames: Term[] = [];
    for (const [name, pid, method] of inserts) {
      const x = ext.find((n) => termEquals(n.elements[0], name) && termEquals(n.elements[1], pid));
      if (x !== undefined && x.elements[2] instanceof Atom) {
        this.insNameExt(name, pid, method, x.elements[2], connNode, extraInfo);
        extNames.push(name);
      }
    }
    for (const [name, pid, method] of inserts) {
      if (!extNames.some((n) => termEquals(n, name))) this.insName(name, pid, method, connNode, extraInfo);
    }
    for (const name of deletes) this.deleteGlobalName(name);
  }
}

function extraInfoOf(tag: Atom, extra: Term): Term | undefined {
  if (!Array.isArray(extra)) return undefined;
  for (const x of extra) if (x instanceof Tuple && x.elements.length === 2 && x.elements[0] === tag) return x.elements[1];
  return undefined;
}
