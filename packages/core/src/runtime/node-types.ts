import type { Atom, Pid, Term } from '@courier/term';
import type { Logger } from '../log.js';
import type { DistAutoConnect } from '../connections/connection-table.js';
import type { Transport } from '../seams/transport.js';
import type { NodeType } from './node-monitors.js';
import type { Process } from './process.js';

/**
 * Options of a {@link Node}: its name and creation, a logger, its transports and which one reaches a peer,
 * auto-connect, and the nodes it allows.
 */
export interface NodeOptions {
  /** `alive@host`. A node without distribution may use `nonode@nohost`. */
  readonly name: string | Atom;
  /** Incarnation number; set by EPMD registration for Erlang carriers. Random when omitted. */
  readonly creation?: number;
  readonly log?: Logger;
  /** Carriers this node listens on and dials with, in preference order. */
  readonly transports?: readonly Transport[];
  /** Which transport reaches `peer` (default: the first). */
  readonly transportFor?: (peer: Atom, transports: readonly Transport[]) => Transport | undefined;
  /**
   * Whether a send, link, monitor or remote spawn to an unconnected node connects to it (OTP's
   * kernel `dist_auto_connect`): `on` (default), `once` (until its first connection has gone down;
   * then only an explicit {@link Node.connect} or an incoming connection brings it back), `never`
   * (only explicit connects). A connect not made is `noconnection` to links and monitors.
   */
  readonly distAutoConnect?: DistAutoConnect;
  /**
   * The only nodes this node connects with (`net_kernel:allow/1`), by full name: a handshake from
   * any other is answered `not_allowed` (an `erl` gets `pang`), a connect to one fails. Absent: all.
   */
  readonly allow?: readonly string[];
  /**
   * Keep the event loop polling for this many microseconds after each message a connection
   * delivers instead of sleeping until the next one (runtime/busy-poll.ts): typically 1.4–1.5× the
   * round trips per second between two processes on one machine (docs/performance.md, "Busy polling"),
   * at the price of a core busy for the window after every burst of traffic. 0 (default): off.
   * 100 covers a loopback round trip. Not a finite number ≥ 0: the constructor throws a UsageError.
   */
  readonly busyPollMicros?: number;
}

/** Options of {@link Node.spawn}: a process to link to, a registered name, trapping exits. */
export interface SpawnOptions {
  /** Link the new process to this one before it runs. */
  readonly linkTo?: Process;
  /** Register the new process under this name before it runs. */
  readonly name?: Atom;
  readonly trapExit?: boolean;
}

/**
 * Node up/down as net_kernel:monitor_nodes reports them. `nodeType` is how OTP classes the
 * connection (`hidden` when either side is hidden); `hidden` says the same, kept for existing code.
 * `reason` is the nodedown reason OTP gives (`connection_closed`, `net_tick_timeout`, `disconnect`,
 * `net_kernel_terminated`, …); links and monitors across the connection still get `noconnection`.
 * `connectionId` tells successive connections to one node apart (monitor_nodes' `connection_id`).
 */
export type NodeEvent =
  | {
      readonly type: 'nodeup';
      readonly node: Atom;
      readonly carrier: string;
      readonly hidden: boolean;
      readonly nodeType: NodeType;
      readonly connectionId: number;
    }
  | {
      readonly type: 'nodedown';
      readonly node: Atom;
      readonly reason: Term;
      readonly hidden: boolean;
      readonly nodeType: NodeType;
      readonly connectionId: number;
    };

/** What erlang:nodes/1 lists: `connected` = visible + hidden; `known` adds this node and nodes connected before. */
export type NodesKind = 'visible' | 'hidden' | 'connected' | 'known' | 'this' | 'all';

/** A process that exited: its pid, its registered name, and the exit reason (on `Node.exits$`). */
export interface ProcessExit {
  readonly pid: Pid;
  readonly name: Atom | undefined;
  readonly reason: Term;
}
