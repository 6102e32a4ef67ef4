import type { Node, Process } from '@courier/core';
import type { KnownNodes } from './known-nodes.js';
import type { NodeDicts } from './node-dict.js';
import type { SyncedNodes } from './synced.js';

/** What a part of the name server is built from (a subset of ServerDeps). */
export interface PartHost {
  readonly node: Node;
  readonly known: KnownNodes;
  readonly dict: NodeDicts;
  readonly synced: SyncedNodes;
}

/**
 * What the name server's connect and exchange parts share: the node, the known nodes, the
 * per-node dictionary, the synced list, and the server's process once it runs (attach).
 */
export abstract class ServerPart {
  protected readonly node: Node;
  protected readonly k: KnownNodes;
  protected readonly dict: NodeDicts;
  protected readonly synced: SyncedNodes;
  protected self!: Process;

  constructor(host: PartHost) {
    this.node = host.node;
    this.k = host.known;
    this.dict = host.dict;
    this.synced = host.synced;
  }

  /** Run in `self`, the name server's process (before its first message). */
  attach(self: Process): void {
    this.self = self;
  }
}
