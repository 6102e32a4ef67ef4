import type { Atom, Pid } from '@courier/term';
import type { Carrier, HandshakeAttempt, HandshakeResult, Protocol, Session, SessionContext } from '@courier/core';
import type { Framing } from './framing/codec.js';
import { AempHandshake, GPROTO, MPROTO } from './handshake/aemp-handshake.js';
import { AempSession, type NodePortService } from './session/aemp-session.js';

/** Options of the AEMP protocol (handshake and session) that the connection pipeline runs. */
export interface AempProtocolOptions {
  /** Our node id. */
  readonly self: Atom;
  /** The network's shared secret. Never logged. */
  readonly secret: string;
  /** Framings we read, preferred first. */
  readonly framings: readonly Framing[];
  readonly allowCleartext?: boolean;
  /** Whether this node has a certificate (offers `tls_sha3_512`). */
  readonly tls: boolean;
  readonly allowTlsAnon?: boolean;
  /** Speak the extended value mapping with Courier peers. */
  readonly extended?: boolean;
  readonly maxPacketBytes?: number;
  /** The pid registered under a name on our node (for kil1 by name). */
  readonly whereis: (name: Atom) => Pid | undefined;
  /** End a local process with reason `normal` (a kil1 without a reason). */
  readonly endNormally?: (pid: Pid) => void;
  /** Node-port requests the session does not answer itself. */
  readonly service: NodePortService;
  /** A session became its peer's current connection. */
  readonly up: (session: AempSession) => void;
  /** A session closed (current or not). */
  readonly down: (session: AempSession) => void;
}

/**
 * The AEMP wire protocol as the connection pipeline runs it: the greeting/auth handshake for
 * either role, then an AempSession over the carrier; `sessionUp` tells the transport the
 * session is its peer's connection (after any simultaneous-connect arbitration).
 */
export class AempProtocol implements Protocol {
  constructor(private readonly opts: AempProtocolOptions) {}

  handshake(attempt: HandshakeAttempt): AempHandshake {
    const o = this.opts;
    return new AempHandshake({
      role: attempt.role,
      self: o.self,
      secret: o.secret,
      framings: o.framings,
      allowCleartext: o.allowCleartext,
      tls: o.tls,
      allowTlsAnon: o.allowTlsAnon,
      peer: attempt.peer,
      arbiter: attempt.role === 'acceptor' ? attempt.arbiter : undefined,
      // Perl's kernel and global code put their protocol levels in every greeting (Kernel.pm HOOK_GREET).
      kv: { mproto: MPROTO, gproto: GPROTO, provider: 'courier-0.1', peeraddr: attempt.carrier.remote },
      courier: o.extended,
    });
  }

  session(carrier: Carrier, result: HandshakeResult, context: SessionContext): AempSession {
    return new AempSession({
      carrier,
      handshake: result,
      router: context.router,
      self: this.opts.self,
      whereis: this.opts.whereis,
      endNormally: this.opts.endNormally,
      service: this.opts.service,
      log: context.log,
      maxPacketBytes: this.opts.maxPacketBytes,
      onClosed: this.opts.down,
    });
  }

  sessionUp(session: Session): void {
    this.opts.up(session as AempSession);
  }
}
