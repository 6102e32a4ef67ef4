import { constants } from 'node:crypto';
import type { Socket } from 'node:net';
import tls, { type TLSSocket } from 'node:tls';
import { CarrierError, MAX_PENDING_HANDSHAKES, MAX_PENDING_HANDSHAKES_PER_ADDRESS } from '@courier/core';

/**
 * The server side of the TLS handshake for the connections a TlsLayer accepts. One tls.Server,
 * never listening (accepted sockets are handed to it), is built once from the certificate files
 * and updated by `update` on reload: a connection costs no certificate parsing and no
 * SecureContext of its own, and Node computes `authorized` against the CA as for any TLS server.
 *
 * Before a handshake finishes a peer is unauthenticated, so each one is bounded: by the set-up
 * time it is given (net_setuptime), and by the caps the connection pipeline applies to the
 * Erlang handshake after it (MAX_PENDING_HANDSHAKES, MAX_PENDING_HANDSHAKES_PER_ADDRESS): past a
 * cap the oldest handshake under way is dropped, so stalled clients cannot pile up.
 */
export interface AcceptPolicy {
  /** Ask for a client certificate and refuse one the CA did not sign. */
  readonly verify: boolean;
  /** With `verify`: refuse a client that sends no certificate. */
  readonly failIfNoPeerCert: boolean;
  readonly maxPending?: number;
  readonly maxPendingPerAddress?: number;
}

interface Pending {
  readonly address: string;
  settle(t: TLSSocket): void;
  fail(why: string, code?: string, t?: TLSSocket): void;
}

/**
 * No session tickets: every connection is verified in full against the current CA and CRL (a
 * resumed session would skip a certificate revoked since), as OTP's dist does by default.
 */
const NO_RESUMPTION = constants.SSL_OP_NO_TICKET;

export class TlsAcceptor {
  private readonly server: tls.Server;
  /** Handshakes under way, oldest first, by the connection's address pair. */
  private readonly pending = new Map<string, Pending>();

  constructor(
    material: tls.SecureContextOptions,
    private readonly policy: AcceptPolicy,
  ) {
    this.server = tls.createServer({ ...material, secureOptions: NO_RESUMPTION, requestCert: policy.verify, rejectUnauthorized: false });
    this.server.on('tlsClientError', (err: Error, t: TLSSocket) => this.pending.get(keyOf(t))?.fail(`TLS handshake failed: ${err.message.trim()}`, 'TLS_REFUSED', t));
    this.server.on('secureConnection', (t: TLSSocket) => {
      const p = this.pending.get(keyOf(t));
      if (p === undefined) return void t.destroy();
      p.settle(t);
    });
  }

  /** Certificates for the connections accepted from now on (those up keep theirs). */
  update(material: tls.SecureContextOptions): void {
    this.server.setSecureContext({ ...material, secureOptions: NO_RESUMPTION });
  }

  /** Handshakes under way now. */
  get size(): number {
    return this.pending.size;
  }

  /** Run the server side of the TLS handshake on `socket` within `setupTimeMs`; the verified TLS socket. */
  accept(socket: Socket, setupTimeMs: number): Promise<TLSSocket> {
    return new Promise((resolve, reject) => {
      if (socket.destroyed || socket.remoteAddress === undefined) return reject(new CarrierError('TLS_REFUSED', 'the client closed the connection before the TLS handshake'));
      const key = keyOf(socket);
      const address = socket.remoteAddress ?? '?';
      const done = (): boolean => {
        if (this.pending.get(key) !== entry) return false;
        this.pending.delete(key);
        clearTimeout(timer);
        return true;
      };
      const entry: Pending = {
        address,
        fail: (why, code = 'TLS_REFUSED', t) => {
          if (!done()) return;
          t?.destroy();
          socket.destroy();
          reject(new CarrierError(code, why));
        },
        settle: (t) => {
          if (!done()) return;
          const refused = this.refusal(t);
          if (refused === undefined) return resolve(t);
          t.destroy();
          socket.destroy();
          reject(new CarrierError('TLS_REFUSED', refused));
        },
      };
      const timer = setTimeout(() => entry.fail(`the TLS handshake did not finish within the set-up time (${setupTimeMs} ms)`, 'TIMEOUT'), setupTimeMs);
      this.admit(key, entry);
      socket.once('close', () => entry.fail('the client closed the connection during the TLS handshake'));
      this.server.emit('connection', socket);
    });
  }

  /** Why a finished handshake is refused: no certificate, or one the CA did not sign. */
  private refusal(t: TLSSocket): string | undefined {
    if (!this.policy.verify) return undefined;
    const cert = t.getPeerCertificate();
    const none = cert === null || Object.keys(cert).length === 0;
    if (none && this.policy.failIfNoPeerCert) return 'the client sent no certificate (fail_if_no_peer_cert)';
    if (!none && !t.authorized) return `client certificate rejected: ${String(t.authorizationError)}`;
    return undefined;
  }

  /** Make room for one more handshake: past a cap, the oldest one under it is dropped. */
  private admit(key: string, entry: Pending): void {
    const max = this.policy.maxPending ?? MAX_PENDING_HANDSHAKES;
    const perAddress = this.policy.maxPendingPerAddress ?? MAX_PENDING_HANDSHAKES_PER_ADDRESS;
    let fromThere = 0;
    for (const p of this.pending.values()) if (p.address === entry.address) fromThere++;
    const oldest = (match: (p: Pending) => boolean): Pending | undefined => {
      for (const p of this.pending.values()) if (match(p)) return p;
      return undefined;
    };
    if (fromThere >= perAddress)
      oldest((p) => p.address === entry.address)?.fail(`more than ${perAddress} TLS handshakes from ${entry.address} at once: the oldest is dropped`, 'PENDING_LIMIT');
    else if (this.pending.size >= max) oldest(() => true)?.fail(`more than ${max} TLS handshakes at once: the oldest is dropped`, 'PENDING_LIMIT');
    this.pending.set(key, entry);
  }
}

/** A connection's address pair, the same seen from the accepted socket and from the TLS socket over it. */
function keyOf(s: Socket): string {
  return `${s.remoteAddress}|${s.remotePort}|${s.localAddress}|${s.localPort}`;
}
