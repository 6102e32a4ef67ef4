import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer, type ServerOptions as HttpsServerOptions } from 'node:https';
import type { Atom } from '@courier/term';
import {
  CarrierError,
  HandshakeError,
  ResolveError,
  driveHandshake,
  silentLogger,
  type Carrier,
  type Logger,
  type Session,
  type Transport,
  type TransportHost,
} from '@courier/core';
import { ErlHandshake, ErlSession, installErlangServices } from '@courier/transport-tcp';
import { WebSocket, WebSocketServer, type ClientOptions } from 'ws';
import { WsCarrier, type WebSocketLike } from './ws-carrier.js';
import { DEFAULT_PATH, SUBPROTOCOL } from './subprotocol.js';

/**
 * The Courier distribution over WebSocket binary messages: the Erlang handshake (cookie
 * challenge, 2-byte lengths) and session of @courier/transport-tcp, with the WebSocket as the
 * byte layer, as TLS is for inet_tls_dist. A node listening with `listen` is a gateway other
 * nodes (browser ones among them) dial at `ws://host:port/courier` (`wss://` with `listen.tls`).
 */
export interface WsDistOptions {
  /** The cookie for every peer, or a function for per-peer cookies. */
  readonly cookie: string | ((peer: Atom) => string);
  /** Not listed by the peers' nodes(). Default false. */
  readonly hidden?: boolean;
  /** Accept WebSocket connections: on a new listener (host default 127.0.0.1, port default 0), over TLS with `tls`. */
  readonly listen?: { readonly host?: string; readonly port?: number; readonly tls?: HttpsServerOptions; readonly path?: string };
  /** Where `peer` accepts: its `ws://` or `wss://` URL. */
  readonly urlFor?: (peer: Atom) => string | undefined;
  /** Options for dialing (`ws`'s ClientOptions: `ca`, `rejectUnauthorized`, …). */
  readonly client?: ClientOptions;
  readonly handshakeTimeoutMs?: number;
  readonly netTicktime?: number;
  readonly maxMessage?: number;
  readonly log?: Logger;
}


export class WsDistTransport implements Transport {
  readonly name = 'ws';
  private host: TransportHost | undefined;
  private http: HttpServer | undefined;
  private wss: WebSocketServer | undefined;
  private readonly carriers = new Set<Carrier>();
  private log: Logger;
  private listenUrl: string | undefined;

  constructor(private readonly o: WsDistOptions) {
    this.log = o.log ?? silentLogger;
  }

  /** The URL this node accepts on (after start, when listening). */
  get url(): string | undefined {
    return this.listenUrl;
  }

  private cookieFor = (peer: Atom): string => (typeof this.o.cookie === 'function' ? this.o.cookie(peer) : this.o.cookie);

  async start(host: TransportHost): Promise<void> {
    this.host = host;
    this.log = (this.o.log ?? host.log).child({ carrier: 'ws' });
    installErlangServices(host.node);
    const l = this.o.listen;
    if (l === undefined) return;
    const path = l.path ?? DEFAULT_PATH;
    const server = l.tls ? createHttpsServer(l.tls) : createHttpServer();
    server.on('request', (_req, res) => res.writeHead(426, { connection: 'close' }).end('a Courier WebSocket gateway\n'));
    const wss = new WebSocketServer({ server, path, maxPayload: this.o.maxMessage ?? 128 * 1024 * 1024, perMessageDeflate: false });
    wss.on('connection', (ws, req: IncomingMessage) => {
      ws.on('error', () => undefined);
      this.accept(new WsCarrier(ws as unknown as WebSocketLike, `${req.socket.remoteAddress}:${req.socket.remotePort}`));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: l.host ?? '127.0.0.1', port: l.port ?? 0 }, () => {
        server.removeListener('error', reject);
        resolve();
      });
    });
    const a = server.address();
    const port = typeof a === 'object' && a !== null ? a.port : 0;
    this.http = server;
    this.wss = wss;
    this.listenUrl = `${l.tls ? 'wss' : 'ws'}://${l.host ?? '127.0.0.1'}:${port}${path}`;
    this.log.info({ url: this.listenUrl }, 'distribution listening');
  }

  private accept(c: Carrier): void {
    const host = this.host;
    if (host === undefined) return c.abort();
    this.carriers.add(c);
    const hs = this.handshake('acceptor', host);
    driveHandshake(c, hs, { timeoutMs: this.o.handshakeTimeoutMs ?? 7000 }).then(
      ({ result: r, handover }) => {
        this.carriers.delete(c);
        const s = this.session(c, r.peer, r.flags, r.hidden ?? false);
        host.attach(s);
        s.start(r.tail, handover);
      },
      (err: unknown) => {
        this.carriers.delete(c);
        this.handshakeFailed(err, c.remote, hs.peer, 'accept');
      },
    );
  }

  private handshake(role: 'acceptor' | 'initiator', host: TransportHost, peer?: Atom): ErlHandshake {
    const common = { self: host.name, creation: host.creation, cookie: this.cookieFor, hidden: this.o.hidden ?? false, lengthBytes: 2 } as const;
    return role === 'acceptor' ? new ErlHandshake({ ...common, role, arbiter: host.arbiter }) : new ErlHandshake({ ...common, role, peer: peer as Atom });
  }

  async connect(peer: Atom, signal?: AbortSignal): Promise<Session> {
    const host = this.host;
    if (host === undefined) throw new CarrierError('NOT_STARTED', 'start the node before connecting');
    const url = this.o.urlFor?.(peer);
    if (url === undefined) throw new ResolveError('NO_ADDRESS', `no WebSocket URL is known for ${peer.name}`);
    const setupMs = this.o.handshakeTimeoutMs ?? 7000;
    const timeout = AbortSignal.timeout(setupMs);
    const c = await dialWs(url, this.o.client, signal ? AbortSignal.any([signal, timeout]) : timeout).catch((err: unknown) => {
      if (timeout.aborted) throw new HandshakeError('TIMEOUT', `connecting to ${peer.name} (${url}) did not finish within ${setupMs} ms`);
      throw err;
    });
    const hs = this.handshake('initiator', host, peer);
    try {
      const { result: r, handover } = await driveHandshake(c, hs, { timeoutMs: setupMs, signal, waitOnNok: true });
      const s = this.session(c, r.peer, r.flags, r.hidden ?? false);
      setImmediate(() => s.start(r.tail, handover));
      return s;
    } catch (err) {
      this.handshakeFailed(err, c.remote, peer, 'connect');
      throw err;
    }
  }

  private session(c: Carrier, peer: Atom, flags: bigint, hidden: boolean): ErlSession {
    return new ErlSession(c, (this.host as TransportHost).router, {
      peer,
      flags,
      hidden,
      carrierName: 'ws',
      log: this.log.child({ peer: peer.name }),
      netTicktime: this.o.netTicktime,
      maxMessage: this.o.maxMessage,
    });
  }

  private handshakeFailed(err: unknown, remote: string, peer: Atom | undefined, dir: string): void {
    if (err instanceof HandshakeError && err.code === 'NOK') return;
    this.log.warn({ remote, peer: peer?.name, direction: dir, code: (err as { code?: string }).code, err: (err as Error).message }, 'handshake failed');
  }

  /** WebSocket connections open now (accepted and dialed, handshaking or up). */
  openConnections(): number {
    return this.wss?.clients.size ?? 0;
  }

  async stop(): Promise<void> {
    for (const c of this.carriers) c.abort();
    this.carriers.clear();
    for (const ws of this.wss?.clients ?? []) ws.terminate();
    await new Promise<void>((r) => (this.wss ? this.wss.close(() => r()) : r()));
    await new Promise<void>((r) => (this.http ? this.http.close(() => r()) : r()));
  }
}

/** Open a WebSocket to `url` and wrap it once open. */
export function dialWs(url: string, opts: ClientOptions | undefined, signal?: AbortSignal): Promise<WsCarrier> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, SUBPROTOCOL, { perMessageDeflate: false, ...opts });
    const onAbort = (): void => {
      ws.terminate();
      reject(new CarrierError('ABORTED', `connecting to ${url} was cancelled`));
    };
    if (signal?.aborted) return onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    ws.once('open', () => {
      signal?.removeEventListener('abort', onAbort);
      ws.removeAllListeners('error');
      ws.on('error', () => undefined);
      resolve(new WsCarrier(ws as unknown as WebSocketLike, url));
    });
    ws.once('error', (err) => {
      signal?.removeEventListener('abort', onAbort);
      reject(new CarrierError('CONNECT_FAILED', `cannot connect to ${url}: ${err.message}`, { cause: err }));
    });
  });
}

/** The Erlang distribution over WebSocket: `new Node({ transports: [wsDist({ cookie, listen: {} })] })`. */
export function wsDist(o: WsDistOptions): WsDistTransport {
  return new WsDistTransport(o);
}
