import { Atom, ErlMap, Pid, Ref, Tuple, atoms, termEquals, termKey, type Term } from '@courier/term';
import { ProcessGone, type Node, type Process } from '@courier/core';
import { genReply } from '../services/erlang-services.js';
import { GlobalConnect, type ConnectHost } from './connect.js';
import { NameExchange } from './exchange.js';
import type { LockerHost } from './locker.js';
import { KnownNodes } from './known-nodes.js';
import { GlobalNames } from './names.js';
import { NodeDicts } from './node-dict.js';
import { PartitionGuard } from './partitions.js';
import { SyncedNodes } from './synced.js';
import type { GlobalTables } from './tables.js';
import { A, GEN_CALL, GEN_CAST, VSN } from './wire.js';

/**
 * global_name_server: OTP 25's `global` name server (kernel's global.erl, protocol version 8) for
 * a visible Courier node. Every handler is synchronous, as a gen_server callback is; what blocks in
 * Erlang (the locker, name resolution, the registrar, sync waits) runs in processes of its own.
 * This module is the server's process: its loop, and the dispatch of its calls, casts and other
 * messages to the parts that handle them: names and locks in names.ts; the connect with other nodes
 * in connect.ts and the exchange of names that follows in exchange.ts (the per-node state global.erl
 * keeps in the process dictionary in node-dict.ts); the nodes in sync and global:sync/0,1 in
 * synced.ts; the prevention of overlapping partitions in partitions.ts.
 * docs/erlang.md ("global") says which parts are followed and how.
 */

/** What the name server is built with (by ErlGlobal). */
export interface ServerDeps {
  readonly tables: GlobalTables;
  /** Registers a JS function the locker runs before letting go of a lock; returns its id. */
  putFun(f: (self: Process) => void): number;
  /** The locker and registrar processes, started by the caller once the server runs. */
  locker: Pid | undefined;
}

/** The name server: one process, one message at a time. */
export class GlobalServer implements Pick<LockerHost, 'known'> {
  private readonly k: KnownNodes;
  private readonly connectionIds = new Map<Atom, number>();
  /** Nodes disconnected by disconnectAll(): their nodedown is `ignore_node`. */
  private readonly quietlyDown = new Set<Atom>();
  private unique = 0n;
  private readonly syncedNodes: SyncedNodes;
  private readonly dict = new NodeDicts();
  private readonly connect: GlobalConnect;
  private readonly exchange: NameExchange;
  private readonly partitions: PartitionGuard;

  private self!: Process;
  readonly names: GlobalNames;

  constructor(
    readonly node: Node,
    private readonly deps: ServerDeps,
  ) {
    this.k = new KnownNodes(node.name);
    this.names = new GlobalNames(node, deps.tables);
    this.syncedNodes = new SyncedNodes(node);
    this.partitions = new PartitionGuard({
      node,
      known: this.k,
      uniqueInteger: () => this.uniqueInteger(),
      handleNodedown: (n, what) => this.connect.handleNodedown(n, what),
    });
    const host: ConnectHost = {
      node,
      tables: deps.tables,
      names: this.names,
      known: this.k,
      dict: this.dict,
      synced: this.syncedNodes,
      get locker() {
        return deps.locker;
      },
      putFun: (f) => deps.putFun(f),
      uniqueInteger: () => this.uniqueInteger(),
      partitionNodedown: (n, what) => this.partitions.nodedown(n, what),
    };
    this.connect = new GlobalConnect(host);
    this.exchange = new NameExchange(host, this.connect);
  }

  private get tables(): GlobalTables {
    return this.deps.tables;
  }

  /** erlang:unique_integer/0 of the server: sync tags and lost_connection op ids, from one counter. */
  private uniqueInteger(): bigint {
    return ++this.unique;
  }

  /** The nodes global knows (get_known). */
  known(): Atom[] {
    return this.k.names();
  }

  /** The nodes in sync with this one (get_synced), the latest first. */
  get synced(): Atom[] {
    return this.syncedNodes.list;
  }

  /** The loop, as process `self`: one message at a time, each handled to the end before the next. */
  async run(self: Process): Promise<never> {
    this.self = self;
    this.names.attach(self);
    this.syncedNodes.attach(self);
    this.connect.attach(self);
    this.exchange.attach(self);
    this.partitions.attach(self);
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
        return genReply(this.self, from, this.syncedNodes.list);
      case A.sync:
        if (e.length === 2 && Array.isArray(e[1])) return this.syncedNodes.sync(e[1], from);
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
    if (tag === A.initConnect && e.length === 4 && e[2] instanceof Atom) return this.connect.onInitConnect(e[1], e[2], e[3]);
    if (tag === A.lockIsSet && e.length === 4 && e[1] instanceof Atom) return this.exchange.onLockIsSet(e[1], e[2], e[3]);
    if (tag === A.exchange && e.length === 5 && e[1] instanceof Atom) return this.exchange.onExchange(e[1], e[2], e[4]);
    if (tag === A.exchangeOps && e.length === 5 && e[1] instanceof Atom) return this.exchange.onExchangeOps(e[1], e[2], e[3] as Term[], e[4] as Term[]);
    if (tag === A.resolved && e.length === 7 && e[1] instanceof Atom) {
      const [, node, hisResolved, hisKnown, , namesExt, myTag] = e as [Term, Atom, Term[], Term, Term, Term, Term];
      return this.exchange.onResolved(node, hisResolved, hisKnown, namesExt, myTag);
    }
    if (tag === A.newNodes && e.length === 6 && e[1] instanceof Atom) return this.exchange.newNodes(e[2] as Term[], e[1], e[3], e[4] as Term[], e[5]);
    if (tag === A.inSync && e.length === 3 && e[1] instanceof Atom) return this.exchange.inSync(e[1]);
    if ((tag === A.asyncDelName || tag === A.asyncDelLock) && e.length === 3) return; // DOWN does it (pre-R14 messages)
    if (tag === A.lockSet && e.length === 5 && e[1] instanceof Pid) {
      if (termEquals(this.dict.tagMy(e[1].node), e[4]) && this.deps.locker !== undefined) this.self.send(this.deps.locker, msg);
      return;
    }
    if (tag === A.lockSet && e.length === 4 && this.deps.locker !== undefined) return this.self.send(this.deps.locker, msg);
    this.node.log.warn({ message: String(msg) }, 'global: the name server received an unexpected cast');
  }

  // ---- other messages -------------------------------------------------------------------

  private info(m: Term): void {
    const e = m instanceof Tuple ? m.elements : [];
    const tag = e[0];
    if (tag === atoms.EXIT && e.length === 3 && e[1] instanceof Pid) return this.syncedNodes.syncerExited(e[1]);
    if (tag === A.nodedown && e.length === 3 && e[1] instanceof Atom) {
      this.connect.handleNodedown(e[1], this.quietlyDown.delete(e[1]) ? 'ignore_node' : 'disconnected');
      this.connectionIds.delete(e[1]);
      return;
    }
    if (tag === A.extraNodedown && e.length === 2 && e[1] instanceof Atom) {
      this.connect.extraNodedown(e[1]);
      this.connectionIds.delete(e[1]);
      return;
    }
    if (tag === A.nodeup && e.length === 3 && e[1] instanceof Atom) {
      const cid = e[2] instanceof ErlMap ? e[2].get(A.connectionId) : undefined;
      if (typeof cid === 'number') this.connectionIds.set(e[1], cid);
      this.connect.handleNodeup(e[1]);
      return;
    }
    if (tag === A.whereis && e.length === 3) {
      // do_whereis/2: answered once no global lock is set (a registration is not half done).
      if (!this.tables.isGlobalLockSet()) genReply(this.self, e[2], this.names.where(e[1]) ?? atoms.undefined);
      else this.self.sendAfter(125 + Math.floor(Math.random() * 3875), this.self.pid, m);
      return;
    }
    if (tag === A.lostConnection && e.length === 5 && e[1] instanceof Atom && e[4] instanceof Atom) return this.partitions.onLostConnection(m as Tuple);
    if (tag === A.removeConnection && e.length === 2 && e[1] instanceof Atom) return this.partitions.onRemoveConnection(e[1]);
    if (tag === A.cancelConnect && e.length === 3 && e[1] instanceof Atom) return this.connect.onCancelConnect(e[1], e[2]);
    if (tag === A.initConnectAck && e.length === 4 && e[1] instanceof Atom) return this.connect.onInitConnectAck(e[1], e[2], e[3]);
    if (tag === atoms.DOWN && e.length === 5 && e[1] instanceof Ref) return this.names.onDown(e[1]);
    this.node.log.warn({ message: String(m) }, 'global: the name server received an unexpected message');
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
