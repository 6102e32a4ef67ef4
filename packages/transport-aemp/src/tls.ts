import { connect as tlsConnect, createSecureContext, TLSSocket, type SecureContext } from 'node:tls';
import { Duplex } from 'node:stream';
import { CarrierError, type Carrier } from '@courier/core';
import { TcpCarrier } from '@courier/stream';

/**
 * TLS for AEMP (Transport.pm:147-157, 262-273): after the cleartext greeting the connection is
 * upgraded in place, the side with the smaller nonce line acting as TLS client. As Perl does it,
 * both sides present the node's certificate and verify the peer's against the configured CA
 * (`verify => 1, verify_require_client_cert => 1`), with no host-name check: the CA is the
 * network's membership.
 */
export interface AempTlsOptions {
  /** PEM certificate chain of this node. */
  readonly cert: string | Buffer;
  /** PEM private key of this node. */
  readonly key: string | Buffer;
  /** PEM CA certificates peers must chain to (Perl uses the node's own PEM; default: `cert`). */
  readonly ca?: string | Buffer;
  /** Accept a peer's `tls_anon` auth (it proves no secret). Off by default. */
  readonly allowAnon?: boolean;
}

/** The TLS context of an AEMP node from its certificate, key and CA (TLS 1.2 at least). */
export function secureContext(o: AempTlsOptions): SecureContext {
  return createSecureContext({ cert: o.cert, key: o.key, ca: o.ca ?? o.cert, minVersion: 'TLSv1.2' });
}

/** The upgrade of a TCP carrier to TLS in the role the handshake chose; resolves once TLS is up and the peer verified. */
export function startTls(context: SecureContext, how: string, carrier: Carrier, rest: Uint8Array, timeoutMs: number): Promise<Carrier> {
  if (!(carrier instanceof TcpCarrier)) return Promise.reject(new CarrierError('UPGRADE_UNSUPPORTED', 'TLS needs a TCP carrier'));
  const socket = streamOf(carrier, rest);
  const secure =
    how === 'tls-client'
      ? tlsConnect({ socket, secureContext: context, checkServerIdentity: () => undefined, rejectUnauthorized: true })
      : new TLSSocket(socket, { isServer: true, secureContext: context, requestCert: true, rejectUnauthorized: true });
  return new Promise((resolve, reject) => {
    const done = (err?: Error): void => {
      clearTimeout(timer);
      secure.off('error', onError);
      if (err === undefined) {
        const c = new TcpCarrier(secure, 'aemp-tls');
        // A TLS socket over a stream knows no address; it is the TCP connection's.
        Object.defineProperty(c, 'remote', { value: carrier.remote });
        return resolve(c);
      }
      secure.destroy();
      reject(err);
    };
    const onError = (err: Error): void => done(new CarrierError('TLS_FAILED', `TLS with ${carrier.remote} failed: ${err.message}`, { cause: err }));
    const timer = setTimeout(() => done(new CarrierError('TLS_TIMEOUT', `TLS with ${carrier.remote} not up within ${timeoutMs} ms`)), timeoutMs);
    secure.once(how === 'tls-client' ? 'secureConnect' : 'secure', () => {
      const problem = how === 'tls-client' ? (secure.authorized ? undefined : String(secure.authorizationError)) : serverVerifyError(secure);
      if (problem === undefined) done();
      else done(new CarrierError('TLS_UNVERIFIED', `the peer certificate of ${carrier.remote} does not verify: ${problem}`));
    });
    secure.once('error', onError);
  });
}

/**
 * The TCP connection as a plain duplex stream for TLS to run over. Handed the socket itself, TLS
 * would read from its handle and miss what the socket already holds: bytes the handshake read
 * with the greeting (`rest`) and bytes read while it was paused for the upgrade. The old
 * carrier's own reading is sent nowhere from now on.
 */
function streamOf(carrier: TcpCarrier, rest: Uint8Array): Duplex {
  const socket = carrier.socket;
  carrier.setReceiver({ onData: () => {}, onDrain: () => {}, onClose: () => {} });
  const stream = new Duplex({
    read: () => void socket.resume(),
    write: (chunk: Buffer, _enc, cb) => void socket.write(chunk, cb),
    final: (cb) => void socket.end(cb),
    destroy: (err, cb) => {
      socket.destroy(err ?? undefined);
      cb(err);
    },
  });
  if (rest.length > 0) stream.push(Buffer.from(rest.buffer, rest.byteOffset, rest.length));
  socket.on('data', (d: Buffer) => {
    if (!stream.push(d)) socket.pause();
  });
  socket.once('end', () => stream.push(null));
  socket.once('close', () => stream.destroy());
  socket.resume();
  return stream;
}

/**
 * A TLSSocket made by hand as a server verifies the client's certificate (OpenSSL did, against
 * the context's CA) but, unlike one a tls.Server made, never sets `authorized`: ask the handle
 * as tls.Server does. Undefined when the peer sent a certificate that verifies.
 */
function serverVerifyError(s: TLSSocket): string | undefined {
  if (Object.keys(s.getPeerCertificate()).length === 0) return 'no client certificate';
  const handle = (s as unknown as { _handle?: { verifyError?: () => Error | null } })._handle;
  if (handle?.verifyError === undefined) return 'cannot verify (no TLS handle)';
  const err = handle.verifyError();
  return err === null ? undefined : err.message;
}
