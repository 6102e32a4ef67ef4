import { atoms, termEquals, type Atom, type Term } from '@courier/term';
import type { ConnectHost, GlobalConnect } from './connect.js';
import { syncOthers } from './helpers.js';
import { nodeList } from './known-nodes.js';
import { A, PGPV_VSN, castGns, t } from './wire.js';
import { ServerPart } from './server-part.js';

/**
 * global.erl's exchange of names with a node being connected, in the name server's process, once
 * the lockers hold global's lock in both partitions: lock_is_set from our locker sends our names
 * (exchange); with both names and lock, our resolver (helpers.ts, resolve.ts) settles the clashes
 * (exchange_ops); both sides apply the outcome (resolved), become known to each other and tell
 * their partitions (new_nodes), whose nodes connect and report in_sync. Each message carries the
 * attempt's tag (connect.ts): a stale one ends the attempt instead.
 */

/** What the exchange needs of the name server that runs it. */
export type ExchangeHost = Pick<ConnectHost, 'node' | 'names' | 'known' | 'dict' | 'synced' | 'locker' | 'putFun'>;

/** The exchange of names, per attempt, from lock_is_set to resolved; new_nodes and in_sync. */
export class NameExchange extends ServerPart {
  constructor(
    private readonly host: ExchangeHost,
    private readonly connect: GlobalConnect,
  ) {
    super(host);
  }

  /** `{lock_is_set, Node, MyTag, LockId}` from our locker; a stale tag cancels it. */
  onLockIsSet(node: Atom, tag: Term, lockId: Term): void {
    if (termEquals(this.dict.tagMy(node), tag)) this.lockIsSet(node, lockId);
    else this.connect.cancelLocker(node, tag);
  }

  /** lock_is_set/3: the lock is set in both partitions; send our names. */
  private lockIsSet(node: Atom, lockId: Term): void {
    const d = this.dict.of(node);
    castGns(this.self, node, t(A.exchange, this.node.name, this.host.names.getNames(), [], d.syncTagHis ?? atoms.undefined));
    d.lockId = lockId;
    const w = d.waitLock;
    if (w !== undefined && w !== 'lock_is_set') {
      d.waitLock = 'lock_is_set';
      this.exchange(node, w.exchange);
    } else {
      d.waitLock = 'lock_is_set';
    }
  }

  /** `{exchange, Node, NameList, _NameExtList, MyTag}` from the other side; a stale tag cancels it. */
  onExchange(node: Atom, nameList: Term, tag: Term): void {
    if (termEquals(this.dict.tagMy(node), tag)) this.exchange(node, nameList);
    else this.connect.cancelLocker(node, tag);
  }

  /** exchange/3: both sides hold the lock and have the names: resolve. */
  private exchange(node: Atom, nameList: Term): void {
    const d = this.dict.of(node);
    const w = d.waitLock;
    d.waitLock = undefined;
    if (w === 'lock_is_set') {
      const r = this.connect.resolverOf(node);
      if (r !== undefined) this.self.send(r, t(A.resolve, nameList, node));
    } else {
      d.waitLock = { exchange: nameList };
    }
  }

  /** `{exchange_ops, Node, MyTag, Ops, Resolved}` from our resolver: send `resolved` to the other side. */
  onExchangeOps(node: Atom, myTag: Term, ops: Term[], resolvedOps: Term[]): void {
    if (!termEquals(this.dict.tagMy(node), myTag)) return this.connect.cancelLocker(node, myTag);
    const d = this.dict.of(node);
    const known = this.k.mkKnownList(this.k.nodeVsn(node));
    castGns(this.self, node, t(A.resolved, this.node.name, resolvedOps, known, A.unused, this.host.names.namesExt(), d.syncTagHis ?? atoms.undefined));
    const saved = d.saveOps;
    d.saveOps = ops;
    if (saved !== undefined && !Array.isArray(saved)) this.resolved(node, saved.hisResolved, saved.hisKnown, saved.namesExt);
  }

  /** `{resolved, Node, HisResolved, HisKnown, _, NamesExt, MyTag}`: applied once our resolver is done too. */
  onResolved(node: Atom, hisResolved: Term[], hisKnown: Term, namesExt: Term, myTag: Term): void {
    if (!termEquals(this.dict.tagMy(node), myTag)) return this.connect.cancelLocker(node, myTag);
    const d = this.dict.of(node);
    if (Array.isArray(d.saveOps)) this.resolved(node, hisResolved, hisKnown, namesExt);
    else d.saveOps = { hisKnown, namesExt, hisResolved };
  }

  /** resolved/5: both sides resolved; apply, tell our partition, become known to each other. */
  private resolved(node: Atom, hisResolved: Term[], hisKnown: Term, namesExt: Term): void {
    const d = this.dict.of(node);
    const ops = [...(Array.isArray(d.saveOps) ? d.saveOps : []), ...(Array.isArray(hisResolved) ? hisResolved : [])];
    d.saveOps = undefined;
    const knownBefore = new Map(this.k.versions);
    const hisList = Array.isArray(hisKnown) ? hisKnown : [];
    const newNodes = this.k.makeNodeVsnList([node, ...hisList]);
    const hisKnownNodes = nodeList(hisList);
    syncOthers(this.self, hisKnownNodes);
    const extraInfo = [t(A.vsn, d.protVsn ?? atoms.undefined), t(A.lock, d.lockId ?? atoms.undefined)];
    this.host.names.doOps(ops, this.node.name, namesExt, extraInfo);
    this.synced.tellSynced(node);
    for (const n of hisKnownNodes) this.cancelResolvedLocker(n, (tag) => this.connect.cancelLocker(n, tag));
    // The locker that holds the lock sends new_nodes before it lets go, so that del_lock reaches
    // the other nodes after new_nodes.
    const me = this.node.name;
    const newNodesMsg = t(A.newNodes, me, ops, namesExt, newNodes, extraInfo);
    const oldMsg = t(A.newNodes, me, ops, namesExt, nodeList(newNodes), extraInfo);
    const fun = this.host.putFun((locker) => {
      for (const [n, v] of knownBefore) castGns(locker, n, v >= PGPV_VSN ? newNodesMsg : oldMsg);
    });
    this.cancelResolvedLocker(node, (tag) => this.connect.cancelLocker(node, tag, fun));
    const added = this.k.addToKnown(newNodes);
    if (this.host.locker !== undefined) this.self.send(this.host.locker, t(A.addToKnown, added));
    this.synced.add(node);
  }

  private cancelResolvedLocker(node: Atom, cancel: (tag: Term) => void): void {
    const tag = this.dict.tagMy(node);
    this.k.pending.delete(node);
    cancel(tag);
    this.connect.resetNodeState(node);
  }

  /** new_nodes/6: nodes of the other partition become known; connect to them. */
  newNodes(ops: Term[], connNode: Atom, namesExt: Term, nodes: Term[], extraInfo: Term): void {
    const added = this.k.addToKnown(Array.isArray(nodes) ? nodes : []);
    syncOthers(this.self, added);
    this.host.names.doOps(Array.isArray(ops) ? ops : [], connNode, namesExt, extraInfo);
    if (this.host.locker !== undefined) this.self.send(this.host.locker, t(A.addToKnown, added));
  }

  /** `{in_sync, Node, true}`: a node our partition told of is connected and in sync with us. */
  inSync(node: Atom): void {
    this.synced.tellSynced(node);
    this.synced.addOnce(node);
    this.k.pending.delete(node);
    this.connect.cancelLocker(node, this.dict.tagMy(node));
    this.connect.resetNodeState(node);
  }
}
