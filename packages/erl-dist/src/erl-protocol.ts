import type { Atom } from '@courier/term';
import type { HandshakeArbiter, Protocol } from '@courier/core';
import { ErlHandshake } from './handshake/erl-handshake.js';
import { ErlSession } from './session/erl-session.js';

/** Options of {@link erlProtocol}: our name and creation, the cookie per peer, hidden or not, the framing and limits. */
export interface ErlProtocolOptions {
  readonly self: Atom;
  readonly creation: number;
  /** The cookie to use with a peer (per-peer cookies as net_kernel:set_cookie/2). */
  readonly cookie: (peer: Atom) => string;
  /** Advertise PUBLISHED or not: see HIDDEN_BY_DEFAULT in core for each carrier's default. */
  readonly hidden: boolean;
  /** Handshake message length prefix: 2 over TCP (and ws, memory), 4 over TLS and SSH ({packet,4}). */
  readonly lengthBytes: 2 | 4;
  /** The session's carrier name, for observation (`tcp`, `tls`, `ws`, `ssh`, `memory`). */
  readonly carrierName: string;
  /** net_ticktime in seconds (OTP default 60). */
  readonly netTicktime?: number;
  /** Largest frame or reassembled message accepted, bytes. */
  readonly maxMessage?: number;
  /** Output bytes queued per connection past which it is busy (dist_buf_busy_limit). Default 1 MiB. */
  readonly busyLimit?: number;
  /** Binaries of at least this many bytes go to the carrier beside the encoded term, not copied into it. Default 4 KiB. */
  readonly sendByReferenceMin?: number;
  /**
   * Acceptor: wrap the node's arbiter, to refuse names the carrier did not authenticate (SSH:
   * the node name must be the login user).
   */
  readonly arbiter?: (inner: HandshakeArbiter) => HandshakeArbiter;
}

/**
 * The Erlang distribution as a pipeline protocol: OTP's dist_util handshake (version 6) and the distribution
 * session, over whatever carrier the transport brings (TCP, TLS, an SSH channel, a WebSocket, an in-memory
 * pipe).
 */
export function erlProtocol(o: ErlProtocolOptions): Protocol {
  return {
    handshake: ({ role, peer, arbiter }) =>
      new ErlHandshake({
        role,
        self: o.self,
        creation: o.creation,
        peer,
        cookie: o.cookie,
        hidden: o.hidden,
        arbiter: role === 'acceptor' ? (o.arbiter?.(arbiter) ?? arbiter) : undefined,
        lengthBytes: o.lengthBytes,
      }),
    session: (carrier, r, ctx) =>
      new ErlSession(carrier, ctx.router, {
        peer: r.peer,
        flags: r.flags,
        hidden: r.hidden ?? false,
        carrierName: o.carrierName,
        log: ctx.log,
        netTicktime: o.netTicktime,
        maxMessage: o.maxMessage,
        busyLimit: o.busyLimit,
        sendByReferenceMin: o.sendByReferenceMin,
      }),
  };
}
