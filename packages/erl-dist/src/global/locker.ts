import { Atom, Pid, Tuple, atoms, termEquals, type Term } from '@courier/term';
import { ProcessGone, TIMEOUT, type Process } from '@courier/core';
import { deleteGlobalLock, delLock, lockId, setLock, type LockId } from './locks.js';
import type { GlobalTables } from './tables.js';
import { A, GLOBAL, VERIFY_CONNECT_VSN, castGns, sortPids, t, theBoss } from './wire.js';

/**
 * global's locker ("the_locker" in global.erl): one per node. When two nodes connect, each name
 * server hands its locker the other side's locker (`his_the_locker`); the lockers then lock
 * `{global, sort([LockerA, LockerB])}` on every node of their own partition plus the other node,
 * tell each other through the name servers (`lock_set`), report `lock_is_set` to their server and
 * hold the lock until the server cancels it (the names have been exchanged). Ported from OTP 25
 * clause by clause; the comments name the Erlang function each part follows.
 */
interface Him {
  readonly node: Atom;
  readonly locker: Pid;
  readonly vsn: number;
  readonly myTag: Term;
  readonly hisTag: Term;
}

export interface LockerHost {
  readonly tables: GlobalTables;
  /** The nodes the name server knows now (get_known). */
  known(): Atom[];
  /** Functions the server asks the locker to run before it lets go of a lock (`cancel` with a fun). */
  takeFun(id: number): ((self: Process) => void) | undefined;
}

export class Locker {
  private local: Him[] = [];
  private remote: Him[] = [];
  private known: Atom[] = [];
  private boss!: Atom;
  private justSynced = false;
  private readonly myHost: string;

  constructor(
    private readonly self: Process,
    private readonly host: LockerHost,
  ) {
    this.myHost = hostOf(self.node.name);
    this.updateKnown({ add: host.known() });
  }

  /** loop_the_locker/1. */
  async run(): Promise<never> {
    const self = this.self;
    for (;;) {
      let m = self.tryReceive();
      if (m === TIMEOUT) {
        const timeout =
          this.local.length === 0 && this.remote.length === 0 ? undefined : this.justSynced ? 0 : this.known.length === 0 ? 200 : Math.min(1000 + 100 * this.known.length, 3000);
        this.justSynced = false;
        m = timeout === undefined ? await self.receive() : await self.receive(undefined, timeout);
        if (m === TIMEOUT) {
          if (!this.host.tables.isGlobalLockSet()) await this.selectNode();
          continue;
        }
      }
      try {
        await this.message(m);
      } catch (err) {
        if (err instanceof ProcessGone) throw err;
        self.node.log.error({ err, message: String(m) }, 'global: the locker failed on a message');
      }
    }
  }

  /** the_locker_message/2. */
  private async message(m: Term): Promise<void> {
    if (this.self.node.log.isLevelEnabled?.('trace') === true) this.self.node.log.trace({ message: String(m) }, 'global: locker message');
    if (!(m instanceof Tuple)) return this.unexpected(m);
    const e = m.elements;
    if (e[0] === A.hisTheLocker && e.length === 5) {
      const [, locker, vk, hisTag, myTag] = e as [Term, Pid, Tuple, Term, Term];
      const vsn = Number(vk.elements[0]);
      const him: Him = { node: locker.node, locker, vsn, myTag, hisTag };
      if (hostOf(him.node) === this.myHost) this.local.unshift(him);
      else this.remote.unshift(him);
    } else if (e[0] === A.cancel && e.length === 4) {
      // A cancel tagged `undefined` may be an old nodedown cancelling a new nodeup: ignored.
      if (e[2] !== atoms.undefined) this.removeNode(e[1] as Atom, e[2]);
    } else if (e[0] === A.lockSet && (e.length === 5 || e.length === 4) && e[1] instanceof Pid) {
      if (e[2] !== true) return;
      const pid = e[1];
      const found = this.findNodeTag(pid.node);
      if (found !== undefined && (e.length === 4 || termEquals(found.myTag, e[4]))) {
        await this.spontaneous(pid, found);
      } else {
        this.sendLockSet(false, pid, 5, 0);
      }
    } else if (e[0] === A.addToKnown && e.length === 2) {
      this.updateKnown({ add: e[1] as Atom[] });
    } else if (e[0] === A.removeFromKnown && e.length === 2) {
      this.updateKnown({ remove: e[1] as Atom });
    } else {
      this.unexpected(m);
    }
  }

  /** The other locker set the lock first (`lock_set` true while this one was idle). */
  private async spontaneous(pid: Pid, him: Him): Promise<void> {
    const id = this.lockIdWith(pid);
    const set = await this.lockNodesSafely(id, []);
    this.sendLockSet(set, pid, him.vsn, him.hisTag);
    if (!set) {
      this.justSynced = false;
      return;
    }
    const known2 = [this.self.node.name, ...this.known];
    castGns(this.self, this.self.node.name, t(A.lockIsSet, pid.node, him.myTag, id));
    await this.waitCancelLock(pid.node, id, him.myTag, known2);
    this.justSynced = true;
    this.removeNode(pid.node, him.myTag);
  }

  /** select_node/1: pick a node waiting to be synced and try to lock both partitions. */
  private async selectNode(): Promise<void> {
    const useRemote = this.local.length === 0;
    const others = (useRemote ? this.remote : this.local).filter((h) => !this.known.includes(h.node));
    if (useRemote) this.remote = others;
    else this.local = others;
    if (others.length === 0) return;
    const him = others[Math.floor(Math.random() * others.length)] as Him;
    const id = this.lockIdWith(him.locker);
    // [Node] as Extra prevents deadlock.
    if (!(await this.lockNodesSafely(id, [him.node]))) return;
    const known1 = [this.self.node.name, him.node, ...this.known];
    this.sendLockSet(true, him.locker, him.vsn, him.hisTag);
    await this.lockIsSet(him, known1, id);
  }

  /** lock_is_set/5: wait for the other locker's answer (or a cancel). */
  private async lockIsSet(him: Him, known1: Atom[], id: LockId): Promise<void> {
    const self = this.self;
    const node = him.node;
    for (;;) {
      const m = (await self.receive(
        (x) =>
          x instanceof Tuple &&
          ((x.elements[0] === A.lockSet && (x.elements.length === 5 || x.elements.length === 4) && x.elements[1] instanceof Pid && x.elements[1].node === node) ||
            (x.elements[0] === A.cancel && x.elements.length === 4 && x.elements[1] === node && termEquals(x.elements[2], him.myTag))),
      )) as Tuple;
      const e = m.elements;
      if (e[0] === A.cancel) {
        this.callFun(e[3]);
        await deleteGlobalLock(self, id, known1);
        this.removeNode(node, him.myTag);
        return;
      }
      const current = e.length === 4 || termEquals(e[4], him.myTag);
      if (!current) continue; // an answer to an older attempt
      if (e[2] === true) {
        castGns(self, self.node.name, t(A.lockIsSet, node, him.myTag, id));
        await this.waitCancelLock(node, id, him.myTag, known1);
        this.justSynced = true;
        this.local = this.local.filter((h) => h !== him);
        this.remote = this.remote.filter((h) => h !== him);
        return;
      }
      await deleteGlobalLock(self, id, known1);
      return;
    }
  }

  /** wait_cancel_lock/6: hold the lock until the server says the names are exchanged. */
  private async waitCancelLock(node: Atom, id: LockId, myTag: Term, known: Atom[]): Promise<void> {
    const m = (await this.self.receive(
      (x) => x instanceof Tuple && x.elements.length === 4 && x.elements[0] === A.cancel && x.elements[1] === node && termEquals(x.elements[2], myTag),
    )) as Tuple;
    this.callFun(m.elements[3]);
    await deleteGlobalLock(this.self, id, known);
  }

  private callFun(f: Term): void {
    if (typeof f === 'number') this.host.takeFun(f)?.(this.self);
  }

  /** lock_nodes_safely/3: the boss first, then this node and Extra, then every known node. */
  private async lockNodesSafely(id: LockId, extra: Atom[]): Promise<boolean> {
    const self = this.self;
    const me = self.node.name;
    const tables = this.host.tables;
    const first = [this.boss];
    const [rid, req] = id.elements as [Term, Term];
    if (!(first[0] === me || tables.canSetLock(rid, req) !== false)) return false;
    if (!(await setLock(self, tables, id, first, 0))) return false;
    this.drainKnownUpdates();
    const second = [me, ...extra].filter((n) => !first.includes(n));
    if (!(await setLock(self, tables, id, second, 0))) {
      await delLock(self, id, first);
      return false;
    }
    const rest = this.known.filter((n) => !first.includes(n));
    if (await setLock(self, tables, id, rest, 0)) return true;
    await delLock(self, id, [...first, ...second]);
    return false;
  }

  /** send_lock_set/5: through the other node's name server (vsn 6+), with its tag (vsn 8+). */
  private sendLockSet(isSet: boolean, hisLocker: Pid, vsn: number, hisTag: Term): void {
    const set = isSet;
    const msg = vsn < VERIFY_CONNECT_VSN ? t(A.lockSet, this.self.pid, set, this.known) : t(A.lockSet, this.self.pid, set, this.known, hisTag);
    if (vsn < 6) this.self.send(hisLocker, msg);
    else castGns(this.self, hisLocker.node, msg);
  }

  private lockIdWith(his: Pid): LockId {
    return lockId(GLOBAL, sortPids(this.self.pid, his));
  }

  private findNodeTag(node: Atom): Him | undefined {
    return this.local.find((h) => h.node === node) ?? this.remote.find((h) => h.node === node);
  }

  /** remove_node/3: the first entry for `node` with `tag` from each list. */
  private removeNode(node: Atom, tag: Term): void {
    const drop = (l: Him[]): Him[] => {
      const i = l.findIndex((h) => h.node === node && termEquals(h.myTag, tag));
      return i < 0 ? l : [...l.slice(0, i), ...l.slice(i + 1)];
    };
    this.local = drop(this.local);
    this.remote = drop(this.remote);
  }

  /** update_locker_known/1: apply the add/remove messages already queued. */
  private drainKnownUpdates(): void {
    for (;;) {
      const m = this.self.tryReceive((x) => x instanceof Tuple && x.elements.length === 2 && (x.elements[0] === A.addToKnown || x.elements[0] === A.removeFromKnown));
      if (m === TIMEOUT) return;
      const e = (m as Tuple).elements;
      this.updateKnown(e[0] === A.addToKnown ? { add: e[1] as Atom[] } : { remove: e[1] as Atom });
    }
  }

  private updateKnown(u: { add: Atom[] } | { remove: Atom }): void {
    if ('add' in u) this.known = [...u.add, ...this.known];
    else {
      const i = this.known.indexOf(u.remove);
      if (i >= 0) this.known = [...this.known.slice(0, i), ...this.known.slice(i + 1)];
    }
    this.boss = theBoss([this.self.node.name, ...this.known]);
  }

  private unexpected(m: Term): void {
    this.self.node.log.warn({ message: String(m) }, 'global: the locker received an unexpected message');
  }
}

function hostOf(node: Atom): string {
  const i = node.name.indexOf('@');
  return i < 0 ? '' : node.name.slice(i + 1);
}
