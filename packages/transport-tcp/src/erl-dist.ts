import { createServer, connect, type Server, type Socket } from 'node:net';
import { atom, type Atom } from '@courier/term';
import {
  CarrierError,
  HandshakeError,
  ResolveError,
  UsageError,
  silentLogger,
  driveHandshake,
  type Carrier,
  type Logger,
  type Session,
  type Transport,
  type TransportHost,
} from '@courier/core';
import { ErlHandshake } from './handshake/machine.js';
import { ErlSession } from './dist/session.js';
import { TcpCarrier } from './tcp-carrier.js';
import { defaultEpmdPort, portPlease, register, type Registration } from './epmd/client.js';
import { EpmdServer } from './epmd/server.js';
import { NODE_TYPE_HIDDEN, NODE_TYPE_NORMAL, PROTOCOL_TCP } from './epmd/messages.js';
import { installErlangServices } from './erlang/services.js';

/**
 * The Erlang distribution transport: EPMD (client, or an embedded server when none runs),
 * the v6 handshake and the distribution session, over a byte layer that is plain TCP here and
 * TLS in @courier/transport-tls (as inet_tls_dist reuses dist_util).
 */
export interface ErlDistOptions {
  /** The cookie for every peer, or a function for per-peer cookies (net_kernel:set_cookie/2). */
  readonly cookie: string | ((peer: Atom) => string);
  /** Not listed by the peers' nodes() (erl -hidden). Default true: see docs/erlang.md. */
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
  /** net_setuptime: the whole handshake must finish within this many ms. Default 7000. */
  readonly handshakeTimeoutMs?: number;
  /** Largest frame or reassembled message accepted. Default 128 MiB. */
  readonly maxMessage?: number;
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
  accept(socket: Socket, log: Logger): Promise<Carrier>;
  dial(host: string, port: number, peer: Atom, signal?: AbortSignal): Promise<Carrier>;
  /** Called when the transport stops (TLS: stop watching certificate files). */
  close?(): void;
}

const TLS_HANDSHAKE_RECORD = 0x16;

export const tcpLayer: DistLayer = {
  name: 'tcp',
  handshakeLengthBytes: 2,
  claims: (first) => first !== TLS_HANDSHAKE_RECORD,
  accept: (socket) => {
    const c = new TcpCarrier(socket);
    // The socket may have been paused to look at its first byte.
    socket.resume();
    return Promise.resolve(c);
  },
  dial(host, port, _peer, signal) {
    return new Promise((resolve, reject) => {
      const s = connect({ host, port, noDelay: true });
      // The signal bounds the connect only: it is detached once connected.
      const onAbort = () => s.destroy(new CarrierError('ABORTED', `connecting to ${host}:${port} was cancelled`));
      if (signal?.aborted) onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      s.once('connect', () => {
        signal?.removeEventListener('abort', onAbort);
        s.removeAllListeners('error');
        resolve(new TcpCarrier(s));
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

/** Split `alive@host`. */
export function splitNodeName(n: Atom): { alive: string; host: string } {
  const i = n.name.indexOf('@');
  if (i <= 0 || i === n.name.length - 1) throw new ResolveError('BAD_NODE_NAME', `${n.name} is not a node name of the form alive@host`);
  return { alive: n.name.slice(0, i), host: n.name.slice(i + 1) };
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
  private readonly carriers = new Set<Carrier>();
  private log: Logger;

  private readonly layers: readonly DistLayer[];

  /**
   * `layers`: the byte layers this node speaks, all on one port (the first byte of an incoming
   * connection tells TLS from plain TCP). Outgoing connections use `o.layerFor(peer)`, by default
   * the first layer. A TLS-only node has only the TLS layer and never falls back to plain TCP.
   */
  constructor(
    private readonly o: ErlDistOptions,
    layers: DistLayer | readonly DistLayer[] = tcpLayer,
  ) {
    this.layers = Array.isArray(layers) ? layers : [layers as DistLayer];
    if (this.layers.length === 0) throw new UsageError('NO_LAYER', 'an Erlang distribution transport needs at least one layer (tcp or tls)');
    this.name = this.layers.map((l) => l.name).join('+');
    this.log = o.log ?? silentLogger;
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
    return this.o.hidden ?? true;
  }

  private cookieFor = (peer: Atom): string => (typeof this.o.cookie === 'function' ? this.o.cookie(peer) : this.o.cookie);

  async start(host: TransportHost): Promise<void> {
    this.host = host;
    this.log = (this.o.log ?? host.log).child({ carrier: this.name });
    installErlangServices(host.node);
    const fixed = this.o.epmd === false ? (this.o.listen?.port ?? this.o.peerPort ?? 0) : (this.o.listen?.port ?? 0);
    this.listener = await listen(this.o.listen?.host, fixed, (socket) => void this.acceptSocket(socket), this.log);
    if (this.o.epmd !== false) await this.registerEpmd();
    this.log.info({ port: this.listener.port, epmd: this.o.epmd !== false }, 'distribution listening');
  }

  private epmdAddress(host?: string) {
    const e = this.o.epmd === false ? undefined : this.o.epmd;
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
      const epmdOpts = this.o.epmd === false ? undefined : this.o.epmd;
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
    const remote = `${socket.remoteAddress}:${socket.remotePort}`;
    let layer = this.layers[0] as DistLayer;
    if (this.layers.length > 1) {
      const first = await firstByte(socket, this.o.handshakeTimeoutMs ?? 7000);
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
      c = await layer.accept(socket, this.log);
    } catch (err) {
      this.log.warn({ remote, carrier: layer.name, err: (err as Error).message }, 'connection refused by the carrier');
      socket.destroy();
      return;
    }
    this.accept(c, layer);
  }

  private accept(c: Carrier, layer: DistLayer): void {
    const host = this.host;
    if (host === undefined) return c.abort();
    this.carriers.add(c);
    const hs = new ErlHandshake({
      role: 'acceptor',
      self: host.name,
      creation: host.creation,
      cookie: this.cookieFor,
      hidden: this.hidden,
      arbiter: host.arbiter,
      lengthBytes: layer.handshakeLengthBytes,
    });
    driveHandshake(c, hs, { timeoutMs: this.o.handshakeTimeoutMs ?? 7000 }).then(
      ({ result: r, handover }) => {
        this.carriers.delete(c);
        const s = this.session(c, r.peer, r.flags, r.hidden ?? false, layer);
        host.attach(s);
        s.start(r.tail, handover);
      },
      (err: unknown) => {
        this.carriers.delete(c);
        this.handshakeFailed(err, c.remote, hs.peer, 'accept');
      },
    );
  }

  async connect(peer: Atom, signal?: AbortSignal): Promise<Session> {
    const host = this.host;
    if (host === undefined) throw new CarrierError('NOT_STARTED', 'start the node before connecting');
    const { alive, host: peerHost } = splitNodeName(peer);
    let port: number;
    if (this.o.epmd === false) {
      port = this.o.peerPort ?? (this.listener as { port: number }).port;
    } else {
      const e = await portPlease(this.epmdAddress(peerHost), alive);
      if (e === undefined) throw new ResolveError('NOT_REGISTERED', `${peer.name} is not registered in EPMD on ${peerHost}`);
      if (e.highest < 6) throw new ResolveError('OLD_VERSION', `${peer.name} speaks distribution version ${e.highest}; Courier needs 6 (OTP 23+)`);
      port = e.port;
    }
    const layer = this.layerFor(peer);
    // net_setuptime bounds the carrier's own set-up (TLS) as well as the distribution handshake.
    const setupMs = this.o.handshakeTimeoutMs ?? 7000;
    const timeout = AbortSignal.timeout(setupMs);
    let c: Carrier;
    try {
      c = await layer.dial(peerHost, port, peer, signal ? AbortSignal.any([signal, timeout]) : timeout);
    } catch (err) {
      if (timeout.aborted) throw new HandshakeError('TIMEOUT', `connecting to ${peer.name} (${peerHost}:${port}) did not finish within ${setupMs} ms`);
      throw err;
    }
    const hs = new ErlHandshake({
      role: 'initiator',
      self: host.name,
      peer,
      creation: host.creation,
      cookie: this.cookieFor,
      hidden: this.hidden,
      lengthBytes: layer.handshakeLengthBytes,
    });
    try {
      const { result: r, handover } = await driveHandshake(c, hs, { timeoutMs: this.o.handshakeTimeoutMs ?? 7000, signal, waitOnNok: true });
      const s = this.session(c, r.peer, r.flags, r.hidden ?? false, layer);
      // Take the carrier over once the connection table has recorded the session (it does so
      // when this promise settles); the carrier stays paused until then.
      setImmediate(() => s.start(r.tail, handover));
      return s;
    } catch (err) {
      this.handshakeFailed(err, c.remote, peer, 'connect');
      throw err;
    }
  }

  private layerFor(peer: Atom): DistLayer {
    const want = this.o.layerFor?.(peer);
    if (want === undefined) return this.layers[0] as DistLayer;
    const l = this.layers.find((x) => x.name === want);
    if (l === undefined) throw new UsageError('NO_LAYER', `${peer.name} is routed to carrier ${want}, which this node does not run`);
    return l;
  }

  private session(c: Carrier, peer: Atom, flags: bigint, hidden: boolean, layer: DistLayer): ErlSession {
    const host = this.host as TransportHost;
    return new ErlSession(c, host.router, {
      peer,
      flags,
      hidden,
      carrierName: layer.name,
      log: this.log.child({ peer: peer.name }),
      netTicktime: this.o.netTicktime,
      maxMessage: this.o.maxMessage,
    });
  }

  private handshakeFailed(err: unknown, remote: string, peer: Atom | undefined, dir: string): void {
    const e = err as Error;
    if (err instanceof HandshakeError && err.code === 'NOK') {
      this.log.debug({ remote, peer: peer?.name }, 'simultaneous connect resolved: the other attempt wins');
      return;
    }
    this.log.warn({ remote, peer: peer?.name, direction: dir, code: (err as { code?: string }).code, err: e.message }, 'handshake failed');
  }

  async stop(): Promise<void> {
    for (const c of this.carriers) c.abort();
    this.carriers.clear();
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


