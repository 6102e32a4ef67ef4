import { Atom, ErlMap, Pid, Ref, Tuple, atoms, termEquals, termKey, type Term } from '@courier/term';
import { ProcessGone, pidKey, type Node, type Process } from '@courier/core';
import { genReply } from '../services/erlang-services.js';
import type { LockerHost } from './locker.js';
import { exchangeNames } from './resolve.js';
import type { GlobalTables } from './tables.js';
import { A, GEN_CALL, GEN_CAST, PGPV_VSN, POP_VSN, VERIFY_CONNECT_VSN, VSN, castGns, t, volatileSend } from './wire.js';

/**
 * global_name_server: OTP 25's `global` name server (kernel's global.erl, protocol version 8) for
 * a visible Courier node. Every handler is synchronous, as a gen_server callback is; what blocks in
 * Erlang (the locker, name resolution, the registrar, sync waits) runs in processes of its own.
 * Per-node connection state that global.erl keeps in the process dictionary is in `dict` below.
 * docs/erlang.md ("global") says which parts are followed and how.
 */
const MIN_64BIT_SMALL_INT = -(1n << 59n);
const LOST_CONN_INFO_CLEANUP_MS = 60 * 60 * 1000;

interface NodeDict {
  syncTagMy?: Term;
  syncTagHis?: Term;
  preConnect?: { vsn: number; initMsg: Term; hisTag: Term };
  waitLock?: { exchange: Term } | 'lock_is_set';
  saveOps?: Term[] | { hisKnown: Term; namesExt: Term; hisResolved: Term[] };
  protVsn?: number;
  lockId?: Term;
}

type NodedownType = 'disconnected' | 'ignore_node' | 'remove_connection';

export interface ServerDeps {
  readonly tables: GlobalTables;
  /** Registers a JS function the locker runs before letting go of a lock; returns its id. */
  putFun(f: (self: Process) => void): number;
  /** The locker and registrar processes, started by the caller once the server runs. */
  locker: Pid | undefined;
}

export class GlobalServer implements Pick<LockerHost, 'known'> {
  /** Known nodes and their global protocol version (0: not yet known). */
  readonly knownNodes = new Map<Atom, number>();
  private readonly pending = new Map<Atom, number>();
  private readonly removing = new Set<Atom>();
  private readonly connectionIds = new Map<Atom, number>();
  synced: Atom[] = [];
  private readonly resolvers = new Map<Atom, { tag: Term; pid: Pid }>();
  private readonly syncers = new Map<string, Pid>();
  private readonly dict = new Map<Atom, NodeDict>();
  /** Nodes disconnected by disconnectAll(): their nodedown is `ignore_node`. */
  private readonly quietlyDown = new Set<Atom>();
  private readonly lostConnections = new Map<string, { xcre: bigint; opId: bigint; at: number }>();
  private readonly creationExtension: bigint;
  private unique = 0n;
  private connectAll = true;
  private preventOverlappingPartitions = true;

  private self!: Process;

  constructor(
    readonly node: Node,
    private readonly deps: ServerDeps,
  ) {
    // A random 64-bit value with the low 32 bits clear, told apart from the node's creation.
    const hi = BigInt(Math.floor(Math.random() * 2 ** 27)) << 32n;
    this.creationExtension = hi;
  }

  private get tables(): GlobalTables {
    return this.deps.tables;
  }

  private d(node: Atom): NodeDict {
    let x = this.dict.get(node);
    if (x === undefined) this.dict.set(node, (x = {}));
    return x;
  }

  private tagMy(node: Atom): Term {
    return this.dict.get(node)?.syncTagMy ?? atoms.undefined;
  }

  private uniqueInteger(): bigint {
    return ++this.unique;
  }

  known(): Atom[] {
    return [...this.knownNodes.keys()];
  }

  /** The loop, as process `self`: one message at a time, each handled to the end before the next. */
  async run(self: Process): Promise<never> {
    this.self = self;
    for (;;) {
      const m = await this.self.receive();
      // String(m) formats the whole term: only when trace is on (it is a tenth of the server's time otherwise).
      if (this.node.log.isLevelEnabled?.('trace') === true) this.node.log.trace({ message: String(m) }, 'global: name server message');
      try {
        this.handle(m);
      } catch (err) {
        if (err instanceof ProcessGone) throw err;
        this.node.log.error({ err, message: String(m) }, 'global: the name server failed on a message');
      }
    }
  }

  private handle(m: Term): void {
    if (m instanceof Tuple) {
      const e = m.elements;
      if (e[0] === GEN_CALL && e.length === 3) return this.call(e[2], e[1]);
      if (e[0] === GEN_CAST && e.length === 2) return this.cast(e[1]);
    }
    this.info(m);
  }

  // ---- calls ---------------------------------------------------------------------------

  private call(req: Term, from: Term): void {
    const caller = from instanceof Tuple && from.elements[0] instanceof Pid ? from.elements[0] : undefined;
    const e = req instanceof Tuple ? req.elements : [req];
    // genReply directly, not through a closure made per call: under tsx (esbuild keepNames) each closure is
    // also named when made, which showed in the profile of register_name (bench/global).
    switch (e[0]) {
      case A.register:
        if (e.length === 4 && e[2] instanceof Pid) {
          this.insName(e[1], e[2], e[3], caller, []);
          return genReply(this.self, from, A.yes);
        }
        break;
      case A.unregister:
        if (e.length === 2) {
          this.deleteGlobalName(e[1]);
          return genReply(this.self, from, atoms.ok);
        }
        break;
      case A.registerExt:
        if (e.length === 5 && e[2] instanceof Pid && e[4] instanceof Atom) {
          this.insNameExt(e[1], e[2], e[3], e[4], caller, []);
          return genReply(this.self, from, A.yes);
        }
        break;
      case A.setLock:
        if (e.length === 2 && caller !== undefined && isLockId(e[1])) return genReply(this.self, from, this.handleSetLock(e[1] as Tuple, caller) ? true : false);
        break;
      case A.delLock:
        if (e.length === 2 && caller !== undefined && isLockId(e[1])) {
          const [rid, req2] = (e[1] as Tuple).elements as [Term, Term];
          const l = this.tables.locks.get(termKey(rid));
          if (l !== undefined && termEquals(l.requesterId, req2)) this.tables.removeLock(this.self, rid, { pid: caller }, false);
          return genReply(this.self, from, true);
        }
        break;
      case A.getKnown:
        return genReply(this.self, from, this.known());
      case A.getSynced:
        return genReply(this.self, from, this.synced);
      case A.sync:
        if (e.length === 2 && Array.isArray(e[1])) {
          const nodes = e[1].filter((n): n is Atom => n instanceof Atom && n !== this.node.name && !this.synced.includes(n));
          this.startSync(nodes, from);
          return;
        }
        break;
      case A.getProtocolVersion:
        return genReply(this.self, from, VSN);
      case A.getNamesExt:
        return genReply(this.self, from, this.namesExt());
    }
    this.node.log.warn({ request: String(req), from: String(from) }, 'global: the name server received an unexpected call');
  }

  // ---- casts ---------------------------------------------------------------------------

  private cast(msg: Term): void {
    const e = msg instanceof Tuple ? msg.elements : [];
    const tag = e[0];
    if (tag === A.initConnect && e.length === 4 && e[2] instanceof Atom) return this.onInitConnect(e[1], e[2], e[3]);
    if (tag === A.lockIsSet && e.length === 4 && e[1] instanceof Atom) {
      const node = e[1];
      if (termEquals(this.tagMy(node), e[2])) this.lockIsSet(node, e[3]);
      else this.cancelLocker(node, e[2]);
      return;
    }
    if (tag === A.exchange && e.length === 5 && e[1] instanceof Atom) {
      const node = e[1];
      if (termEquals(this.tagMy(node), e[4])) this.exchange(node, e[2]);
      else this.cancelLocker(node, e[4]);
      return;
    }
    if (tag === A.exchangeOps && e.length === 5 && e[1] instanceof Atom) return this.onExchangeOps(e[1], e[2], e[3] as Term[], e[4] as Term[]);
    if (tag === A.resolved && e.length === 7 && e[1] instanceof Atom) {
      const [, node, hisResolved, hisKnown, , namesExt, myTag] = e as [Term, Atom, Term[], Term, Term, Term, Term];
      if (!termEquals(this.tagMy(node), myTag)) return this.cancelLocker(node, myTag);
      const d = this.d(node);
      if (Array.isArray(d.saveOps)) this.resolved(node, hisResolved, hisKnown, namesExt);
      else d.saveOps = { hisKnown, namesExt, hisResolved };
      return;
    }
    if (tag === A.newNodes && e.length === 6 && e[1] instanceof Atom) return this.newNodes(e[2] as Term[], e[1], e[3], e[4] as Term[], e[5]);
    if (tag === A.inSync && e.length === 3 && e[1] instanceof Atom) return this.inSync(e[1]);
    if ((tag === A.asyncDelName || tag === A.asyncDelLock) && e.length === 3) return; // DOWN does it (pre-R14 messages)
    if (tag === A.lockSet && e.length === 5 && e[1] instanceof Pid) {
      if (termEquals(this.tagMy(e[1].node), e[4]) && this.deps.locker !== undefined) this.self.send(this.deps.locker, msg);
      return;
    }
    if (tag === A.lockSet && e.length === 4 && this.deps.locker !== undefined) return this.self.send(this.deps.locker, msg);
    this.node.log.warn({ message: String(msg) }, 'global: the name server received an unexpected cast');
  }

  // ---- other messages -------------------------------------------------------------------

  private info(m: Term): void {
    const e = m instanceof Tuple ? m.elements : [];
    const tag = e[0];
    if (tag === atoms.EXIT && e.length === 3 && e[1] instanceof Pid) {
      this.syncers.delete(pidKey(e[1]));
      return;
    }
    if (tag === A.nodedown && e.length === 3 && e[1] instanceof Atom) {
      this.handleNodedown(e[1], this.quietlyDown.delete(e[1]) ? 'ignore_node' : 'disconnected');
      this.connectionIds.delete(e[1]);
      return;
    }
    if (tag === A.extraNodedown && e.length === 2 && e[1] instanceof Atom) {
      for (const p of this.syncers.values()) this.self.send(p, t(A.nodedown, e[1]));
      this.handleNodedown(e[1], 'disconnected');
      this.connectionIds.delete(e[1]);
      return;
    }
    if (tag === A.nodeup && e.length === 3 && e[1] instanceof Atom) {
      const cid = e[2] instanceof ErlMap ? e[2].get(A.connectionId) : undefined;
      if (typeof cid === 'number') this.connectionIds.set(e[1], cid);
      if (this.connectAll) this.handleNodeup(e[1]);
      return;
    }
    if (tag === A.whereis && e.length === 3) {
      // do_whereis/2: answered once no global lock is set (a registration is not half done).
      if (!this.tables.isGlobalLockSet()) genReply(this.self, e[2], this.where(e[1]) ?? atoms.undefined);
      else this.self.sendAfter(125 + Math.floor(Math.random() * 3875), this.self.pid, m);
      return;
    }
    if (tag === A.lostConnection && e.length === 5 && e[1] instanceof Atom && e[4] instanceof Atom) return this.onLostConnection(m as Tuple);
    if (tag === A.removeConnection && e.length === 2 && e[1] instanceof Atom) return this.onRemoveConnection(e[1]);
    if (tag === A.cancelConnect && e.length === 3 && e[1] instanceof Atom) {
      const node = e[1];
      if (!termEquals(this.tagMy(node), e[2])) return;
      this.cancelLocker(node, e[2]);
      this.resetNodeState(node);
      this.pending.delete(node);
      this.restartConnect(node, e[2]);
      return;
    }
    if (tag === A.initConnectAck && e.length === 4 && e[1] instanceof Atom) {
      const node = e[1];
      const myMy = this.tagMy(node);
      const myHis = this.dict.get(node)?.syncTagHis ?? atoms.undefined;
      if (termEquals(myMy, e[2]) && termEquals(myHis, e[3])) return;
      // Connection attempt out of sync: cancel it and start over.
      this.sendCancelConnectMessage(node, e[3]);
      this.restartConnect(node, myMy);
      return;
    }
    if (tag === atoms.DOWN && e.length === 5 && e[1] instanceof Ref) return this.onDown(e[1]);
    this.node.log.warn({ message: String(m) }, 'global: the name server received an unexpected message');
  }

  // ---- names ---------------------------------------------------------------------------

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

  private namesExt(): Tuple[] {
    return [...this.tables.namesExt.values()].map((e) => t(e.name, e.pid, e.regNode));
  }

  private insName(name: Term, pid: Pid, method: Term, fromPidOrNode: Pid | Atom | undefined, extraInfo: Term): void {
    this.deleteGlobalName(name);
    this.insertGlobalName(name, pid, method, fromPidOrNode, extraInfo);
  }

  private insNameExt(name: Term, pid: Pid, method: Term, regNode: Atom, fromPidOrNode: Pid | Atom | undefined, extraInfo: Term): void {
    this.deleteGlobalName(name);
    if (regNode === this.node.name) this.self.link(pid);
    this.tables.namesExt.set(termKey(name), { name, pid, regNode });
    this.insertGlobalName(name, pid, method, fromPidOrNode, extraInfo);
  }

  private insertGlobalName(name: Term, pid: Pid, method: Term, fromPidOrNode: Pid | Atom | undefined, extraInfo: Term): void {
    this.tables.insertName(this.self, name, pid, method);
    // The node that took the lock went down and up again meanwhile: the name is not kept.
    if (!this.lockStillSet(fromPidOrNode, extraInfo)) this.deleteGlobalName(name);
  }

  /** lock_still_set/3. */
  private lockStillSet(fromPidOrNode: Pid | Atom | undefined, extraInfo: Term): boolean {
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

  private holdsLock(pid: Pid): boolean {
    for (const l of this.tables.locks.values()) if (l.pidRefs.some((x) => termEquals(x.pid, pid))) return true;
    return false;
  }

  /** handle_set_lock/3. */
  private handleSetLock(id: Tuple, pid: Pid): boolean {
    const [rid, req] = id.elements as [Term, Term];
    const holders = this.tables.canSetLock(rid, req);
    if (holders === false) return false;
    if (!holders.some((x) => termEquals(x.pid, pid))) this.tables.insertLock(this.self, rid, req, pid, holders);
    return true;
  }

  private onDown(ref: Ref): void {
    const rid = this.tables.lockOfRef(ref);
    if (rid !== undefined) this.tables.removeLock(this.self, rid, { ref }, true);
    const name = this.tables.nameOfRef(ref);
    if (name !== undefined) this.deleteGlobalName(name);
    this.tables.dropResource(ref);
  }

  /** do_ops/5: external inserts, then plain inserts, then deletes. */
  private doOps(ops: Term[], connNode: Atom, namesExt: Term, extraInfo: Term): void {
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

  // ---- the connection algorithm ---------------------------------------------------------

  /** handle_nodeup/2: make ourselves known to a new node and start a resolver for it. */
  private handleNodeup(node: Atom): void {
    if (node === this.node.name) return;
    if (this.knownNodes.has(node) || this.resolvers.has(node)) return;
    this.resendPreConnect(node);
    const myTag = this.uniqueInteger();
    this.d(node).syncTagMy = myTag;
    const knownMap = new ErlMap([...this.knownNodes].map(([n, v]) => [n, v] as [Term, Term]));
    const initMsg = t(A.locker, A.noLongerAPid, knownMap, this.deps.locker);
    castGns(this.self, node, t(A.initConnect, t(VSN, myTag), this.node.name, initMsg));
    const resolver = this.startResolver(node, myTag);
    this.resolvers.set(node, { tag: myTag, pid: resolver });
  }

  private resendPreConnect(node: Atom): void {
    const d = this.dict.get(node);
    const pre = d?.preConnect;
    if (pre === undefined || d === undefined) return;
    d.preConnect = undefined;
    castGns(this.self, this.node.name, t(A.initConnect, t(pre.vsn, pre.hisTag), node, pre.initMsg));
  }

  /** init_connect/6 (the cast's version checks first). */
  private onInitConnect(vsnTerm: Term, node: Atom, initMsg: Term): void {
    if (!(vsnTerm instanceof Tuple) || vsnTerm.elements.length < 2 || typeof vsnTerm.elements[0] !== 'number') {
      this.node.log.info({ vsn: String(vsnTerm), peer: node.name }, 'global: illegal protocol version');
      return;
    }
    const hisVsn = vsnTerm.elements[0];
    const hisTag = vsnTerm.elements[1];
    const vsn = Math.min(hisVsn, VSN);
    if (this.pending.has(node)) {
      if (hisVsn < VERIFY_CONNECT_VSN) {
        this.node.disconnect(node);
        this.node.log.error({ peer: node.name, vsn: hisVsn }, 'global: an out of sync connection attempt from an old node; disconnecting from it');
        return;
      }
      // Cancel this attempt and the one under way, then start over.
      this.sendCancelConnectMessage(node, hisTag);
      this.restartConnect(node, this.tagMy(node));
    }
    const d = this.d(node);
    d.protVsn = vsn;
    d.syncTagHis = hisTag;
    const r = this.resolvers.get(node);
    if (r !== undefined) {
      const hisTheLocker = initMsg instanceof Tuple && initMsg.elements.length === 4 ? initMsg.elements[3] : undefined;
      if (!(hisTheLocker instanceof Pid)) return;
      if (this.deps.locker !== undefined) this.self.send(this.deps.locker, t(A.hisTheLocker, hisTheLocker, t(vsn, []), hisTag, r.tag));
      if (hisVsn >= VERIFY_CONNECT_VSN) volatileSend(this.self, node, t(A.initConnectAck, this.node.name, hisTag, r.tag));
      this.pending.set(node, hisVsn);
    } else {
      d.preConnect = { vsn, initMsg, hisTag };
    }
  }

  /** restart_connect/3. */
  private restartConnect(node: Atom, myTag: Term): void {
    this.cancelLocker(node, myTag);
    this.resetNodeState(node);
    this.pending.delete(node);
    // The node is up from our side (we had a tag): a new resolver and init_connect.
    if (typeof myTag === 'number' || typeof myTag === 'bigint') this.handleNodeup(node);
  }

  /** lock_is_set/3: the lock is set in both partitions; send our names. */
  private lockIsSet(node: Atom, lockId: Term): void {
    const d = this.d(node);
    castGns(this.self, node, t(A.exchange, this.node.name, this.getNames(), [], d.syncTagHis ?? atoms.undefined));
    d.lockId = lockId;
    const w = d.waitLock;
    if (w !== undefined && w !== 'lock_is_set') {
      d.waitLock = 'lock_is_set';
      this.exchange(node, w.exchange);
    } else {
      d.waitLock = 'lock_is_set';
    }
  }

  /** exchange/3: both sides hold the lock and have the names: resolve. */
  private exchange(node: Atom, nameList: Term): void {
    const d = this.d(node);
    const w = d.waitLock;
    d.waitLock = undefined;
    if (w === 'lock_is_set') {
      const r = this.resolvers.get(node);
      if (r !== undefined) this.self.send(r.pid, t(A.resolve, nameList, node));
    } else {
      d.waitLock = { exchange: nameList };
    }
  }

  private onExchangeOps(node: Atom, myTag: Term, ops: Term[], resolvedOps: Term[]): void {
    if (!termEquals(this.tagMy(node), myTag)) return this.cancelLocker(node, myTag);
    const d = this.d(node);
    const known = this.mkKnownList(this.nodeVsn(node));
    castGns(this.self, node, t(A.resolved, this.node.name, resolvedOps, known, A.unused, this.namesExt(), d.syncTagHis ?? atoms.undefined));
    const saved = d.saveOps;
    d.saveOps = ops;
    if (saved !== undefined && !Array.isArray(saved)) this.resolved(node, saved.hisResolved, saved.hisKnown, saved.namesExt);
  }

  /** resolved/5: both sides resolved; apply, tell our partition, become known to each other. */
  private resolved(node: Atom, hisResolved: Term[], hisKnown: Term, namesExt: Term): void {
    const d = this.d(node);
    const ops = [...(Array.isArray(d.saveOps) ? d.saveOps : []), ...(Array.isArray(hisResolved) ? hisResolved : [])];
    d.saveOps = undefined;
    const knownBefore = new Map(this.knownNodes);
    const synced = this.synced;
    const hisList = Array.isArray(hisKnown) ? hisKnown : [];
    const newNodes = this.makeNodeVsnList([node, ...hisList]);
    const hisKnownNodes = nodeList(hisList);
    this.syncOthers(hisKnownNodes);
    const extraInfo = [t(A.vsn, d.protVsn ?? atoms.undefined), t(A.lock, d.lockId ?? atoms.undefined)];
    this.doOps(ops, this.node.name, namesExt, extraInfo);
    for (const p of this.syncers.values()) this.self.send(p, t(A.synced, [node]));
    for (const n of hisKnownNodes) this.cancelResolvedLocker(n, (tag) => this.cancelLocker(n, tag));
    // The locker that holds the lock sends new_nodes before it lets go, so that del_lock reaches
    // the other nodes after new_nodes.
    const me = this.node.name;
    const newNodesMsg = t(A.newNodes, me, ops, namesExt, newNodes, extraInfo);
    const oldMsg = t(A.newNodes, me, ops, namesExt, nodeList(newNodes), extraInfo);
    const fun = this.deps.putFun((locker) => {
      for (const [n, v] of knownBefore) castGns(locker, n, v >= PGPV_VSN ? newNodesMsg : oldMsg);
    });
    this.cancelResolvedLocker(node, (tag) => this.cancelLocker(node, tag, fun));
    const added = this.addToKnown(newNodes);
    if (this.deps.locker !== undefined) this.self.send(this.deps.locker, t(A.addToKnown, added));
    this.synced = [node, ...synced];
  }

  private cancelResolvedLocker(node: Atom, cancel: (tag: Term) => void): void {
    const tag = this.tagMy(node);
    this.pending.delete(node);
    cancel(tag);
    this.resetNodeState(node);
  }

  /** new_nodes/6: nodes of the other partition become known; connect to them. */
  private newNodes(ops: Term[], connNode: Atom, namesExt: Term, nodes: Term[], extraInfo: Term): void {
    const added = this.addToKnown(Array.isArray(nodes) ? nodes : []);
    this.syncOthers(added);
    this.doOps(Array.isArray(ops) ? ops : [], connNode, namesExt, extraInfo);
    if (this.deps.locker !== undefined) this.self.send(this.deps.locker, t(A.addToKnown, added));
  }

  private inSync(node: Atom): void {
    for (const p of this.syncers.values()) this.self.send(p, t(A.synced, [node]));
    if (!this.synced.includes(node)) this.synced = [node, ...this.synced];
    this.pending.delete(node);
    this.cancelLocker(node, this.tagMy(node));
    this.resetNodeState(node);
  }

  /** cancel_locker/4: tell the locker, the other side (if connecting) and kill the resolver. */
  private cancelLocker(node: Atom, tag: Term, fun?: number): void {
    if (this.deps.locker !== undefined) this.self.send(this.deps.locker, t(A.cancel, node, tag, fun ?? A.noFun));
    this.sendCancelConnect(node, tag);
    const r = this.resolvers.get(node);
    if (r !== undefined && termEquals(r.tag, tag)) {
      this.self.exit(r.pid, atoms.kill);
      this.resolvers.delete(node);
    }
  }

  private sendCancelConnect(node: Atom, myTag: Term): void {
    const v = this.pending.get(node);
    if (v === undefined || v < VERIFY_CONNECT_VSN) return;
    if (!termEquals(this.tagMy(node), myTag)) return;
    this.sendCancelConnectMessage(node, this.dict.get(node)?.syncTagHis ?? atoms.undefined);
  }

  private sendCancelConnectMessage(node: Atom, hisTag: Term): void {
    volatileSend(this.self, node, t(A.cancelConnect, this.node.name, hisTag));
  }

  private resetNodeState(node: Atom): void {
    this.dict.delete(node);
  }

  /** handle_nodedown/3. DOWN signals remove the node's names and locks. */
  private handleNodedown(node: Atom, what: NodedownType): void {
    this.cancelLocker(node, this.tagMy(node));
    if (this.deps.locker !== undefined) this.self.send(this.deps.locker, t(A.removeFromKnown, node));
    this.resetNodeState(node);
    if (what === 'remove_connection') this.removing.add(node);
    else if (what === 'ignore_node') this.removing.delete(node);
    else if (this.removing.has(node)) this.removing.delete(node);
    else this.informConnectionLoss(node);
    this.pending.delete(node);
    this.knownNodes.delete(node);
    this.synced = this.synced.filter((n) => n !== node);
  }

  // ---- preventing overlapping partitions -----------------------------------------------

  private informConnectionLoss(node: Atom): void {
    if (!this.connectAll || !this.preventOverlappingPartitions) return;
    const xcre = this.creationExtension + BigInt(this.node.creation) - MIN_64BIT_SMALL_INT;
    const msg = t(A.lostConnection, this.node.name, xcre, this.uniqueInteger(), node);
    this.volatileMulticast(msg, node, POP_VSN);
  }

  /** gns_volatile_multicast/5 to known and pending nodes of `minVer` or later. */
  private volatileMulticast(msg: Term, ignore: Atom, minVer: number): void {
    for (const [n, v] of this.knownNodes) if (n !== ignore && v >= minVer) volatileSend(this.self, n, msg);
    for (const [n, v] of this.pending) if (n !== ignore && v >= minVer) volatileSend(this.self, n, msg);
  }

  /** `{lost_connection, NodeA, XCreationA, OpIdA, NodeB}`: NodeA lost NodeB; so do we. */
  private onLostConnection(m: Tuple): void {
    if (!this.connectAll || !this.preventOverlappingPartitions) return;
    const [, nodeA, xcreT, opIdT, nodeB] = m.elements as [Term, Atom, Term, Term, Atom];
    const xcre = toBig(xcreT);
    const opId = toBig(opIdT);
    if (xcre === undefined || opId === undefined) return;
    const key = `${nodeA.name}\u0000${nodeB.name}`;
    const now = Date.now();
    for (const [k, v] of this.lostConnections) if (now - v.at > LOST_CONN_INFO_CLEANUP_MS) this.lostConnections.delete(k);
    const seen = this.lostConnections.get(key);
    if (seen !== undefined && seen.xcre === xcre && opId <= seen.opId) return;
    // Pass it on, so every node hears of it even if some lose NodeA meanwhile.
    this.volatileMulticast(m, nodeA, POP_VSN);
    this.lostConnections.set(key, { xcre, opId, at: now });
    const rm = this.node.name === nodeB ? nodeA : nodeB;
    if (!this.isNodePotentiallyKnown(rm)) return;
    const vsn = this.nodeVsn(rm);
    if (vsn < POP_VSN) {
      this.node.disconnect(rm);
    } else {
      volatileSend(this.self, rm, t(A.removeConnection, this.node.name));
    }
    this.node.log.warn({ peer: rm.name }, `global: ${vsn < POP_VSN ? 'disconnected old' : 'requested disconnect from'} node ${rm.name} in order to prevent overlapping partitions`);
    this.handleNodedown(rm, 'remove_connection');
  }

  private onRemoveConnection(node: Atom): void {
    if (!this.isNodePotentiallyKnown(node)) return;
    this.node.disconnect(node);
    this.handleNodedown(node, 'remove_connection');
    this.node.log.warn({ peer: node.name }, `global: disconnected node ${node.name} in order to prevent overlapping partitions`);
  }

  private isNodePotentiallyKnown(node: Atom): boolean {
    return this.knownNodes.has(node) || this.pending.has(node);
  }

  // ---- known nodes ---------------------------------------------------------------------

  private nodeVsn(node: Atom): number {
    if (node === this.node.name) return VSN;
    return this.knownNodes.get(node) ?? this.pending.get(node) ?? 0;
  }

  /** mk_known_list/2: `{Node, Vsn}` pairs for version 7+, bare nodes before. */
  private mkKnownList(vsn: number): Term[] {
    return vsn < PGPV_VSN ? this.known() : [...this.knownNodes].map(([n, v]) => t(n, v));
  }

  private makeNodeVsnList(list: Term[]): Tuple[] {
    const out: Tuple[] = [];
    for (const x of list) {
      if (x instanceof Atom) out.push(t(x, this.nodeVsn(x)));
      else if (x instanceof Tuple && x.elements[0] instanceof Atom) {
        const v = x.elements[1];
        out.push(v === 0 || typeof v !== 'number' ? t(x.elements[0], this.nodeVsn(x.elements[0])) : x);
      }
    }
    return out;
  }

  /** add_to_known/2: the nodes that were not known before. */
  private addToKnown(list: Term[]): Atom[] {
    const added: Atom[] = [];
    for (const x of list) {
      const [n, v] = x instanceof Atom ? [x, 0] : x instanceof Tuple && x.elements[0] instanceof Atom ? [x.elements[0], x.elements[1]] : [undefined, undefined];
      if (n === undefined || n === this.node.name) continue;
      const vn = typeof v === 'number' ? v : 0;
      const cur = this.knownNodes.get(n);
      if (cur === undefined) {
        added.unshift(n);
        this.knownNodes.set(n, vn);
      } else if (cur < 0) {
        this.knownNodes.set(n, vn);
      }
    }
    return added;
  }

  // ---- helper processes ----------------------------------------------------------------

  /** start_resolver/2: resolves name conflicts for one connect, off the server. */
  private startResolver(node: Atom, myTag: Term): Pid {
    const server = this.self.pid;
    const tables = this.tables;
    return this.self.spawn(async (r) => {
      const m = (await r.receive((x) => x instanceof Tuple && x.elements.length === 3 && x.elements[0] === A.resolve && x.elements[2] === node)) as Tuple;
      const { ops, resolved } = await exchangeNames(r, tables, (m.elements[1] as Term[]) ?? [], node);
      r.send(server, t(GEN_CAST, t(A.exchangeOps, node, myTag, ops, resolved)));
    });
  }

  /** sync_others/1: connect to each node and tell it we are in sync (or report it down). */
  private syncOthers(nodes: readonly Atom[]): void {
    const server = this.self.pid;
    for (const n of nodes) {
      this.self.spawn(async (p) => {
        if (await p.node.connect(n)) castGns(p, n, t(A.inSync, p.node.name, true));
        else {
          p.node.log.warn({ peer: n.name }, `global: failed to connect to ${n.name}`);
          p.send(server, t(A.extraNodedown, n));
        }
      });
    }
  }

  /** start_sync/2: a process that answers `From` once every node is synced or down. */
  private startSync(nodes: Atom[], from: Term): void {
    const pid = this.self.spawnLink(async (p) => {
      let left = [...nodes];
      for (const n of left) p.monitorNode(n);
      while (left.length > 0) {
        const m = (await p.receive((x) => x instanceof Tuple && x.elements.length === 2 && (x.elements[0] === A.nodedown || x.elements[0] === A.synced))) as Tuple;
        const gone = m.elements[0] === A.nodedown ? [m.elements[1] as Atom] : (m.elements[1] as Atom[]);
        for (const n of gone) if (left.includes(n)) p.monitorNode(n, false);
        left = left.filter((n) => !gone.includes(n));
      }
      genReply(p, from, atoms.ok);
    });
    this.syncers.set(pidKey(pid), pid);
  }

  /**
   * global:disconnect/0: disconnect from every node global knows of without telling the others
   * (no lost_connection); the nodes disconnected.
   */
  disconnectAll(): Atom[] {
    const nodes = [...this.connectionIds.keys()];
    for (const n of nodes) {
      this.quietlyDown.add(n);
      this.node.disconnect(n);
    }
    return nodes;
  }

  /** Stop taking part (node stop): no lost_connection messages while connections close. */
  prepareShutdown(): void {
    this.connectAll = false;
    this.preventOverlappingPartitions = false;
  }
}

function nodeList(list: Term[]): Atom[] {
  const out: Atom[] = [];
  for (const x of list) {
    if (x instanceof Atom) out.push(x);
    else if (x instanceof Tuple && x.elements[0] instanceof Atom) out.push(x.elements[0]);
  }
  return out;
}

function extraInfoOf(tag: Atom, extra: Term): Term | undefined {
  if (!Array.isArray(extra)) return undefined;
  for (const x of extra) if (x instanceof Tuple && x.elements.length === 2 && x.elements[0] === tag) return x.elements[1];
  return undefined;
}

function isLockId(x: Term): boolean {
  return x instanceof Tuple && x.elements.length === 2;
}

function toBig(x: Term): bigint | undefined {
  if (typeof x === 'bigint') return x;
  if (typeof x === 'number' && Number.isInteger(x)) return BigInt(x);
  return undefined;
}
