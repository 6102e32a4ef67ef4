import { Atom, Tuple, type Term } from '@courier/term';
import type { Node, Process } from '@courier/core';
import type { KnownNodes } from './known-nodes.js';
import { A, POP_VSN, t, volatileSend } from './wire.js';

/**
 * Preventing overlapping partitions (global.erl's prevent_overlapping_partitions, protocol version
 * 7+), in the name server's process: a node that loses another tells every node it knows
 * (`lost_connection`), and each of them drops the lost node too, by disconnecting or by asking it to
 * (`remove_connection`), so that no node stays in two partitions that no longer see each other.
 * Which of the name server's nodedowns are told to the others is decided here.
 */
const MIN_64BIT_SMALL_INT = -(1n << 59n);
const LOST_CONN_INFO_CLEANUP_MS = 60 * 60 * 1000;

/** handle_nodedown/3's `What`: how a node went down. */
export type NodedownType = 'disconnected' | 'ignore_node' | 'remove_connection';

/** What the partition guard needs of the name server that runs it. */
export interface PartitionHost {
  readonly node: Node;
  readonly known: KnownNodes;
  /** The name server's erlang:unique_integer/0 (the op id of a lost_connection). */
  uniqueInteger(): bigint;
  /** The name server's handle_nodedown/3. */
  handleNodedown(node: Atom, what: NodedownType): void;
}

/** lost_connection and remove_connection, sent and received. */
export class PartitionGuard {
  private readonly removing = new Set<Atom>();
  private readonly lostConnections = new Map<string, { xcre: bigint; opId: bigint; at: number }>();
  private readonly creationExtension: bigint;
  private readonly node: Node;
  private readonly k: KnownNodes;
  private self!: Process;

  constructor(private readonly host: PartitionHost) {
    this.node = host.node;
    this.k = host.known;
    // A random 64-bit value with the low 32 bits clear, told apart from the node's creation.
    const hi = BigInt(Math.floor(Math.random() * 2 ** 27)) << 32n;
    this.creationExtension = hi;
  }

  /** Run in `self`, the name server's process (before its first message). */
  attach(self: Process): void {
    this.self = self;
  }

  /**
   * handle_nodedown/3's part: a connection we asked to remove is not reported when it goes, one
   * left quietly (`ignore_node`) neither; any other loss is told to the others.
   */
  nodedown(node: Atom, what: NodedownType): void {
    if (what === 'remove_connection') this.removing.add(node);
    else if (what === 'ignore_node') this.removing.delete(node);
    else if (this.removing.has(node)) this.removing.delete(node);
    else this.informConnectionLoss(node);
  }

  private informConnectionLoss(node: Atom): void {
    const xcre = this.creationExtension + BigInt(this.node.creation) - MIN_64BIT_SMALL_INT;
    const msg = t(A.lostConnection, this.node.name, xcre, this.host.uniqueInteger(), node);
    this.volatileMulticast(msg, node, POP_VSN);
  }

  /** gns_volatile_multicast/5 to known and pending nodes of `minVer` or later. */
  private volatileMulticast(msg: Term, ignore: Atom, minVer: number): void {
    for (const [n, v] of this.k.versions) if (n !== ignore && v >= minVer) volatileSend(this.self, n, msg);
    for (const [n, v] of this.k.pending) if (n !== ignore && v >= minVer) volatileSend(this.self, n, msg);
  }

  /** `{lost_connection, NodeA, XCreationA, OpIdA, NodeB}`: NodeA lost NodeB; so do we. */
  onLostConnection(m: Tuple): void {
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
    this.host.handleNodedown(rm, 'remove_connection');
  }

  /** `{remove_connection, Node}`: a node that lost another asks us to drop the connection to it. */
  onRemoveConnection(node: Atom): void {
    if (!this.k.potentiallyKnown(node)) return;
    this.node.disconnect(node);
    this.host.handleNodedown(node, 'remove_connection');
    this.node.log.warn({ peer: node.name }, `global: disconnected node ${node.name} in order to prevent overlapping partitions`);
  }
}

function toBig(x: Term): bigint | undefined {
  if (typeof x === 'bigint') return x;
  if (typeof x === 'number' && Number.isInteger(x)) return BigInt(x);
  return undefined;
}
