import { createServer, connect, type Server, type Socket } from 'node:net';
import type { Atom } from '@courier/term';
import {
  CarrierError,
  DEFAULT_SETUP_TIME_MS,
  HIDDEN_BY_DEFAULT,
  ResolveError,
  UsageError,
  silentLogger,
  type Carrier,
  type Dialer,
  type Logger,
  type Protocol,
  type Resolver,
  type Transport,
  type TransportHost,
} from '@courier/core';
import { erlProtocol, installErlangServices } from '@courier/erl-dist';
import { InPlaceReads, TcpCarrier, adoptForInPlaceReads } from '@courier/stream';
import { defaultEpmdPort, register, type Registration } from './epmd/client.js';
import { EpmdServer } from './epmd/server.js';
import { NODE_TYPE_HIDDEN, NODE_TYPE_NORMAL, PROTOCOL_TCP } from './epmd/messages.js';
import { epmdResolver, fixedPortResolver, splitNodeName, type DistAddress } from './epmd/epmd-resolver.js';

/**
 * The Erlang distribution transport: EPMD (client, or an embedded server when none runs),
 * the v6 handshake and the distribution session, over a byte layer that is plain TCP here and
 * TLS in @courier/transport-tls (as inet_tls_dist reuses dist_util).
 */
export interface ErlDistOptions {
  /** The cookie for every peer, or a function for per-peer cookies (net_kernel:set_cookie/2). */
  readonly cookie: string | ((peer: Atom) => string);
  /** Not listed by the peers' nodes() (erl -hidden). Default: HIDDEN_BY_DEFAULT (true; see docs/erlang.md). */
  readonly hidden?: boolean;
  /** Where to listen. Default: all interfaces, an ephemeral port (as OTP). */
  readonly listen?: { readonly host?: string; readonly port?: number };
  /**
   * EPMD: where it is (default 127.0.0.1 and ERL_EPMD_PORT or 4369), and whether to start an
   * embedded one when nothing answers there (default true). `false`: EPMD-less, like OTP's
   * `-erl_epmd_port P -start_epmd false`: every peer is dialed at `peerPort`.
   */
  readonly epmd?: false | { readonly host?: string; readonly port?: number; readonly embedded?: boolean };
  /** EPMD-less operation: the port every peer listens on (OTP's -erl_epmd_port). */
  readonly peerPort?: number;
  /** net_ticktime in seconds. Default 60 (OTP's). */
  readonly netTicktime?: number;
  /** net_setuptime: resolve, connect and handshake must finish within this many ms. Default DEFAULT_SETUP_TIME_MS. */
  readonly handshakeTimeoutMs?: number;
  /** Largest frame or reassembled message accepted. Default 64 MiB (DEFAULT_MAX_TERM_BYTES). */
  readonly maxMessage?: number;
  /**
   * Output bytes queued per connection past which it is busy (OTP's dist_buf_busy_limit): a
   * process sending to it is parked until it drains; far past it a send throws BUSY_DIST_PORT.
   * Default 1 MiB (DEFAULT_BUSY_LIMIT in @courier/erl-dist).
   */
  readonly busyLimit?: number;
  /**
   * Binaries of at least this many bytes are written to the socket as chunks of their own beside
   * the encoded message (one writev), not copied: the sender must not change such a Uint8Array
   * after sending it. Default 4 KiB (DEFAULT_SEND_BY_REFERENCE_MIN in @courier/erl-dist); Infinity copies every binary.
   */
  readonly sendByReferenceMin?: number;
  /** Which layer (`tcp`, `tls`) dials `peer`, when the transport has several; default the first. */
  readonly layerFor?: (peer: Atom) => string | undefined;
  readonly log?: Logger;
}

/** The byte layer under the Erlang handshake and session: plain TCP here, TLS in @courier/transport-tls. */
export interface DistLayer {
  /** `tcp` or `tls`: the session's carrier name. */
  readonly name: string;
  /** 2 over TCP, 4 over TLS (inet_tls_dist frames the handshake with {packet,4}). */
  readonly handshakeLengthBytes: 2 | 4;
  /** Whether an incoming connection whose first byte is `first` is for this layer (when several share a port). */
  claims(first: number): boolean;
  /** Turn an accepted socket into a carrier (TLS: the server side of the TLS handshake). */
  accept(socket: Socket, log: Logger, setupTimeMs: number): Promise<Carrier>;
  /** Dials `host:port` for `peer` (TLS: the client side of the TLS handshake). */
  dial(host: string, port: number, peer: Atom, signal?: AbortSignal): Promise<Carrier>;
  /** Called when the transport stops (TLS: stop watching certificate files). */
  close?(): void;
}

const TLS_HANDSHAKE_RECORD = 0x16;

/**
 * The plain TCP {@link DistLayer}: accepted and dialed sockets become carriers that read in place
 * (InPlaceReads: a fragment's data is read by the kernel straight into its message's buffer).
 */
export const tcpLayer: DistLayer = {
  name: 'tcp',
  handshakeLengthBytes: 2,
  claims: (first) => first !== TLS_HANDSHAKE_RECORD,
  accept: (socket) => {
    const reads = new InPlaceReads();
    const adopted = adoptForInPlaceReads(socket, reads);
    if (adopted === undefined) {
      const c = new TcpCarrier(socket);
      // The socket may have been paused to look at its first byte.
      socket.resume();
      return Promise.resolve(c);
    }
    adopted.socket.on('error', () => undefined);
    const c = new TcpCarrier(adopted.socket, 'tcp', reads);
    // What the accepted socket had read (its first byte, looked at) comes first, on the next
    // tick as a resumed socket's data would: after the handshake is listening, before any read.
    if (adopted.buffered.length > 0) process.nextTick(() => adopted.buffered.forEach((b) => reads.onread.callback(b.length, b)));
    return Promise.resolve(c);
  },
  dial(host, port, _peer, signal) {
    return new Promise((resolve, reject) => {
      const reads = new InPlaceReads();
      const s = connect({ host, port, noDelay: true, onread: reads.onread });
      // The signal bounds the connect only: it is detached once connected.
      const onAbort = () => s.destroy(new CarrierError('ABORTED', `connecting to ${host}:${port} was cancelled`));
      if (signal?.aborted) onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      s.once('connect', () => {
        signal?.removeEventListener('abort', onAbort);
        s.removeAllListeners('error');
        resolve(new TcpCarrier(s, 'tcp', reads));
      });
      s.once('error', (err) => {
        signal?.removeEventListener('abort', onAbort);
        reject(err instanceof CarrierError ? err : new CarrierError('CONNECT_FAILED', `cannot connect to ${host}:${port}: ${err.message}`, { cause: err }));
      });
    });
  },
};

/** Read the first byte of an accepted socket without consuming it. */
function firstByte(socket: Socket, timeoutMs: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const t = setTimeout(() => done(undefined), timeoutMs);
    const onData = (c: Buffer) => {
      socket.pause();
      socket.unshift(c);
      done(c[0]);
    };
    const done = (b: number | undefined) => {
      clearTimeout(t);
      socket.removeListener('data', onData);
      socket.removeListener('close', onClose);
      resolve(b);
    };
    const onClose = () => done(undefined);
    socket.on('data', onData);
    socket.once('close', onClose);
  });
}

function listen(host: string | undefined, port: number, onSocket: (s: Socket) => void, log: Logger): Promise<{ port: number; close(): Promise<void> }> {
  return new Promise((resolve, reject) => {
    const server: Server = createServer({ noDelay: true }, onSocket);
    server.once('error', reject);
    server.listen({ host, port }, () => {
      server.removeListener('error', reject);
      server.on('error', (err) => log.warn({ err: err.message }, 'listener error'));
      const a = server.address();
      resolve({ port: typeof a === 'object' && a !== null ? a.port : port, close: () => new Promise((r) => server.close(() => r())) });
    });
  });
}

export class ErlDistTransport implements Transport {
  readonly name: string;
  private host: TransportHost | undefined;
  private listener: { port: number; close(): Promise<void> } | undefined;
  private registration: Registration | undefined;
  private embedded: EpmdServer | undefined;
  private log: Logger;
  private readonly layers: readonly DistLayer[];
  /** One protocol per layer (the handshake's length prefix and the session's carrier name differ). */
  private readonly protocols = new Map<DistLayer, Protocol>();
  private readonly resolver: Resolver<DistAddress>;

  /**
   * `layers`: the byte layers this node speaks, all on one port (the first byte of an incoming
   * connection tells TLS from plain TCP). Outgoing connections use `opts.layerFor(peer)`, by default
   * the first layer. A TLS-only node has only the TLS layer and never falls back to plain TCP.
   */
  constructor(
    private readonly opts: ErlDistOptions,
    layers: DistLayer | readonly DistLayer[] = tcpLayer,
  ) {
    this.layers = Array.isArray(layers) ? layers : [layers as DistLayer];
    if (this.layers.length === 0) throw new UsageError('NO_LAYER', 'an Erlang distribution transport needs at least one layer (tcp or tls)');
    this.name = this.layers.map((l) => l.name).join('+');
    this.log = opts.log ?? silentLogger;
    this.resolver = opts.epmd === false ? fixedPortResolver(() => opts.peerPort ?? this.listener?.port) : epmdResolver((peerHost) => this.epmdAddress(peerHost));
  }

  /** The port the node listens on (after start). */
  get port(): number | undefined {
    return this.listener?.port;
  }

  /** The embedded EPMD, when this transport had to start one. */
  get embeddedEpmd(): EpmdServer | undefined {
    return this.embedded;
  }

  private get hidden(): boolean {
    return this.opts.hidden ?? HIDDEN_BY_DEFAULT.tcp;
  }

  private get setupTimeMs(): number {
    return this.opts.handshakeTimeoutMs ?? DEFAULT_SETUP_TIME_MS;
  }

  async start(host: TransportHost): Promise<void> {
    this.host = host;
    this.log = (this.opts.log ?? host.log).child({ carrier: this.name });
    const cookie = this.opts.cookie;
    for (const layer of this.layers) {
      this.protocols.set(
        layer,
        erlProtocol({
          self: host.name,
          // Read at each handshake: EPMD's creation replaces the node's first one below.
          get creation() {
            return host.creation;
          },
          cookie: typeof cookie === 'function' ? cookie : () => cookie,
          hidden: this.hidden,
          lengthBytes: layer.handshakeLengthBytes,
          carrierName: layer.name,
          netTicktime: this.opts.netTicktime,
          maxMessage: this.opts.maxMessage,
          busyLimit: this.opts.busyLimit,
          sendByReferenceMin: this.opts.sendByReferenceMin,
        }),
      );
    }
    installErlangServices(host.services, { visible: !this.hidden });
    const fixed = this.opts.epmd === false ? (this.opts.listen?.port ?? this.opts.peerPort ?? 0) : (this.opts.listen?.port ?? 0);
    this.listener = await listen(this.opts.listen?.host, fixed, (socket) => void this.acceptSocket(socket), this.log);
    if (this.opts.epmd !== false) {
      await this.registerEpmd();
      // The node's pids and refs carry the creation EPMD handed out, as an OTP node's do.
      host.adoptCreation?.((this.registration as Registration).creation);
    }
    this.log.info({ port: this.listener.port, epmd: this.opts.epmd !== false }, 'distribution listening');
  }

  dialer(peer: Atom): Dialer<DistAddress> {
    const layer = this.layerFor(peer);
    return {
      resolver: this.resolver,
      carrier: { dial: (address, to, signal) => layer.dial(address.host, address.port, to ?? peer, signal) },
      protocol: this.protocolOf(layer),
      setupTimeMs: this.setupTimeMs,
    };
  }

  private protocolOf(layer: DistLayer): Protocol {
    const p = this.protocols.get(layer);
    if (p === undefined) throw new CarrierError('NOT_STARTED', 'start the node before connecting');
    return p;
  }

  private epmdAddress(host?: string) {
    const e = this.opts.epmd === false ? undefined : this.opts.epmd;
    return { host: host ?? e?.host ?? '127.0.0.1', port: e?.port ?? defaultEpmdPort() };
  }

  private async registerEpmd(): Promise<void> {
    const host = this.host as TransportHost;
    const addr = this.epmdAddress();
    const entry = {
      name: splitNodeName(host.name).alive,
      port: (this.listener as { port: number }).port,
      nodeType: this.hidden ? NODE_TYPE_HIDDEN : NODE_TYPE_NORMAL,
      protocol: PROTOCOL_TCP,
      highest: 6,
      lowest: 6,
      extra: new Uint8Array(0),
    };
    try {
      this.registration = await register(addr, entry, this.log);
    } catch (err) {
      const epmdOpts = this.opts.epmd === false ? undefined : this.opts.epmd;
      const embeddedOk = epmdOpts?.embedded !== false;
      if (!(err instanceof ResolveError) || err.code !== 'EPMD_UNREACHABLE' || !embeddedOk) throw err;
      this.embedded = new EpmdServer(this.log.child({ epmd: 'embedded' }));
      try {
        await this.embedded.listen(addr.port);
        this.log.info({ port: addr.port }, 'no EPMD was running: started an embedded one');
      } catch (listenErr) {
        // Someone else started an EPMD meanwhile: use theirs.
        this.embedded = undefined;
        if ((listenErr as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw listenErr;
      }
      this.registration = await register(addr, entry, this.log);
    }
  }

  private async acceptSocket(socket: Socket): Promise<void> {
    socket.on('error', () => undefined);
    const host = this.host;
    if (host === undefined) return void socket.destroy();
    const remote = `${socket.remoteAddress}:${socket.remotePort}`;
    // One set-up deadline for the whole accept: the first byte, TLS, the Erlang handshake (net_setuptime).
    const started = Date.now();
    const left = (): number => Math.max(1, this.setupTimeMs - (Date.now() - started));
    let layer = this.layers[0] as DistLayer;
    if (this.layers.length > 1) {
      const first = await firstByte(socket, left());
      const found = first === undefined ? undefined : this.layers.find((l) => l.claims(first));
      if (found === undefined) {
        this.log.warn({ remote, first }, 'connection refused: no carrier for it');
        socket.destroy();
        return;
      }
      layer = found;
    }
    let c: Carrier;
    try {
      c = await layer.accept(socket, this.log, left());
    } catch (err) {
      this.log.warn({ remote, carrier: layer.name, err: (err as Error).message }, 'connection refused by the carrier');
      socket.destroy();
      return;
    }
    host.accept(c, { protocol: this.protocolOf(layer), setupTimeMs: left() });
  }

  private layerFor(peer: Atom): DistLayer {
    const want = this.opts.layerFor?.(peer);
    if (want === undefined) return this.layers[0] as DistLayer;
    const l = this.layers.find((x) => x.name === want);
    if (l === undefined) throw new UsageError('NO_LAYER', `${peer.name} is routed to carrier ${want}, which this node does not run`);
    return l;
  }

  async stop(): Promise<void> {
    this.registration?.close();
    for (const l of this.layers) l.close?.();
    await this.listener?.close();
    await this.embedded?.close();
  }
}

/** The Erlang distribution over plain TCP, as `inet_tcp_dist`. */
export function tcpDist(o: ErlDistOptions): ErlDistTransport {
  return new ErlDistTransport(o, tcpLayer);
}
