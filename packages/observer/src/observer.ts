import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { readFile } from 'node:fs/promises';
import type { Socket } from 'node:net';
import { UsageError, type Logger, type Node } from '@courier/core';
import { OBSERVER_HEADERS_TIMEOUT_MS, OBSERVER_MAX_CONNECTIONS } from './limits.js';
import { PageChannel } from './page-channel.js';
import { Sampler } from './sampler.js';
import { RttProbe } from './rtt.js';
import { renderMetrics } from './metrics.js';
import type { LogTap } from './log-tap.js';
import { ObserverAccess, checkAccessOptions, type Refusal } from './access.js';

/**
 * Options of {@link observe}: where to listen, read-only or not, the sampling intervals, a log tap, and
 * access (token, host names, origins).
 */
export interface ObserveOptions {
  /** Interface to listen on. Default loopback: the page shows process names and peers. Anything else needs `token`. */
  readonly host?: string;
  /** Default 0: an ephemeral port (see `Observer.port`). */
  readonly port?: number;
  /** Default true: the page only watches. `false` lets it send `kill` exit signals to processes. */
  readonly readOnly?: boolean;
  /** Sampling period, ms (default 1000). */
  readonly intervalMs?: number;
  /** RTT probe period, ms (default 5000); 0 turns the probe off. */
  readonly rttIntervalMs?: number;
  /** The tap the node's logger was built with, for handshake failures in /metrics. */
  readonly logTap?: LogTap;
  /**
   * The access token (at least 16 printable characters): required to listen beyond loopback, and
   * when set, asked of every request (`Authorization: Bearer`, or the cookie `/?token=…` sets).
   */
  readonly token?: string;
  /** Default false: /metrics is plain for Prometheus; true asks it for the token too. */
  readonly metricsToken?: boolean;
  /** More names the observer answers to (the Host header), besides the address it is bound to. */
  readonly hostnames?: readonly string[];
  /** More origins whose pages may open /ws (e.g. `https://ops.example.com` behind a TLS proxy). */
  readonly origins?: readonly string[];
}

/** A running observer: its address, and `close`. */
export interface Observer {
  readonly url: string;
  readonly port: number;
  /** Stops sampling and probing, closes the pages' connections and the HTTP server. */
  close(): Promise<void>;
}

const PUBLIC = new URL('../public/', import.meta.url);
/** The page's files by the path a client asks for (a Map: data keyed by a peer's input). */
const STATIC = new Map<string, { file: string; type: string }>([
  ['/', { file: 'index.html', type: 'text/html; charset=utf-8' }],
  ['/observer.js', { file: 'observer.js', type: 'text/javascript; charset=utf-8' }],
]);

/** Headers on every answer: the page is never framed by another site, and its address never leaks as a Referer. */
const HARDENING = {
  'x-frame-options': 'DENY',
  'content-security-policy': "frame-ancestors 'none'",
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
} as const;

/**
 * Check the options `observe` would refuse, before anything starts (UsageError: `OBSERVER_TOKEN_REQUIRED`
 * for a listener beyond loopback without a token, `OBSERVER_OPTIONS` for a malformed token, hostname or origin).
 */
export function checkObserveOptions(opts: ObserveOptions): void {
  checkAccessOptions(accessOptions(opts));
}

const accessOptions = (opts: ObserveOptions) => ({
  host: opts.host ?? '127.0.0.1',
  token: opts.token,
  metricsToken: opts.metricsToken,
  hostnames: opts.hostnames,
  origins: opts.origins,
});

/**
 * Serve a live view of `node` over HTTP and a WebSocket on one listener: the page at `/`, samples
 * pushed over `/ws` every `intervalMs` (only while a page is open), Prometheus text at `/metrics`.
 * Every request must name this listener (Host) and come from no page or the observer's own
 * (Origin); with a token, it must carry it (access.ts).
 */
export async function observe(node: Node, opts: ObserveOptions = {}): Promise<Observer> {
  const host = opts.host ?? '127.0.0.1';
  const readOnly = opts.readOnly ?? true;
  const access = new ObserverAccess(accessOptions(opts));
  const rttEvery = opts.rttIntervalMs ?? 5000;
  const rtt = rttEvery > 0 ? new RttProbe(node, rttEvery) : undefined;
  rtt?.start();
  const sampler = new Sampler(node, rtt);
  const log = node.log.child({ component: 'observer' });

  const refuse = (req: IncomingMessage, res: ServerResponse, r: Refusal): void => {
    log.warn(ObserverAccess.fields(req, r), 'observer: request refused');
    const auth = r.status === 401 ? { 'www-authenticate': 'Bearer realm="courier observer"' } : {};
    res.writeHead(r.status, { ...HARDENING, ...auth, 'content-type': 'text/plain; charset=utf-8', connection: 'close' }).end(`${r.message}\n`);
  };

  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    const [path, query] = (req.url ?? '/').split('?') as [string, string | undefined];
    const stranger = access.addressed(req);
    if (stranger !== undefined) return refuse(req, res, stranger);
    if (req.method !== 'GET') {
      // The observer reads no request bodies: close rather than read on.
      res.writeHead(405, { ...HARDENING, allow: 'GET', connection: 'close' }).end();
      return;
    }
    if (path === '/metrics') {
      const denied = access.authorized(req, 'metrics');
      if (denied !== undefined) return refuse(req, res, denied);
      res.writeHead(200, { ...HARDENING, 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }).end(renderMetrics(sampler, opts.logTap));
      return;
    }
    const given = path === '/' && query !== undefined ? new URLSearchParams(query).get('token') : null;
    if (given !== null && access.hasToken) {
      // The token in the address once: a cookie instead, and the address without it.
      const cookie = access.cookieFor(given);
      if (cookie === undefined) return refuse(req, res, { status: 401, code: 'BAD_TOKEN', message: 'wrong observer token' });
      res.writeHead(303, { ...HARDENING, 'set-cookie': cookie, location: '/', 'cache-control': 'no-store' }).end();
      return;
    }
    const denied = access.authorized(req, 'page');
    if (denied !== undefined) return refuse(req, res, denied);
    const s = STATIC.get(path);
    if (s === undefined) {
      res.writeHead(404, HARDENING).end('not found\n');
      return;
    }
    readFile(new URL(s.file, PUBLIC)).then(
      (body) => res.writeHead(200, { ...HARDENING, 'content-type': s.type, 'cache-control': 'no-store' }).end(body),
      () => res.writeHead(500).end(),
    );
  };

  const server: Server = createServer(
    {
      headersTimeout: OBSERVER_HEADERS_TIMEOUT_MS,
      requestTimeout: OBSERVER_HEADERS_TIMEOUT_MS,
      // How often Node checks those deadlines (default 30 s): a slow client is closed within a second of its deadline.
      connectionsCheckingInterval: 1000,
    },
    onRequest,
  );
  limitConnections(server, log);
  const pages = new PageChannel(
    server,
    node,
    log,
    readOnly,
    (req) => access.addressed(req) ?? access.authorized(req, 'page'),
    () => [
      { type: 'hello', node: node.name.name, readOnly },
      { type: 'sample', ...sampler.sample() },
    ],
  );
  const timer = setInterval(() => {
    if (pages.size === 0) {
      sampler.checkRestarts();
      return;
    }
    pages.broadcast({ type: 'sample', ...sampler.sample() });
  }, opts.intervalMs ?? 1000);
  timer.unref();

  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err) => reject(new UsageError('OBSERVER_LISTEN', `observer cannot listen on ${host}:${opts.port ?? 0}: ${err.message}`, { cause: err })));
      server.listen({ host, port: opts.port ?? 0 }, () => resolve());
    });
  } catch (err) {
    clearInterval(timer);
    rtt?.stop();
    sampler.close();
    await pages.close();
    throw err;
  }
  // From now on a listener error (EMFILE on accept, …) is logged; unheard, it would end the process.
  server.removeAllListeners('error');
  server.on('error', (err) => log.warn({ err: err.message }, 'observer: listener error'));
  const a = server.address();
  const port = typeof a === 'object' && a !== null ? a.port : (opts.port ?? 0);
  access.listening(port, typeof a === 'object' && a !== null ? a.address : host);
  // Behind a wildcard bind, the URL to open on this machine is loopback's.
  const shown = host === '0.0.0.0' || host === '' ? '127.0.0.1' : host === '::' ? '::1' : host;
  const url = `http://${shown.includes(':') ? `[${shown}]` : shown}:${port}/`;
  log.info({ url, readOnly, token: access.hasToken, metricsToken: opts.metricsToken === true }, 'observer listening');
  return {
    url,
    port,
    async close() {
      clearInterval(timer);
      rtt?.stop();
      sampler.close();
      await pages.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/**
 * At most OBSERVER_MAX_CONNECTIONS HTTP connections (pages, once upgraded, are counted by the
 * page channel): past it the oldest is dropped, so silent connections cannot pile up, and a
 * scrape or a page load, which takes milliseconds, still gets in.
 */
function limitConnections(server: Server, log: Logger): void {
  const open = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    open.add(socket);
    socket.once('close', () => open.delete(socket));
    if (open.size <= OBSERVER_MAX_CONNECTIONS) return;
    const oldest = open.values().next().value as Socket;
    open.delete(oldest);
    log.warn(
      { remote: `${oldest.remoteAddress}:${oldest.remotePort}`, code: 'CONNECTION_LIMIT' },
      `observer: more than ${OBSERVER_MAX_CONNECTIONS} connections, the oldest is dropped`,
    );
    oldest.destroy();
  });
  server.on('upgrade', (_req: IncomingMessage, socket: Socket) => open.delete(socket));
}
