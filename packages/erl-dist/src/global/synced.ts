import { Atom, type Pid, type Term } from '@courier/term';
import { pidKey, type Node, type Process } from '@courier/core';
import { startSync } from './helpers.js';
import { A, t } from './wire.js';

/**
 * The nodes in sync with this one and global:sync/0,1's waits for them (global.erl's `synced` and
 * `syncers`), in the name server's process: the connection algorithm (connect.ts) reports each node
 * that comes into sync or cannot be reached, and a syncer process per `{sync, Nodes}` call waits for
 * its nodes and answers the caller.
 */
export class SyncedNodes {
  private nodes: Atom[] = [];
  private readonly syncers = new Map<string, Pid>();
  private self!: Process;

  constructor(private readonly node: Node) {}

  /** Run in `self`, the name server's process (before its first message). */
  attach(self: Process): void {
    this.self = self;
  }

  /** The nodes in sync (get_synced), the latest first. */
  get list(): Atom[] {
    return this.nodes;
  }

  /** The `{sync, Nodes}` call: a syncer answers `from` once every node of `nodes` is in sync or down. */
  sync(nodes: Term[], from: Term): void {
    const waitFor = nodes.filter((n): n is Atom => n instanceof Atom && n !== this.node.name && !this.nodes.includes(n));
    const syncer = startSync(this.self, waitFor, from);
    this.syncers.set(pidKey(syncer), syncer);
  }

  /** An `'EXIT'` of a process linked to the server: a syncer, when it is one, is done. */
  syncerExited(pid: Pid): void {
    this.syncers.delete(pidKey(pid));
  }

  /** Every syncer hears `{synced, [Node]}`. */
  tellSynced(node: Atom): void {
    for (const p of this.syncers.values()) this.self.send(p, t(A.synced, [node]));
  }

  /** Every syncer hears `{nodedown, Node}` (a node that could not be connected). */
  tellNodedown(node: Atom): void {
    for (const p of this.syncers.values()) this.self.send(p, t(A.nodedown, node));
  }

  /** resolved/5: `[Node | Synced]`. */
  add(node: Atom): void {
    this.nodes = [node, ...this.nodes];
  }

  /** in_sync: `node` put first unless it is in already. */
  addOnce(node: Atom): void {
    if (!this.nodes.includes(node)) this.nodes = [node, ...this.nodes];
  }

  /** handle_nodedown/3: `node` is in sync no longer. */
  remove(node: Atom): void {
    this.nodes = this.nodes.filter((n) => n !== node);
  }
}
