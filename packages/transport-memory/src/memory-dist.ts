import type { Atom } from '@courier/term';
import {
  CarrierError,
  DEFAULT_SETUP_TIME_MS,
  HIDDEN_BY_DEFAULT,
  UsageError,
  type Acceptor,
  type Dialer,
  type PipelineSession,
  type Protocol,
  type Transport,
  type TransportHost,
} from '@courier/core';
import { erlProtocol } from '@courier/erl-dist';
import type { MemoryAccept, MemoryNetwork } from './memory-network.js';

/** Options of {@link memoryDist}: the in-process network, the cookie, hidden or visible, the set-up deadline. */
export interface MemoryDistOptions {
  /** The in-process network the node listens on and dials through. */
  readonly network: MemoryNetwork;
  /** The cookie; both ends must hold the same. Never logged. */
  readonly cookie: string;
  /** Not listed by the peers' nodes(), and they not by its. Default: HIDDEN_BY_DEFAULT.memory (false). */
  readonly hidden?: boolean;
  /** Dial and handshake must finish within this many ms. Default DEFAULT_SETUP_TIME_MS (OTP's net_setuptime). */
  readonly handshakeTimeoutMs?: number;
  /** net_ticktime in seconds (dead-peer detection). Default 60 (OTP's). */
  readonly netTicktime?: number;
  /** Largest frame or reassembled message accepted from a peer. Default 64 MiB (DEFAULT_MAX_TERM_BYTES). */
  readonly maxMessage?: number;
  /** Output bytes queued per connection past which it is busy (dist_buf_busy_limit). Default 1 MiB. */
  readonly busyLimit?: number;
}

/** The in-memory carrier as a node transport: `new Node({ name, transports: [memoryDist({ network, cookie })] })`. */
export function memoryDist(opts: MemoryDistOptions): MemoryTransport {
  return new MemoryTransport(opts);
}

/**
 * The Erlang distribution (handshake and session of @courier/erl-dist) over in-memory pipes: the
 * node name is the address, the network is the carrier factory. It has no protocol of its own, so
 * what it tests is what real peers meet.
 */
export class MemoryTransport implements Transport {
  readonly name = 'memory';
  private host: TransportHost | undefined;
  private protocol: Protocol | undefined;
  private accept: MemoryAccept | undefined;
  private stopped = false;
  /** Sessions made over this transport, closed by stop() (pruned of closed ones as new ones come). */
  private readonly sessions = new Set<PipelineSession>();
  private readonly setupTimeMs: number;

  constructor(private readonly opts: MemoryDistOptions) {
    this.setupTimeMs = opts.handshakeTimeoutMs ?? DEFAULT_SETUP_TIME_MS;
  }

  /** Nothing to wait for: done when it returns; a throw (ALREADY_STARTED, ADDRESS_IN_USE) rejects. */
  start(host: TransportHost): Promise<void> {
    return new Promise<void>((resolve) => {
      if (this.host !== undefined) throw new UsageError('ALREADY_STARTED', 'this memory transport already runs for a node');
      const inner = erlProtocol({
        self: host.name,
        creation: host.creation,
        cookie: () => this.opts.cookie,
        hidden: this.opts.hidden ?? HIDDEN_BY_DEFAULT.memory,
        lengthBytes: 2,
        carrierName: 'memory',
        netTicktime: this.opts.netTicktime,
        maxMessage: this.opts.maxMessage,
        busyLimit: this.opts.busyLimit,
      });
      const protocol: Protocol = { ...inner, session: (carrier, result, ctx) => this.track(inner.session(carrier, result, ctx)) };
      const acceptor: Acceptor = { protocol, setupTimeMs: this.setupTimeMs };
      const accept: MemoryAccept = (carrier) => host.accept(carrier, acceptor);
      this.opts.network.listen(host.name, accept);
      this.host = host;
      this.protocol = protocol;
      this.accept = accept;
      resolve();
    });
  }

  dialer(_peer: Atom): Dialer<Atom> {
    if (this.protocol === undefined || this.stopped) throw new CarrierError('NOT_RUNNING', 'the memory transport is not running');
    return { resolver: this.opts.network, carrier: this.opts.network, protocol: this.protocol, setupTimeMs: this.setupTimeMs };
  }

  /** Nothing to wait for either: the sessions close at once. */
  stop(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    this.stopped = true;
    return new Promise<void>((resolve) => {
      if (this.host !== undefined && this.accept !== undefined) this.opts.network.unlisten(this.host.name, this.accept);
      for (const s of [...this.sessions]) s.close('transport stopping');
      this.sessions.clear();
      resolve();
    });
  }

  private track(session: PipelineSession): PipelineSession {
    for (const s of this.sessions) if (s.isClosed) this.sessions.delete(s);
    this.sessions.add(session);
    return session;
  }
}
