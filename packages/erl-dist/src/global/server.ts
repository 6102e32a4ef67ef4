import { Atom, ErlMap, Pid, Ref, Tuple, atoms, termEquals, termKey, type Term } from '@courier/term';
import { ProcessGone, pidKey, type Node, type Process } from '@courier/core';
import { genReply } from '../services/erlang-services.js';
import type { LockerHost } from './locker.js';
import { startResolver, startSync, syncOthers } from './helpers.js';
import { KnownNodes, nodeList } from './known-nodes.js';
import { GlobalNames } from './names.js';
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
  private readonly k: KnownNodes;
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

  private self!: Process;
  readonly names: GlobalNames;

  constructor(
    readonly node: Node,
    private readonly deps: ServerDeps,
  ) {
    this.k = new KnownNodes(node.name);
    this.names = new GlobalNames(node, deps.tables);
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
    return this.k.names();
  }

  /** The loop, as process `self`: one message at a time, each handled to the end before the next. */
  async run(self: Process): Promise<never> {
    this.self = self;
    this.names.attach(self);
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
          this.names.insName(e[1], e[2], e[3], caller, []);
          return genReply(this.self, from, A.yes);
        }
        break;
      case A.unregister:
        if (e.length === 2) {
          this.names.deleteGlobalName(e[1]);
          return genReply(this.self, from, atoms.ok);
        }
        break;
      case A.registerExt:
        if (e.length === 5 && e[2] instanceof Pid && e[4] instanceof Atom) {
          this.names.insNameExt(e[1], e[2], e[3], e[4], caller, []);
          return genReply(this.self, from, A.yes);
        }
        break;
      case A.setLock:
        if (e.length === 2 && caller !== undefined && isLockId(e[1])) return genReply(this.self, from, this.names.handleSetLock(e[1] as Tuple, caller) ? true : false);
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
          const syncer = startSync(this.self, nodes, from);
          this.syncers.set(pidKey(syncer), syncer);
          return;
        }
        break;
      case A.getProtocolVersion:
        return genReply(this.self, from, VSN);
      case A.getNamesExt:
        return genReply(this.self, from, this.names.namesExt());
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
      this.handleNodeup(e[1]);
      return;
    }
    if (tag === A.whereis && e.length === 3) {
      // do_whereis/2: answered once no global lock is set (a registration is not half done).
      if (!this.tables.isGlobalLockSet()) genReply(this.self, e[2], this.names.where(e[1]) ?? atoms.undefined);
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
      this.k.pending.delete(node);
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
    if (tag === atoms.DOWN && e.length === 5 && e[1] instanceof Ref) return this.names.onDown(e[1]);
    this.node.log.warn({ message: String(m) }, 'global: the name server received an unexpected message');
  }

  // ---- the connection algorithm ---------------------------------------------------------

  /** handle_nodeup/2: make ourselves known to a new node and start a resolver for it. */
  private handleNodeup(node: Atom): void {
    if (node === this.node.name) return;
    if (this.k.versions.has(node) || this.resolvers.has(node)) return;
    this.resendPreConnect(node);
    const myTag = this.uniqueInteger();
    this.d(node).syncTagMy = myTag;
    const knownMap = new ErlMap([...this.k.versions].map(([n, v]) => [n, v] as [Term, Term]));
    const initMsg = t(A.locker, A.noLongerAPid, knownMap, this.deps.locker);
    castGns(this.self, node, t(A.initConnect, t(VSN, myTag), this.node.name, initMsg));
    const resolver = startResolver(this.self, this.tables, node, myTag);
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
    if (this.k.pending.has(node)) {
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
      this.k.pending.set(node, hisVsn);
    } else {
      d.preConnect = { vsn, initMsg, hisTag };
    }
  }

  /** restart_connect/3. */
  private restartConnect(node: Atom, myTag: Term): void {
    this.cancelLocker(node, myTag);
    this.resetNodeState(node);
    this.k.pending.delete(node);
    // The node is up from our side (we had a tag): a new resolver and init_connect.
    if (typeof myTag === 'number' || typeof myTag === 'bigint') this.handleNodeup(node);
  }

  /** lock_is_set/3: the lock is set in both partitions; send our names. */
  private lockIsSet(node: Atom, lockId: Term): void {
    const d = this.d(node);
    castGns(this.self, node, t(A.exchange, this.node.name, this.names.getNames(), [], d.syncTagHis ?? atoms.undefined));
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
    const known = this.k.mkKnownList(this.k.nodeVsn(node));
    castGns(this.self, node, t(A.resolved, this.node.name, resolvedOps, known, A.unused, this.names.namesExt(), d.syncTagHis ?? atoms.undefined));
    const saved = d.saveOps;
    d.saveOps = ops;
    if (saved !== undefined && !Array.isArray(saved)) this.resolved(node, saved.hisResolved, saved.hisKnown, saved.namesExt);
  }

  /** resolved/5: both sides resolved; apply, tell our partition, become known to each other. */
  private resolved(node: Atom, hisResolved: Term[], hisKnown: Term, namesExt: Term): void {
    const d = this.d(node);
    const ops = [...(Array.isArray(d.saveOps) ? d.saveOps : []), ...(Array.isArray(hisResolved) ? hisResolved : [])];
    d.saveOps = undefined;
    const knownBefore = new Map(this.k.versions);
    const synced = this.synced;
    const hisList = Array.isArray(hisKnown) ? hisKnown : [];
    const newNodes = this.k.makeNodeVsnList([node, ...hisList]);
    const hisKnownNodes = nodeList(hisList);
    syncOthers(this.self, hisKnownNodes);
    const extraInfo = [t(A.vsn, d.protVsn ?? atoms.undefined), t(A.lock, d.lockId ?? atoms.undefined)];
    this.names.doOps(ops, this.node.name, namesExt, extraInfo);
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
    const added = this.k.addToKnown(newNodes);
    if (this.deps.locker !== undefined) this.self.send(this.deps.locker, t(A.addToKnown, added));
    this.synced = [node, ...synced];
  }

  private cancelResolvedLocker(node: Atom, cancel: (tag: Term) => void): void {
    const tag = this.tagMy(node);
    this.k.pending.delete(node);
    cancel(tag);
    this.resetNodeState(node);
  }

  /** new_nodes/6: nodes of the other partition become known; connect to them. */
  private newNodes(ops: Term[], connNode: Atom, namesExt: Term, nodes: Term[], extraInfo: Term): void {
    const added = this.k.addToKnown(Array.isArray(nodes) ? nodes : []);
    syncOthers(this.self, added);
    this.names.doOps(Array.isArray(ops) ? ops : [], connNode, namesExt, extraInfo);
    if (this.deps.locker !== undefined) this.self.send(this.deps.locker, t(A.addToKnown, added));
  }

  private inSync(node: Atom): void {
    for (const p of this.syncers.values()) this.self.send(p, t(A.synced, [node]));
    if (!this.synced.includes(node)) this.synced = [node, ...this.synced];
    this.k.pending.delete(node);
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
    const v = this.k.pending.get(node);
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
    this.k.pending.delete(node);
    this.k.versions.delete(node);
    this.synced = this.synced.filter((n) => n !== node);
  }

  // ---- preventing overlapping partitions -----------------------------------------------

  private informConnectionLoss(node: Atom): void {
    const xcre = this.creationExtension + BigInt(this.node.creation) - MIN_64BIT_SMALL_INT;
    const msg = t(A.lostConnection, this.node.name, xcre, this.uniqueInteger(), node);
    this.volatileMulticast(msg, node, POP_VSN);
  }

  /** gns_volatile_multicast/5 to known and pending nodes of `minVer` or later. */
  private volatileMulticast(msg: Term, ignore: Atom, minVer: number): void {
    for (const [n, v] of this.k.versions) if (n !== ignore && v >= minVer) volatileSend(this.self, n, msg);
    for (const [n, v] of this.k.pending) if (n !== ignore && v >= minVer) volatileSend(this.self, n, msg);
  }

  /** `{lost_connection, NodeA, XCreationA, OpIdA, NodeB}`: NodeA lost NodeB; so do we. */
  private onLostConnection(m: Tuple): void {
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
    if (!this.k.potentiallyKnown(rm)) return;
    const vsn = this.k.nodeVsn(rm);
    if (vsn < POP_VSN) {
      this.node.disconnect(rm);
    } else {
      volatileSend(this.self, rm, t(A.removeConnection, this.node.name));
    }
    this.node.log.warn({ peer: rm.name }, `global: ${vsn < POP_VSN ? 'disconnected old' : 'requested disconnect from'} node ${rm.name} in order to prevent overlapping partitions`);
    this.handleNodedown(rm, 'remove_connection');
  }

  private onRemoveConnection(node: Atom): void {
    if (!this.k.potentiallyKnown(node)) return;
    this.node.disconnect(node);
    this.handleNodedown(node, 'remove_connection');
    this.node.log.warn({ peer: node.name }, `global: disconnected node ${node.name} in order to prevent overlapping partitions`);
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
}

function isLockId(x: Term): boolean {
  return x instanceof Tuple && x.elements.length === 2;
}

function toBig(x: Term): bigint | undefined {
  if (typeof x === 'bigint') return x;
  if (typeof x === 'number' && Number.isInteger(x)) return BigInt(x);
  return undefined;
}
