import type { Atom, Term } from '@courier/term';
import type { Subject } from 'rxjs';
import type { Logger } from '../log.js';
import type { ConnectionTable } from '../connections/connection-table.js';
import type { Session } from '../seams/session.js';
import { NodeMonitors, type MonitorNodesOptions, type NodeType } from './node-monitors.js';
import type { NodeEvent, NodesKind } from './node-types.js';
import type { Process } from './process.js';

/** What the net_kernel part of a node uses of it. */
export interface NetKernelHost {
  readonly self: Atom;
  readonly log: Logger;
  readonly dist: ConnectionTable;
  readonly events$: Subject<NodeEvent>;
  /** Put a monitor_nodes message in `p`'s mailbox. */
  deliver(p: Process, msg: Term): void;
  /** Let the session read what came after its handshake (ConnectionPipeline.started). */
  started(s: Session): void;
}

/**
 * The net_kernel side of a node: which nodes it is connected to and has known (erlang:nodes/1),
 * who hears of a node going up or down (net_kernel:monitor_nodes and `Node.events$`), and the
 * connection ids that tell successive connections to one node apart.
 */
export class NetKernel {
  private readonly monitors: NodeMonitors;
  /** Connection ids (monitor_nodes' `connection_id`), one per session. */
  private readonly connIds = new WeakMap<Session, number>();
  private nextConnId = 1;
  /** Nodes this node has been connected to (nodes(known)). */
  private readonly knownNodes = new Set<Atom>();

  constructor(private readonly host: NetKernelHost) {
    this.monitors = new NodeMonitors((p, msg) => host.deliver(p, msg));
  }

  /** erlang:nodes/1 (see Node.nodes). */
  nodes(which: NodesKind | readonly NodesKind[]): Atom[] {
    const { self, dist } = this.host;
    const kinds = new Set(typeof which === 'string' ? [which] : which);
    if (kinds.has('known')) return [self, ...[...this.knownNodes].filter((n) => n !== self)];
    const out: Atom[] = [];
    if (kinds.has('this')) out.push(self);
    const all = kinds.has('connected') || kinds.has('all');
    if (all || kinds.has('visible')) out.push(...dist.nodes('visible'));
    if (all || kinds.has('hidden')) out.push(...dist.nodes('hidden'));
    return out;
  }

  /** net_kernel:monitor_nodes/1,2 for a live process `p`. */
  subscribe(p: Process, on: boolean, opts?: MonitorNodesOptions): void {
    this.monitors.subscribe(p, on, opts);
  }

  /** A session to `peer` is up: subscribers and events$ hear of it, then the session reads on. */
  up(peer: Atom, s: Session): void {
    const connectionId = this.nextConnId++;
    this.connIds.set(s, connectionId);
    this.knownNodes.add(peer);
    const nodeType: NodeType = s.hidden ? 'hidden' : 'visible';
    this.host.log.info({ peer: peer.name, carrier: s.carrier, nodeType }, 'node up');
    this.monitors.nodeup({ node: peer, type: nodeType, connectionId });
    this.host.events$.next({ type: 'nodeup', node: peer, carrier: s.carrier, hidden: s.hidden, nodeType, connectionId });
    // Only now the bytes read past the handshake: as in OTP, nodeup reaches monitor_nodes
    // subscribers (global, pg) before any message that came on the new connection.
    this.host.started(s);
  }

  /** A session that had been up went down: subscribers and events$ hear of it. */
  down(peer: Atom, reason: Term, s: Session | undefined): void {
    const hidden = s?.hidden ?? false;
    const nodeType: NodeType = hidden ? 'hidden' : 'visible';
    const connectionId = s === undefined ? 0 : (this.connIds.get(s) ?? 0);
    this.monitors.nodedown({ node: peer, type: nodeType, connectionId, reason });
    this.host.events$.next({ type: 'nodedown', node: peer, reason, hidden, nodeType, connectionId });
  }
}
