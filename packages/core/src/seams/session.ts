import type { Atom } from '@courier/term';
import type { DistOp } from './dist-op.js';
import type { CarrierReceiver } from './carrier.js';

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
  /**
   * Backpressure (optional; Erlang's dist_buf_busy_limit): `busy` at or past the session's output
   * limit, `overloaded` at twice it (a message sent then is refused with BUSY_DIST_PORT), and
   * `whenDrained` resolves once the output is below the limit again (or the session closed).
   */
  readonly busy?: boolean;
  readonly overloaded?: boolean;
  /** Resolves once the session is no longer {@link Session.busy}. */
  whenDrained?(): Promise<void>;
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
 * A session as the connection pipeline runs it: the receiver of its carrier's bytes once the
 * handshake is done (the pipeline hands it the bytes read past the handshake first).
 */
export interface PipelineSession extends Session, CarrierReceiver {
  /** Closed (by either side); no more input is taken. */
  readonly isClosed: boolean;
}
