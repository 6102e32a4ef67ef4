import { Atom, ErlMap, Pid, Tuple, atoms, termEquals, type Term } from '@courier/term';
import type { Node, Process } from '@courier/core';
import { startResolver } from './helpers.js';
import type { KnownNodes } from './known-nodes.js';
import type { GlobalNames } from './names.js';
import type { NodeDicts } from './node-dict.js';
import type { NodedownType } from './partitions.js';
import type { SyncedNodes } from './synced.js';
import type { GlobalTables } from './tables.js';
import { A, VERIFY_CONNECT_VSN, VSN, castGns, t, volatileSend } from './wire.js';
import { ServerPart } from './server-part.js';

/**
 * global.erl's connection algorithm, in the name server's process: an attempt per node to bring it
 * and this node into sync, from nodeup to the end of the attempt. On nodeup each side casts
 * init_connect (with its tag and locker) and starts a resolver for the other; the other side's
 * init_connect is answered with init_connect_ack and handed to our locker, or kept (pre_connect)
 * when it comes before our nodeup. A tag per attempt (sync_tag_my, sync_tag_his) tells a stale
 * message from the current attempt; init_connect_ack and cancel_connect restart an attempt that got
 * out of step. Ending an attempt (cancel_locker) tells the locker and kills the resolver; a nodedown
 * ends it and forgets the node. What happens once the lock is set, the exchange of names, is in
 * exchange.ts.
 */

/** What the connection algorithm needs of the name server that runs it. */
export interface ConnectHost {
  readonly node: Node;
  readonly tables: GlobalTables;
  readonly names: GlobalNames;
  readonly known: KnownNodes;
  /** The per-node state of the attempts (global.erl's process dictionary). */
  readonly dict: NodeDicts;
  /** The nodes in sync, and global:sync/0,1's syncers. */
  readonly synced: SyncedNodes;
  /** The locker process (started after the server: read at each use). */
  readonly locker: Pid | undefined;
  /** Registers a JS function the locker runs before letting go of a lock; returns its id. */
  putFun(f: (self: Process) => void): number;
  /** The name server's erlang:unique_integer/0 (the sync tags). */
  uniqueInteger(): bigint;
  /** The partition guard's part of handle_nodedown/3 (PartitionGuard.nodedown). */
  partitionNodedown(node: Atom, what: NodedownType): void;
}

/** The connect attempts with the other nodes, one per node at a time. */
export class GlobalConnect extends ServerPart {
  private readonly resolvers = new Map<Atom, { tag: Term; pid: Pid }>();

  constructor(private readonly host: ConnectHost) {
    super(host);
  }

  /** The resolver of the attempt under way with `node`, if any. */
  resolverOf(node: Atom): Pid | undefined {
    return this.resolvers.get(node)?.pid;
  }

  // ---- connect ---------------------------------------------------------------------------

  /** handle_nodeup/2: make ourselves known to a new node and start a resolver for it. */
  handleNodeup(node: Atom): void {
    if (node === this.node.name) return;
    if (this.k.versions.has(node) || this.resolvers.has(node)) return;
    this.resendPreConnect(node);
    const myTag = this.host.uniqueInteger();
    this.dict.of(node).syncTagMy = myTag;
    const knownMap = new ErlMap([...this.k.versions].map(([n, v]) => [n, v] as [Term, Term]));
    const initMsg = t(A.locker, A.noLongerAPid, knownMap, this.host.locker);
    castGns(this.self, node, t(A.initConnect, t(VSN, myTag), this.node.name, initMsg));
    const resolver = startResolver(this.self, this.host.tables, node, myTag);
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
  onInitConnect(vsnTerm: Term, node: Atom, initMsg: Term): void {
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
      this.restartConnect(node, this.dict.tagMy(node));
    }
    const d = this.dict.of(node);
    d.protVsn = vsn;
    d.syncTagHis = hisTag;
    const r = this.resolvers.get(node);
    if (r !== undefined) {
      const hisTheLocker = initMsg instanceof Tuple && initMsg.elements.length === 4 ? initMsg.elements[3] : undefined;
      if (!(hisTheLocker instanceof Pid)) return;
      if (this.host.locker !== undefined) this.self.send(this.host.locker, t(A.hisTheLocker, hisTheLocker, t(vsn, []), hisTag, r.tag));
      if (hisVsn >= VERIFY_CONNECT_VSN) volatileSend(this.self, node, t(A.initConnectAck, this.node.name, hisTag, r.tag));
      this.k.pending.set(node, hisVsn);
    } else {
      d.preConnect = { vsn, initMsg, hisTag };
    }
  }

  /** `{init_connect_ack, Node, MyTag, HisTag}`: when the tags are not ours, the attempt is out of sync. */
  onInitConnectAck(node: Atom, myTag: Term, hisTag: Term): void {
    const myMy = this.dict.tagMy(node);
    const myHis = this.dict.tagHis(node);
    if (termEquals(myMy, myTag) && termEquals(myHis, hisTag)) return;
    // Connection attempt out of sync: cancel it and start over.
    this.sendCancelConnectMessage(node, hisTag);
    this.restartConnect(node, myMy);
  }

  /** `{cancel_connect, Node, MyTag}`: the other side gave up our attempt under way; start over. */
  onCancelConnect(node: Atom, tag: Term): void {
    if (!termEquals(this.dict.tagMy(node), tag)) return;
    this.cancelLocker(node, tag);
    this.resetNodeState(node);
    this.k.pending.delete(node);
    this.restartConnect(node, tag);
  }

  /** restart_connect/3. */
  private restartConnect(node: Atom, myTag: Term): void {
    this.cancelLocker(node, myTag);
    this.resetNodeState(node);
    this.k.pending.delete(node);
    // The node is up from our side (we had a tag): a new resolver and init_connect.
    if (typeof myTag === 'number' || typeof myTag === 'bigint') this.handleNodeup(node);
  }

  // ---- cancel ----------------------------------------------------------------------------

  /** cancel_locker/4: tell the locker, the other side (if connecting) and kill the resolver. */
  cancelLocker(node: Atom, tag: Term, fun?: number): void {
    if (this.host.locker !== undefined) this.self.send(this.host.locker, t(A.cancel, node, tag, fun ?? A.noFun));
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
    if (!termEquals(this.dict.tagMy(node), myTag)) return;
    this.sendCancelConnectMessage(node, this.dict.tagHis(node));
  }

  private sendCancelConnectMessage(node: Atom, hisTag: Term): void {
    volatileSend(this.self, node, t(A.cancelConnect, this.node.name, hisTag));
  }

  /** reset_node_state/1. */
  resetNodeState(node: Atom): void {
    this.dict.reset(node);
  }

  // ---- nodedown --------------------------------------------------------------------------

  /** `{extra_nodedown, Node}`: a node of the other partition could not be connected. */
  extraNodedown(node: Atom): void {
    this.synced.tellNodedown(node);
    this.handleNodedown(node, 'disconnected');
  }

  /** handle_nodedown/3. DOWN signals remove the node's names and locks. */
  handleNodedown(node: Atom, what: NodedownType): void {
    this.cancelLocker(node, this.dict.tagMy(node));
    if (this.host.locker !== undefined) this.self.send(this.host.locker, t(A.removeFromKnown, node));
    this.resetNodeState(node);
    this.host.partitionNodedown(node, what);
    this.k.pending.delete(node);
    this.k.versions.delete(node);
    this.synced.remove(node);
  }
}
