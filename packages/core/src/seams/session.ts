import type { Atom } from '@courier/term';
import type { DistOp } from './dist-op.js';

/** One live connection to one peer node, after the handshake. */
export interface Session {
  readonly peer: Atom;
  /** The carrier kind, for observation (`tcp`, `tls`, `ssh`, `aemp`, `memory`, `ws`). */
  readonly carrier: string;
  /** Whether the peer is hidden (not listed by `nodes()`). */
  readonly hidden: boolean;
  /**
   * Monotonic counters since the session started, for observers that sample them (never an event
   * per frame). Optional: a session that does not count leaves it out.
   */
  readonly stats?: SessionStats;
  /** Send one operation. Ordered per session. Returns false when the carrier is busy. */
  send(op: DistOp): boolean;
  /** Close the connection; the session then reports `nodeDown` to its router exactly once. */
  close(reason?: string): void;
}

/** A session's traffic counters: frames (messages, ticks included) and bytes, each way. */
export interface SessionStats {
  readonly framesIn: number;
  readonly framesOut: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
}

/**
 * A transport is what a carrier package plugs into a node: it dials peers and accepts them, runs
 * the handshake, and produces sessions bound to the node's router.
 */
export interface Transport {
  /** `tcp`, `tls`, `ssh`, `aemp`, `memory`, … */
  readonly name: string;
  /** Start accepting connections for `host` (listening sockets, EPMD registration…). */
  start(host: TransportHost): Promise<void>;
  /** Connect to `peer`; resolves with the session once the handshake is done (the node attaches it). */
  connect(peer: Atom, signal?: AbortSignal): Promise<Session>;
  stop(): Promise<void>;
}

/** What a transport sees of the node that runs it. */
export interface TransportHost {
  readonly name: Atom;
  readonly creation: number;
  readonly router: import('./dist-op.js').Router;
  readonly arbiter: import('./handshake.js').HandshakeArbiter;
  /** An accepted (incoming) session finished its handshake: make it the peer's connection. */
  attach(session: Session): void;
  readonly log: import('../log.js').Logger;
  /** The node itself, for transports that run protocol services (Erlang's net_kernel, rex). */
  readonly node: import('../runtime/node.js').Node;
}
