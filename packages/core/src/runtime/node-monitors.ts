import { Atom, ErlMap, Tuple, atom, type Term } from '@courier/term';
import { UsageError } from '../errors.js';
import type { Process } from './process.js';

/**
 * net_kernel:monitor_nodes/1,2: processes subscribed to node up/down, with OTP's messages.
 *
 * | subscribed with                         | messages                                              |
 * |-----------------------------------------|-------------------------------------------------------|
 * | no options (or `{}`), visible nodes      | `{nodeup, N}` / `{nodedown, N}`                        |
 * | options, `info: 'list'` (an Erlang list) | `{nodeup, N, Info}` / `{nodedown, N, Info}`           |
 * | options, `info: 'map'` (an Erlang map)   | `{nodeup, N, #{…}}` / `{nodedown, N, #{…}}`           |
 *
 * Info holds, in this order (as OTP 25 builds it): `{connection_id, Id}` when asked,
 * `{nodedown_reason, R}` (nodedown only) when asked, `{node_type, visible|hidden}` when a node
 * type was given. Each subscription counts (subscribing twice gives two messages);
 * `monitorNodes(p, false, opts)` drops every subscription with those options, as in OTP.
 */
export type NodeType = 'visible' | 'hidden';

/** Options of `monitor_nodes`, as OTP's `net_kernel:monitor_nodes/2` takes them. */
export interface MonitorNodesOptions {
  /** Which nodes (OTP `{node_type, T}`); absent: visible ones, and no `node_type` in the info. */
  readonly nodeType?: NodeType | 'all';
  /** Add `{nodedown_reason, R}` to nodedown messages. */
  readonly nodedownReason?: boolean;
  /** Add `{connection_id, Id}`, an integer that tells connections to one node apart. */
  readonly connectionId?: boolean;
  /** The info as an Erlang list (default; options given as a list in OTP) or a map. */
  readonly info?: 'list' | 'map';
}

const NODEUP = atom('nodeup');
const NODEDOWN = atom('nodedown');
const NODE_TYPE = atom('node_type');
const NODEDOWN_REASON = atom('nodedown_reason');
const CONNECTION_ID = atom('connection_id');
const TYPE_ATOM: Record<NodeType, Atom> = { visible: atom('visible'), hidden: atom('hidden') };

interface Subscription {
  readonly p: Process;
  readonly opts: MonitorNodesOptions | undefined;
  count: number;
}

/** What a node up/down reports to subscribers. */
export interface NodeChange {
  readonly node: Atom;
  readonly type: NodeType;
  readonly connectionId: number;
  /** nodedown only. */
  readonly reason?: Term;
}

/**
 * The node's `monitor_nodes` subscriptions: delivers `nodeup` and `nodedown` messages to subscribed
 * processes.
 */
export class NodeMonitors {
  /** Keyed by process slot and normalised options: one entry per (process, options), in subscription order. */
  private readonly subs = new Map<string, Subscription>();

  constructor(private readonly deliver: (p: Process, msg: Term) => void) {}

  /**
   * Subscribes `p` (when `on`; counted per options, as OTP counts repeated `monitor_nodes(true)`), or
   * removes its subscription with those options.
   */
  subscribe(p: Process, on: boolean, opts?: MonitorNodesOptions): void {
    const key = `${p.pid.id}.${p.pid.serial}|${optsKey(opts)}`;
    if (!on) {
      this.subs.delete(key);
      return;
    }
    const s = this.subs.get(key);
    if (s !== undefined && s.p === p) s.count++;
    else this.subs.set(key, { p, opts: normalise(opts), count: 1 });
  }

  /** Number of live subscriptions (for tests and observation). */
  get size(): number {
    return this.subs.size;
  }

  /** Tells subscribers that a node came up. */
  nodeup(c: NodeChange): void {
    this.notify(NODEUP, c);
  }

  /** Tells subscribers that a node went down, with the reason when they asked for it. */
  nodedown(c: NodeChange): void {
    this.notify(NODEDOWN, c);
  }

  private notify(what: Atom, c: NodeChange): void {
    for (const [key, s] of this.subs) {
      if (!s.p.alive) {
        this.subs.delete(key);
        continue;
      }
      const want = s.opts?.nodeType ?? 'visible';
      if (want !== 'all' && want !== c.type) continue;
      const msg = message(what, c, s.opts);
      for (let i = 0; i < s.count; i++) this.deliver(s.p, msg);
    }
  }
}

function message(what: Atom, c: NodeChange, o: MonitorNodesOptions | undefined): Tuple {
  if (o === undefined) return new Tuple([what, c.node]);
  const down = what === NODEDOWN;
  if (o.info === 'map') {
    const m = new ErlMap();
    if (o.connectionId === true) m.set(CONNECTION_ID, c.connectionId);
    if (o.nodeType !== undefined) m.set(NODE_TYPE, TYPE_ATOM[c.type]);
    if (down && o.nodedownReason === true) m.set(NODEDOWN_REASON, c.reason ?? atom('connection_closed'));
    return new Tuple([what, c.node, m]);
  }
  const info: Term[] = [];
  if (o.connectionId === true) info.push(new Tuple([CONNECTION_ID, c.connectionId]));
  if (down && o.nodedownReason === true) info.push(new Tuple([NODEDOWN_REASON, c.reason ?? atom('connection_closed')]));
  if (o.nodeType !== undefined) info.push(new Tuple([NODE_TYPE, TYPE_ATOM[c.type]]));
  return new Tuple([what, c.node, info]);
}

/**
 * Options as OTP keeps them: an empty list is monitor_nodes/1 (2-tuples); anything else, even an
 * empty map, gives 3-tuples. Bad values are a UsageError (OTP: `{error, {bad_option_value, …}}`).
 */
function normalise(o: MonitorNodesOptions | undefined): MonitorNodesOptions | undefined {
  if (o === undefined) return undefined;
  const t = o.nodeType;
  if (t !== undefined && t !== 'visible' && t !== 'hidden' && t !== 'all') {
    throw new UsageError('BAD_OPTION', `monitorNodes: nodeType must be 'visible', 'hidden' or 'all', not ${String(t)}`);
  }
  if (o.info !== undefined && o.info !== 'list' && o.info !== 'map') {
    throw new UsageError('BAD_OPTION', `monitorNodes: info must be 'list' or 'map', not ${String(o.info)}`);
  }
  const info = o.info ?? 'list';
  const plain = t === undefined && o.nodedownReason !== true && o.connectionId !== true;
  if (plain && info === 'list') return undefined;
  return { nodeType: t, nodedownReason: o.nodedownReason === true, connectionId: o.connectionId === true, info };
}

function optsKey(o: MonitorNodesOptions | undefined): string {
  const n = normalise(o);
  return n === undefined ? '-' : `${n.info}:${n.nodeType ?? ''}:${n.nodedownReason ? 'r' : ''}${n.connectionId ? 'c' : ''}`;
}
