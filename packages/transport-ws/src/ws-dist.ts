import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type ServerOptions as HttpsServerOptions } from 'node:https';
import type { Socket } from 'node:net';
import type { Atom } from '@courier/term';
import {
  CarrierError,
  DEFAULT_SETUP_TIME_MS,
  HIDDEN_BY_DEFAULT,
  guarded,
  logFault,
  silentLogger,
  type Dialer,
  type Logger,
  type Protocol,
  type Resolver,
  type Transport,
  type TransportHost,
  UsageError,
} from '@courier/core';
import { erlProtocol, installErlangServices } from '@courier/erl-dist';
import { WebSocket, WebSocketServer, type ClientOptions } from 'ws';
import { WsCarrier, type WebSocketLike } from './ws-carrier.js';
import { DEFAULT_PATH, MAX_WS_BUFFERED_CHUNKS, MAX_WS_FRAGMENTS, MAX_WS_MESSAGE, PAGE_SUBPROTOCOL, SUBPROTOCOL } from './subprotocol.js';
import { UpgradeGate } from './upgrade-gate.js';
import { PageDoor, type PageDirectory } from './page-door.js';
import type { PagesOptions } from './page-types.js';
import { urlResolver } from './url-resolver.js';

/**
 * The Courier distribution over WebSocket binary messages: the Erlang handshake (cookie
 * challenge, 2-byte lengths) and session of @courier/erl-dist, with the WebSocket as the
 * byte layer, as TLS is for inet_tls_dist. A node listening with `listen` is a gateway other
 * nodes dial at `ws://host:port/courier` (`wss://` with `listen.tls`), with the cookie; with
 * `pages`, browser pages join it too, with a credential of their own and never the cookie
 * (docs/ws.md). A browser (an upgrade with `Origin`) is let in only as a page from a listed origin.
 */
export interface WsDistOptions {
  /** The cookie for every peer, or a function for per-peer cookies. */
  readonly cookie: string | ((peer: Atom) => string);
  /** Not listed by the peers' nodes(). Default: HIDDEN_BY_DEFAULT.ws (false). */
  readonly hidden?: boolean;
  /** Accept WebSocket connections: on a new listener (host default 127.0.0.1, port default 0), over TLS with `tls`. */
  readonly listen?: { readonly host?: string; readonly port?: number; readonly tls?: HttpsServerOptions; readonly path?: string };
  /** Where `peer` accepts: its `ws://` or `wss://` URL. */
  readonly urlFor?: (peer: Atom) => string | undefined;
  /** Options for dialing (`ws`'s ClientOptions: `ca`, `rejectUnauthorized`, …). */
  readonly client?: ClientOptions;
  /** net_setuptime: resolve, connect and handshake must finish within this many ms. Default DEFAULT_SETUP_TIME_MS. */
  readonly handshakeTimeoutMs?: number;
  readonly netTicktime?: number;
  /** Largest distribution message (a session frame; the session's default). WebSocket messages are MAX_WS_MESSAGE (64 KiB) whatever this is. */
  readonly maxMessage?: number;
  /** Output bytes queued per connection past which it is busy (dist_buf_busy_limit). Default 1 MiB. */
  readonly busyLimit?: number;
  /** Let browser pages in (listening only): their credential, origins and limits (docs/ws.md). */
  readonly pages?: PagesOptions;
  readonly log?: Logger;
}

/**
 * The HTTP upgrade request's head (request line and headers) a listener reads: 16 KiB, Node's
 * default, fixed here so `--max-http-header-size` does not move it. A browser's upgrade request
 * with the page's cookies is 0.5–4 KiB. Past it: 431 and the connection is closed.
 */
export const MAX_UPGRADE_HEADER_BYTES = 16 * 1024;

/** `ws`'s limits on what one peer's messages may make this end hold (both ends of the subprotocol). */
const WS_LIMITS = { maxPayload: MAX_WS_MESSAGE, maxFragments: MAX_WS_FRAGMENTS, maxBufferedChunks: MAX_WS_BUFFERED_CHUNKS, perMessageDeflate: false } as const;

export class WsDistTransport implements Transport {
  readonly name = 'ws';
  private http: HttpServer | undefined;
  private wss: WebSocketServer | undefined;
  private gate: UpgradeGate | undefined;
  private protocol: Protocol | undefined;
  private log: Logger;
  private listenUrl: string | undefined;
  private readonly resolver: Resolver<string>;
  private readonly door: PageDoor | undefined;

  constructor(private readonly opts: WsDistOptions) {
    this.log = opts.log ?? silentLogger;
    this.resolver = urlResolver(opts.urlFor);
    this.door = opts.pages ? new PageDoor(opts.pages) : undefined;
  }

  /** The pages this listener let in (with `pages`), for `startGateway`. */
  get pages(): PageDirectory | undefined {
    return this.door;
  }

  /** The URL this node accepts on (after start, when listening). */
  get url(): string | undefined {
    return this.listenUrl;
  }

  private get setupTimeMs(): number {
    return this.opts.handshakeTimeoutMs ?? DEFAULT_SETUP_TIME_MS;
  }

  async start(host: TransportHost): Promise<void> {
    this.log = (this.opts.log ?? host.log).child({ carrier: 'ws' });
    const cookie = this.opts.cookie;
    const protocol = erlProtocol({
      self: host.name,
      creation: host.creation,
      cookie: typeof cookie === 'function' ? cookie : () => cookie,
      hidden: this.opts.hidden ?? HIDDEN_BY_DEFAULT.ws,
      lengthBytes: 2,
      carrierName: 'ws',
      netTicktime: this.opts.netTicktime,
      maxMessage: this.opts.maxMessage,
      busyLimit: this.opts.busyLimit,
    });
    this.protocol = protocol;
    installErlangServices(host.services, { visible: !(this.opts.hidden ?? HIDDEN_BY_DEFAULT.ws) });
    const l = this.opts.listen;
    if (l === undefined) return;
    const path = l.path ?? DEFAULT_PATH;
    const door = this.door;
    const host0 = l.host ?? '127.0.0.1';
    if (door !== undefined && !l.tls && !isLoopback(host0) && this.opts.pages?.tlsTerminatedByProxy !== true) {
      throw new UsageError(
        'PAGES_NEED_TLS',
        `pages send their token to ${host0}, beyond loopback, over plain ws://: give listen.tls (wss://), or set pages.tlsTerminatedByProxy when a TLS proxy in front terminates wss://`,
      );
    }
    door?.started({
      host,
      log: this.log.child({ pages: true }),
      hidden: this.opts.hidden ?? HIDDEN_BY_DEFAULT.ws,
      netTicktime: this.opts.netTicktime,
      busyLimit: this.opts.busyLimit,
    });
    const http = { maxHeaderSize: MAX_UPGRADE_HEADER_BYTES };
    const server = l.tls ? createHttpsServer({ handshakeTimeout: this.setupTimeMs, ...l.tls, ...http }) : createHttpServer(http);
    const gate = new UpgradeGate({ setupTimeMs: this.setupTimeMs, log: this.log });
    // Every TCP connection is in the gate from its accept (the TLS one too, before its handshake).
    server.on('connection', (socket: Socket) => gate.admit(socket));
    server.on('request', refuseRequest);
    server.on('clientError', refuseMalformed);
    const wss = new WebSocketServer({
      server,
      path,
      ...WS_LIMITS,
      // A browser (it sends Origin) comes in as a page, from a listed origin, or not at all (403).
      verifyClient: (info: { origin?: string; req: IncomingMessage }, done: (ok: boolean, code?: number, message?: string) => void) => {
        const origin = info.origin === '' ? undefined : info.origin;
        if (origin === undefined) return done(true);
        const offered = String(info.req.headers['sec-websocket-protocol'] ?? '')
          .split(',')
          .map((p) => p.trim());
        if (door !== undefined && door.originAllowed(origin) && offered.includes(PAGE_SUBPROTOCOL)) return done(true);
        this.log.warn(
          { origin, remote: info.req.socket.remoteAddress, pages: door !== undefined },
          door === undefined
            ? 'WebSocket upgrade refused: a browser, and this listener takes no pages'
            : 'WebSocket upgrade refused: a browser from an origin not listed, or not as a page',
        );
        done(false, 403, 'Forbidden');
      },
      handleProtocols: (offered: Set<string>) =>
        door !== undefined && offered.has(PAGE_SUBPROTOCOL) ? PAGE_SUBPROTOCOL : offered.has(SUBPROTOCOL) ? SUBPROTOCOL : ([...offered][0] ?? false),
    });
    // `ws` re-emits the HTTP server's errors (EADDRINUSE at listen, …); unheard they would end the
    // process. One at listen rejects `start` below.
    wss.on('error', (err) => this.log.debug({ err: err.message }, 'WebSocket listener error'));
    wss.on(
      'connection',
      guarded(
        'a WebSocket upgrade',
        (ws: WebSocket, req: IncomingMessage) => {
          ws.on('error', () => undefined);
          const left = gate.upgraded(req.socket);
          if (left === undefined) return void ws.terminate();
          if (door !== undefined && ws.protocol === PAGE_SUBPROTOCOL) return door.admit(ws, req, left);
          const carrier = new WsCarrier(ws as unknown as WebSocketLike, `${req.socket.remoteAddress}:${req.socket.remotePort}`);
          host.accept(carrier, { protocol, setupTimeMs: left });
        },
        (fault) => logFault(this.log, fault, { carrier: 'ws' }),
      ),
    );
    this.gate = gate;
    const where = { host: host0, port: l.port ?? 0 };
    await new Promise<void>((resolve, reject) => {
      const failed = (err: Error): void => reject(new CarrierError('LISTEN_FAILED', `cannot listen for WebSockets on ${where.host}:${where.port}: ${err.message}`, { cause: err }));
      server.once('error', failed);
      server.listen(where, () => {
        server.removeListener('error', failed);
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

  dialer(_peer: Atom): Dialer<string> {
    const protocol = this.protocol;
    if (protocol === undefined) throw new CarrierError('NOT_STARTED', 'start the node before connecting');
    return {
      resolver: this.resolver,
      carrier: { dial: (url, _to, signal) => dialWs(url, this.opts.client, signal) },
      protocol,
      setupTimeMs: this.setupTimeMs,
    };
  }

  /** WebSocket connections open now (accepted and dialed, handshaking or up). */
  openConnections(): number {
    return this.wss?.clients.size ?? 0;
  }

  /** Connections accepted and not yet upgraded to a WebSocket. */
  upgradesPending(): number {
    return this.gate?.size ?? 0;
  }

  async stop(): Promise<void> {
    this.gate?.closeAll();
    for (const ws of this.wss?.clients ?? []) ws.terminate();
    await new Promise<void>((r) => (this.wss ? this.wss.close(() => r()) : r()));
    await new Promise<void>((r) => (this.http ? this.http.close(() => r()) : r()));
  }
}

/** 127.0.0.0/8, ::1, localhost: where a token in clear stays on the machine. */
function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/**
 * A plain HTTP request to the listener: 426 (use a WebSocket), and the connection is closed once
 * the answer is written, whatever the request still has to send.
 */
function refuseRequest(req: IncomingMessage, res: ServerResponse): void {
  res.writeHead(426, { connection: 'close', 'content-type': 'text/plain' });
  res.end('a Courier WebSocket gateway: connect with a WebSocket\n', () => req.socket.destroy());
}

/** How long a refused connection may keep sending before it is cut (lingering close). */
const LINGER_MS = 2000;
const refusedSockets = new WeakSet<object>();

/**
 * A request the HTTP parser refused (headers past MAX_UPGRADE_HEADER_BYTES: 431; anything else
 * malformed: 400). Node's own handler writes the answer and destroys the socket, and a destroy with
 * unread bytes is a reset that can reach the client before it has read the answer: here the answer
 * is followed by a FIN, what the client still sends is read and dropped, and the socket goes when
 * the client closes or after LINGER_MS (nginx's lingering close). The parser reports each further
 * chunk again: only the first report acts.
 */
function refuseMalformed(err: NodeJS.ErrnoException, socket: import('node:stream').Duplex): void {
  if (refusedSockets.has(socket)) return;
  refusedSockets.add(socket);
  const s = socket as Socket;
  if (!s.writable || s.bytesWritten > 0) return void s.destroy();
  const status = err.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : '400 Bad Request';
  s.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  s.on('data', () => undefined);
  s.once('end', () => s.destroy());
  const linger = setTimeout(() => s.destroy(), LINGER_MS).unref();
  s.once('close', () => clearTimeout(linger));
}

/** Open a WebSocket to `url` (with the subprotocol's message limits) and wrap it once open. */
export function dialWs(url: string, opts: ClientOptions | undefined, signal?: AbortSignal): Promise<WsCarrier> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, SUBPROTOCOL, { ...opts, ...WS_LIMITS });
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
