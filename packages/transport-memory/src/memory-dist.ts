import type { Atom } from '@courier/term';
import {
  driveHandshake,
  CarrierError,
  HandshakeError,
  UsageError,
  silentLogger,
  type Logger,
  type HandshakeResult,
  type Session,
  type Transport,
  type TransportHost,
} from '@courier/core';
import type { MemoryCarrier } from './memory-carrier.js';
import type { MemoryAccept, MemoryNetwork } from './memory-network.js';
import { MemoryHandshake } from './handshake/memory-handshake.js';
import { DEFAULT_MEMORY_FLAGS, MemoryFlag } from './handshake/messages.js';
import { MemorySession } from './session/memory-session.js';

export interface MemoryDistOptions {
  /** The in-process network the node listens on and dials through. */
  readonly network: MemoryNetwork;
  /** Shared secret; both ends must hold the same. Never logged. */
  readonly cookie: string;
  /** The handshake must finish within this. Default 7000 ms (OTP's net_setuptime). */
  readonly handshakeTimeoutMs?: number;
  /** A hidden node: not listed by its peers' `nodes()`, and they not by its. */
  readonly hidden?: boolean;
  /** Advertised capabilities (default PUBLISHED | SEND_SENDER | EXIT_PAYLOAD); PUBLISHED is cleared when hidden. */
  readonly flags?: bigint;
  /** Largest frame accepted from a peer. Default 64 MiB. */
  readonly maxFrameBytes?: number;
  /** Tick interval of sessions (dead-peer detection after 4 silent intervals). Off by default. */
  readonly tickMs?: number;
}

export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 7000;

/** The in-memory carrier as a node transport: `new Node({ name, transports: [memoryDist({ network, cookie })] })`. */
export function memoryDist(opts: MemoryDistOptions): MemoryTransport {
  return new MemoryTransport(opts);
}

export class MemoryTransport implements Transport {
  readonly name = 'memory';
  private host: TransportHost | undefined;
  private log: Logger = silentLogger;
  private accept: MemoryAccept | undefined;
  private stopped = false;
  private readonly sessions = new Set<MemorySession>();
  /** Handshakes under way, both roles; aborted by stop(). */
  private readonly attempts = new Set<AbortController>();
  private readonly flags: bigint;
  private readonly timeoutMs: number;

  constructor(private readonly opts: MemoryDistOptions) {
    const flags = opts.flags ?? DEFAULT_MEMORY_FLAGS;
    this.flags = opts.hidden === true ? flags & ~MemoryFlag.PUBLISHED : flags;
    this.timeoutMs = opts.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS;
  }

  async start(host: TransportHost): Promise<void> {
    if (this.host !== undefined) throw new UsageError('ALREADY_STARTED', 'this memory transport already runs for a node');
    this.host = host;
    this.log = host.log.child({ transport: 'memory' });
    const accept: MemoryAccept = (carrier) => this.accepted(host, carrier);
    this.opts.network.listen(host.name, accept);
    this.accept = accept;
  }

  async connect(peer: Atom, signal?: AbortSignal): Promise<Session> {
    const host = this.host;
    if (host === undefined || this.stopped) throw new CarrierError('NOT_RUNNING', 'the memory transport is not running');
    const ac = new AbortController();
    const forward = (): void => ac.abort(signal?.reason);
    if (signal?.aborted) forward();
    signal?.addEventListener('abort', forward, { once: true });
    this.attempts.add(ac);
    try {
      const carrier = await this.opts.network.dial(peer, ac.signal);
      const hs = new MemoryHandshake({ role: 'initiator', self: host.name, creation: host.creation, cookie: this.opts.cookie, peer, flags: this.flags });
      const { result, handover } = await driveHandshake(carrier, hs, { timeoutMs: this.timeoutMs, signal: ac.signal, waitOnNok: true });
      const session = this.session(host, carrier, result);
      // Take the carrier over once the connection table has recorded the session (it does so
      // when this promise settles); the carrier stays paused until then.
      setImmediate(() => session.start(handover));
      return session;
    } finally {
      this.attempts.delete(ac);
      signal?.removeEventListener('abort', forward);
    }
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.host !== undefined && this.accept !== undefined) this.opts.network.unlisten(this.host.name, this.accept);
    for (const ac of [...this.attempts]) ac.abort(new CarrierError('STOPPED', 'the transport stopped'));
    for (const s of [...this.sessions]) s.close('transport stopping');
  }

  private accepted(host: TransportHost, carrier: MemoryCarrier): void {
    if (this.stopped) {
      carrier.abort();
      return;
    }
    const ac = new AbortController();
    this.attempts.add(ac);
    const hs = new MemoryHandshake({ role: 'acceptor', self: host.name, creation: host.creation, cookie: this.opts.cookie, arbiter: host.arbiter, flags: this.flags });
    driveHandshake(carrier, hs, { timeoutMs: this.timeoutMs, signal: ac.signal }).then(
      ({ result, handover }) => {
        this.attempts.delete(ac);
        if (this.stopped) {
          carrier.abort();
          return;
        }
        const session = this.session(host, carrier, result);
        host.attach(session);
        session.start(handover);
      },
      (err: unknown) => {
        this.attempts.delete(ac);
        if (err instanceof HandshakeError && (err.code === 'NOK' || err.code === 'ALREADY_CONNECTED')) {
          this.log.debug({ remote: carrier.remote, code: err.code }, 'incoming connection yielded');
        } else if (err instanceof HandshakeError || err instanceof CarrierError) {
          this.log.warn({ remote: carrier.remote, code: err.code, err: err.message }, 'incoming handshake failed');
        } else {
          this.log.error({ remote: carrier.remote, err }, 'incoming handshake crashed');
        }
      },
    );
  }

  private session(host: TransportHost, carrier: MemoryCarrier, result: HandshakeResult): MemorySession {
    const session: MemorySession = new MemorySession({
      carrier,
      handshake: result,
      router: host.router,
      log: this.log.child({ peer: result.peer.name }),
      maxFrameBytes: this.opts.maxFrameBytes,
      tickMs: this.opts.tickMs,
      onClosed: (s) => this.sessions.delete(s),
    });
    this.sessions.add(session);
    return session;
  }
}
