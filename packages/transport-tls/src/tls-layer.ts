import { readFileSync, watch, type FSWatcher } from 'node:fs';
import { isIP, type Socket } from 'node:net';
import tls, { type SecureContext } from 'node:tls';
import type { Atom } from '@courier/term';
import { CarrierError, UsageError, type Carrier, type Logger } from '@courier/core';
import { TcpCarrier } from '@courier/stream';
import { splitNodeName, type DistLayer } from '@courier/transport-tcp';
import { resolveSide, type ResolvedSide, type TlsDistOptions } from './options.js';
import { TlsAcceptor } from './tls-acceptor.js';

/**
 * The TLS byte layer of the Erlang distribution, as OTP's inet_tls_dist: TLS first (the dialing
 * node is the TLS client and sends the target host as SNI), then the unchanged v6 handshake and
 * session inside it, with 4-byte handshake frames. Secure contexts are built from files and
 * rebuilt by `reload()` or when a watched file changes, so new connections pick up renewed
 * certificates without a restart; connections already up keep theirs.
 */
const TLS_HANDSHAKE_RECORD = 0x16;

interface Contexts {
  /** The server's material (a tls.Server builds its context from options, not from a SecureContext). */
  readonly server: tls.SecureContextOptions;
  readonly client: SecureContext;
}

export class TlsLayer implements DistLayer {
  readonly name = 'tls';
  readonly handshakeLengthBytes = 4 as const;
  readonly server: ResolvedSide;
  readonly client: ResolvedSide;
  private ctx: Contexts;
  private readonly acceptor: TlsAcceptor;
  private watchers: FSWatcher[] = [];
  private reloadTimer: ReturnType<typeof setTimeout> | undefined;
  private log: Logger | undefined;

  constructor(private readonly opts: TlsDistOptions) {
    this.server = resolveSide(opts.server, opts.client, 'server');
    this.client = resolveSide(opts.client, opts.server, 'client');
    if (this.server.certfile === undefined) {
      throw new UsageError('TLS_NO_CERT', 'a TLS listener needs a certificate: pass server.certfile and server.keyfile (--tls-cert, --tls-key)');
    }
    this.ctx = this.build();
    this.acceptor = new TlsAcceptor(this.ctx.server, { verify: this.server.verify === 'verify_peer', failIfNoPeerCert: this.server.failIfNoPeerCert });
    if (opts.watch !== false) this.watchFiles();
  }

  /** Re-read every certificate, key, CA and CRL file; new connections use them. Throws on a bad file (the old ones stay). */
  reload(): void {
    this.ctx = this.build();
    this.acceptor.update(this.ctx.server);
    this.log?.info({}, 'TLS certificates reloaded');
  }

  claims(first: number): boolean {
    return first === TLS_HANDSHAKE_RECORD;
  }

  /** The server side of the TLS handshake, within the set-up time (net_setuptime, not Node's 120 s). */
  async accept(socket: Socket, log: Logger, setupTimeMs: number): Promise<Carrier> {
    this.log ??= log;
    return new TcpCarrier(await this.acceptor.accept(socket, setupTimeMs), 'tls');
  }

  /**
   * Dials `host:port` and completes the client side of the TLS handshake (checking the server's certificate,
   * and its name when `checkHostname`).
   */
  dial(host: string, port: number, peer: Atom, signal?: AbortSignal): Promise<Carrier> {
    const c = this.client;
    const sniHost = splitNodeName(peer).host;
    return new Promise((resolve, reject) => {
      const t = tls.connect({
        host,
        port,
        // OTP sends the host part of the node name as SNI (even an IP literal); Node refuses
        // IP literals as servername, so those go without SNI.
        servername: isIP(sniHost) === 0 ? sniHost : undefined,
        secureContext: this.ctx.client,
        rejectUnauthorized: c.verify === 'verify_peer',
        checkServerIdentity: this.opts.checkHostname ? (_h, cert) => tls.checkServerIdentity(sniHost, cert) : () => undefined,
      });
      t.setNoDelay(true);
      const onAbort = () => t.destroy(new CarrierError('ABORTED', `connection to ${peer.name} cancelled`));
      if (signal?.aborted) onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      t.once('close', () => signal?.removeEventListener('abort', onAbort));
      t.once('secureConnect', () => {
        signal?.removeEventListener('abort', onAbort);
        t.removeAllListeners('error');
        resolve(new TcpCarrier(t, 'tls'));
      });
      t.once('error', (err: Error) => {
        t.destroy();
        reject(new CarrierError('TLS_REFUSED', `TLS connection to ${peer.name} (${host}:${port}) failed: ${err.message}`, { cause: err }));
      });
    });
  }

  close(): void {
    for (const w of this.watchers) w.close();
    this.watchers = [];
    if (this.reloadTimer !== undefined) clearTimeout(this.reloadTimer);
  }

  private build(): Contexts {
    const material = (x: ResolvedSide): tls.SecureContextOptions => ({
      cert: x.certfile ? readFileSync(x.certfile) : undefined,
      key: x.keyfile ? readFileSync(x.keyfile) : undefined,
      passphrase: x.password,
      ca: x.cacertfile ? readFileSync(x.cacertfile) : undefined,
      crl: x.crlfile ? readFileSync(x.crlfile) : undefined,
      minVersion: x.minVersion,
      maxVersion: x.maxVersion,
      ciphers: x.ciphers,
    });
    try {
      const server = material(this.server);
      // Parse once now so that a bad file fails here, not at the first connection.
      tls.createSecureContext(server);
      return { server, client: tls.createSecureContext(material(this.client)) };
    } catch (err) {
      throw new UsageError('TLS_FILES', `cannot load the TLS certificates: ${(err as Error).message}`, { cause: err });
    }
  }

  private watchFiles(): void {
    const files = new Set<string>();
    for (const s of [this.server, this.client]) for (const f of [s.certfile, s.keyfile, s.cacertfile, s.crlfile]) if (f) files.add(f);
    for (const f of files) {
      try {
        const w = watch(f, { persistent: false }, () => this.scheduleReload());
        w.on('error', () => undefined);
        this.watchers.push(w);
      } catch {
        // A file that cannot be watched is still reloadable by reload().
      }
    }
  }

  private scheduleReload(): void {
    if (this.reloadTimer !== undefined) clearTimeout(this.reloadTimer);
    this.reloadTimer = setTimeout(() => {
      this.reloadTimer = undefined;
      try {
        this.reload();
      } catch (err) {
        this.log?.warn({ err: (err as Error).message }, 'TLS reload failed, keeping the previous certificates');
      }
    }, 100);
    this.reloadTimer.unref?.();
  }
}
