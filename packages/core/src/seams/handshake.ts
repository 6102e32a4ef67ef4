import type { Atom } from '@courier/term';
import type { HandshakeError } from '../errors.js';

/**
 * A handshake is sans-IO: bytes in, actions out. The driver (core's `driveHandshake`, run by the
 * connection pipeline) feeds it what the carrier receives, performs the actions, and stops
 * feeding after `done` or `fail`.
 */
export type HandshakeAction =
  | { readonly type: 'write'; readonly bytes: Uint8Array }
  /**
   * Swap the carrier (e.g. start TLS) before continuing; the driver calls `upgraded()` after.
   * `rest`: bytes received after the last cleartext message, which belong to the new layer.
   */
  | { readonly type: 'upgrade'; readonly how: string; readonly rest?: Uint8Array }
  | { readonly type: 'done'; readonly result: HandshakeResult }
  | { readonly type: 'fail'; readonly error: HandshakeError };

/**
 * What a finished handshake learned: the peer, its capabilities, and the bytes that arrived after the last
 * handshake message (`tail`).
 */
export interface HandshakeResult {
  /** The peer's node name. */
  readonly peer: Atom;
  readonly peerCreation: number;
  /** Negotiated capabilities (Erlang: distribution flags AND-ed). */
  readonly flags: bigint;
  /** Bytes that arrived after the last handshake message: the session's first input. */
  readonly tail: Uint8Array;
  /** Whether the peer is a hidden node (not in `nodes()`). */
  readonly hidden?: boolean;
  /** Carrier-specific details (e.g. the peer certificate subject). */
  readonly details?: Record<string, unknown>;
}

/**
 * A sans-IO handshake: bytes in, actions out (`write`, `upgrade`, `done`, `fail`); the connection pipeline
 * performs the actions.
 */
export interface Handshake {
  /** The peer's name once the handshake has learned it (for logs of a failed attempt). */
  readonly peer?: Atom;
  /** Actions to take before anything is received (the initiator's first message). */
  start(): HandshakeAction[];
  /** Bytes arrived. May return no action when a message is incomplete. */
  receive(bytes: Uint8Array): HandshakeAction[];
  /** The carrier was swapped after an `upgrade` action. */
  upgraded?(): HandshakeAction[];
  /**
   * The peer closed the connection mid-handshake: what that means at this step, when the
   * protocol gives it a meaning (Erlang: a close right after our challenge reply is the peer
   * refusing our digest, i.e. another cookie).
   */
  closedByPeer?(): HandshakeError | undefined;
}

/**
 * What a handshake asks the node while it runs: OTP's net_kernel arbitration of simultaneous
 * connects, and whether a peer is allowed at all.
 */
export interface HandshakeArbiter {
  /**
   * An incoming attempt from `peer` reached the name exchange. Answers the Erlang status:
   * `ok` (go on), `ok_simultaneous` (we were dialing too and yield), `nok` (we were dialing too
   * and win), `alive` (a connection is already up), `not_allowed`.
   */
  acceptPending(peer: Atom): 'ok' | 'ok_simultaneous' | 'nok' | 'alive' | 'not_allowed';
}
