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

export interface ObserveOptions {
  /** Interface to listen on. Default loopback: the page shows process names and peers. */
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
}

export interface Observer {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

const PUBLIC = new URL('../public/', import.meta.url);
/** The page's files by the path a client asks for (a Map: data keyed by a peer's input). */
const STATIC = new Map<string, { file: string; type: string }>([
  ['/', { file: 'index.html', type: 'text/html; charset=utf-8' }],
  ['/observer.js', { file: 'observer.js', type: 'text/javascript; charset=utf-8' }],
]);

/**
 * Serve a live view of `node` over HTTP and a WebSocket on one listener: the page at `/`, samples
 * pushed over `/ws` every `intervalMs` (only while a page is open), Prometheus text at `/metrics`.
 */
export async function observe(node: Node, opts: ObserveOptions = {}): Promise<Observer> {
  const host = opts.host ?? '127.0.0.1';
  const readOnly = opts.readOnly ?? true;
  const rttEvery = opts.rttIntervalMs ?? 5000;
  const rtt = rttEvery > 0 ? new RttProbe(node, rttEvery) : undefined;
  rtt?.start();
  const sampler = new Sampler(node, rtt);
  const log = node.log.child({ component: 'observer' });

  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    const path = (req.url ?? '/').split('?')[0] as string;
    if (req.method !== 'GET') {
      // The observer reads no request bodies: close rather than read on.
      res.writeHead(405, { allow: 'GET', connection: 'close' }).end();
      return;
    }
    if (path === '/metrics') {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }).end(renderMetrics(sampler, opts.logTap));
      return;
    }
    const s = STATIC.get(path);
    if (s === undefined) {
      res.writeHead(404).end('not found\n');
      return;
    }
    readFile(new URL(s.file, PUBLIC)).then(
      (body) => res.writeHead(200, { 'content-type': s.type, 'cache-control': 'no-store' }).end(body),
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
  const pages = new PageChannel(server, node, log, readOnly, () => [
    { type: 'hello', node: node.name.name, readOnly },
    { type: 'sample', ...sampler.sample() },
  ]);
  const timer = setInterval(() => {
    if (pages.size === 0) {
      sampler.checkRestarts();
      return;
    }
    pages.broadcast({ type: 'sample', ...sampler.sample() });
  }, opts.intervalMs ?? 1000);
  timer.unref();

  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(new UsageError('OBSERVER_LISTEN', `observer cannot listen on ${host}:${opts.port ?? 0}: ${err.message}`, { cause: err })));
    server.listen({ host, port: opts.port ?? 0 }, () => resolve());
  });
  // From now on a listener error (EMFILE on accept, …) is logged; unheard, it would end the process.
  server.removeAllListeners('error');
  server.on('error', (err) => log.warn({ err: err.message }, 'observer: listener error'));
  const a = server.address();
  const port = typeof a === 'object' && a !== null ? a.port : (opts.port ?? 0);
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}/`;
  log.info({ url, readOnly }, 'observer listening');
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
