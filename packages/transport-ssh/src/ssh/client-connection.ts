import { connect as netConnect } from 'node:net';
import ssh2, { type Client as SshClient, type ClientChannel, type ServerHostKeyAlgorithm } from 'ssh2';
import { CarrierError, HandshakeError, type Logger } from '@courier/core';
import { HostKeyError } from '../errors.js';
import type { HostTrust } from '../keys/host-trust.js';
import { SshChannelCarrier } from './channel-carrier.js';

// ssh2 is CommonJS: Node sees its named exports only through the default export.
const { Client } = ssh2;

/**
 * Options of {@link SshClientConnection.dial}: where, as whom (user and private key), which host key to
 * trust, and the deadline.
 */
export interface DialOptions {
  readonly host: string;
  readonly port: number;
  /** The SSH user name: our node name, which the server binds to our key. */
  readonly user: string;
  readonly privateKey: string | Buffer;
  readonly trust: HostTrust;
  /** The node the server should be, for host-key lookups by node name. */
  readonly node?: string;
  /** Connect + key exchange + authentication must finish within this. */
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
  readonly log: Logger;
}

/**
 * One authenticated SSH connection we dialed, on which channels are opened for subsystems.
 * The socket has noDelay from its first byte (ssh2's own socket would wait ~50 ms per flight
 * of the key exchange). Failures are typed: HostKeyError (the host key), HandshakeError
 * `NOT_ALLOWED` (the server refused our key or name) or `TIMEOUT`, CarrierError otherwise.
 */
export class SshClientConnection {
  private readonly carriers = new Set<SshChannelCarrier>();
  private closed = false;
  private opening = 0;
  /** Close the connection when its last channel closes (pooled connections). */
  closeWhenIdle = false;
  private readonly closeHooks: Array<() => void> = [];

  private constructor(
    readonly client: SshClient,
    readonly remote: string,
  ) {
    client.on('close', () => {
      this.closed = true;
      // Channels of a dead connection may never see their own close (a paused reader).
      for (const c of [...this.carriers]) c.abort(new CarrierError('CLOSED', `the SSH connection to ${remote} closed`));
      for (const h of this.closeHooks.splice(0)) h();
    });
  }

  /** Connects, checks the server's host key, and authenticates with the private key, within `o.timeoutMs`. */
  static dial(o: DialOptions): Promise<SshClientConnection> {
    const remote = `${o.host}:${o.port}`;
    return new Promise((resolve, reject) => {
      const client = new Client();
      const sock = netConnect({ host: o.host, port: o.port, noDelay: true });
      let hostError: Error | undefined;
      let settled = false;
      const fail = (err: Error): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        o.signal?.removeEventListener('abort', onAbort);
        client.end();
        sock.destroy();
        reject(err);
      };
      const timer = setTimeout(() => fail(new HandshakeError('TIMEOUT', `SSH to ${o.node ?? remote} (${remote}) did not finish within ${o.timeoutMs} ms`)), o.timeoutMs);
      const onAbort = (): void => fail(new CarrierError('ABORTED', `connecting to ${remote} was cancelled`, { cause: o.signal?.reason }));
      if (o.signal?.aborted) return onAbort();
      o.signal?.addEventListener('abort', onAbort, { once: true });
      // Offer only the pinned key types, so a server with several host keys shows the pinned one.
      const serverHostKey = o.trust.hostKeyAlgorithms({ host: o.host, port: o.port, node: o.node });
      client.on('error', (err: Error & { level?: string }) => {
        if (hostError !== undefined) return fail(hostError);
        if (serverHostKey !== undefined && err.level === 'handshake' && /host key/i.test(err.message)) {
          // A pinned host that has no key of the pinned types: its key changed type, or it is not that host.
          return fail(
            new HostKeyError(
              'HOST_KEY_MISMATCH',
              `${o.node ?? remote} (${remote}) has no host key of the types pinned for it (${serverHostKey.join(', ')}): someone may be impersonating it, or its key changed (remove the old line only if you know why)`,
              '',
            ),
          );
        }
        if (err.level === 'client-authentication') {
          return fail(
            new HandshakeError('NOT_ALLOWED', `${o.node ?? remote} refused our key for ${o.user}: its authorized keys must hold our public key with the comment ${o.user}`, {
              cause: err,
            }),
          );
        }
        const code = err.level === 'client-socket' ? 'CONNECT_FAILED' : 'SSH_FAILED';
        fail(new CarrierError(code, `SSH to ${remote} failed: ${err.message}`, { cause: err }));
      });
      client.on('close', () => fail(hostError ?? new CarrierError('CLOSED', `${remote} closed the SSH connection during set-up`)));
      client.on('ready', () => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        o.signal?.removeEventListener('abort', onAbort);
        client.removeAllListeners('error');
        client.on('error', (err: Error) => o.log.debug({ remote, err: err.message }, 'SSH connection error'));
        resolve(new SshClientConnection(client, remote));
      });
      client.connect({
        sock,
        ...(serverHostKey === undefined ? {} : { algorithms: { serverHostKey: serverHostKey as ServerHostKeyAlgorithm[] } }),
        username: o.user,
        privateKey: o.privateKey,
        readyTimeout: o.timeoutMs + 1000,
        hostVerifier: (key: Buffer) => {
          hostError = o.trust.verify({ host: o.host, port: o.port, node: o.node }, key);
          return hostError === undefined;
        },
      });
    });
  }

  /** isOpen Whether the SSH connection is still open. */
  get isOpen(): boolean {
    return !this.closed;
  }

  /** Channels open now. */
  get channels(): number {
    return this.carriers.size;
  }

  /** Calls `hook` when the connection closes (at once if it has). */
  onClose(hook: () => void): void {
    if (this.closed) hook();
    else this.closeHooks.push(hook);
  }

  /** Open a session channel for `subsystem`; rejects with CarrierError `SUBSYSTEM_REFUSED` when the server says no. */
  openSubsystem(subsystem: string): Promise<SshChannelCarrier> {
    if (this.closed) return Promise.reject(new CarrierError('CLOSED', `the SSH connection to ${this.remote} is closed`));
    this.opening++;
    return new Promise<SshChannelCarrier>((resolve, reject) => {
      try {
        this.client.subsys(subsystem, (err: Error | undefined, ch: ClientChannel) => {
          if (err) return reject(new CarrierError('SUBSYSTEM_REFUSED', `${this.remote} refused the subsystem ${subsystem}: ${err.message}`, { cause: err }));
          const c = new SshChannelCarrier(ch, this.remote);
          this.carriers.add(c);
          ch.once('close', () => {
            this.carriers.delete(c);
            this.idleCheck();
          });
          resolve(c);
        });
      } catch (err) {
        reject(new CarrierError('CLOSED', `cannot open a channel to ${this.remote}: ${(err as Error).message}`, { cause: err }));
      }
    }).finally(() => {
      this.opening--;
      this.idleCheck();
    });
  }

  private idleCheck(): void {
    if (this.closeWhenIdle && !this.closed && this.carriers.size === 0 && this.opening === 0) this.close();
  }

  /** Closes the SSH connection and every channel on it. */
  close(): void {
    this.closed = true;
    this.client.end();
  }
}
