import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { readFile } from 'node:fs/promises';
import { atom, existingAtom } from '@courier/term';
import { UsageError, guarded, type Node } from '@courier/core';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
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
const STATIC: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/observer.js': { file: 'observer.js', type: 'text/javascript; charset=utf-8' },
};

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
      res.writeHead(405).end();
      return;
    }
    if (path === '/metrics') {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }).end(renderMetrics(sampler, opts.logTap));
      return;
    }
    const s = STATIC[path];
    if (s === undefined) {
      res.writeHead(404).end('not found\n');
      return;
    }
    readFile(new URL(s.file, PUBLIC)).then(
      (body) => res.writeHead(200, { 'content-type': s.type, 'cache-control': 'no-store' }).end(body),
      () => res.writeHead(500).end(),
    );
  };

  const server: Server = createServer(onRequest);
  const wss = new WebSocketServer({ server, path: '/ws', maxPayload: 4096 });
  const send = (ws: WebSocket, msg: unknown): void => {
    if (ws.readyState === ws.OPEN && ws.bufferedAmount < 1 << 20) ws.send(JSON.stringify(msg));
  };
  wss.on('connection', (ws) => {
    send(ws, { type: 'hello', node: node.name.name, readOnly });
    send(ws, { type: 'sample', ...sampler.sample() });
    // Under the shared guard: a message the page should not have sent closes that page's socket only.
    ws.on(
      'message',
      guarded(
        'an observer message',
        (data: RawData) => {
          if (readOnly) return;
          const m = JSON.parse(rawText(data)) as { op?: string; name?: string };
          if (m.op === 'kill' && typeof m.name === 'string') {
            // A registered name is an atom already: a page never makes new atoms.
            const name = existingAtom(m.name);
            const pid = name === undefined ? undefined : node.whereis(name);
            if (pid !== undefined) node.exitSignal(undefined, pid, atom('kill'));
          }
        },
        (fault) => {
          node.log.warn({ code: fault.code, err: fault.message }, 'observer: bad message from a page, socket closed');
          ws.close(1008, 'bad message');
        },
      ),
    );
  });
  const timer = setInterval(() => {
    if (wss.clients.size === 0) {
      sampler.checkRestarts();
      return;
    }
    const snap = { type: 'sample', ...sampler.sample() };
    for (const ws of wss.clients) send(ws, snap);
  }, opts.intervalMs ?? 1000);
  timer.unref();

  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(new UsageError('OBSERVER_LISTEN', `observer cannot listen on ${host}:${opts.port ?? 0}: ${err.message}`, { cause: err })));
    server.listen({ host, port: opts.port ?? 0 }, () => resolve());
  });
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
      for (const ws of wss.clients) ws.terminate();
      await new Promise<void>((r) => wss.close(() => r()));
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** A WebSocket message as UTF-8 text, whatever the shape `ws` delivers it in. */
function rawText(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return (Buffer.isBuffer(data) ? data : Buffer.from(data)).toString('utf8');
}
