import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Node, type Logger } from '@courier/core';
import { Tuple, atom, type Pid } from '@courier/term';
import { tcpDist } from '@courier/transport-tcp';
import { signPageToken, startGateway, tokenAuthorizer, wsDist } from '@courier/transport-ws';
import { bundleCourier } from './bundle.js';

export interface WebGatewayOptions {
  /** The demo login (the application's own user check stands here). */
  readonly user: string;
  readonly password: string;
  /** The cluster cookie: for cluster nodes (and `erl`) only; never sent to a page. */
  readonly cookie: string;
  /** Shared by the app server (signs) and the gateway (verifies) only; at least 32 bytes. */
  readonly tokenSecret: string;
  /** The gateway node's name. */
  readonly name: string;
  /** The app server's port (the page's origin) and the gateway's WebSocket port; 0 = any free one. */
  readonly port: number;
  readonly wsPort: number;
  /** Grant `{echo, erl}` on this Erlang node (reached over TCP with the cookie) instead of the gateway's own `echo`. */
  readonly erl?: string;
  readonly log: Logger;
}

export interface WebGateway {
  /** Open this in a browser: the page's origin, the only one the gateway lets pages in from. */
  readonly appUrl: string;
  readonly wsUrl: string;
  readonly granted: { readonly name: string; readonly node: string };
  stop(): Promise<void>;
}

/** Seconds a page token lives: the page's session ends then, and it logs in again. */
const TOKEN_TTL_S = 300;
const HOST = '127.0.0.1';
const publicFile = (f: string): string => readFileSync(new URL(`./public/${f}`, import.meta.url), 'utf8');

/**
 * The application's server and its gateway node, in one process for the example (docs/ws.md, "The
 * token flow"): the server checks a login and signs a short-lived page token granting one name;
 * the gateway lets pages in from the server's origin only, with that token, and holds them to it.
 */
export async function startWebGateway(o: WebGatewayOptions): Promise<WebGateway> {
  // The app server listens first: its origin is the one the gateway accepts pages from.
  const http = createServer();
  await new Promise<void>((r) => http.listen(o.port, HOST, r));
  const appUrl = `http://${HOST}:${(http.address() as AddressInfo).port}`;

  const ws = wsDist({ cookie: o.cookie, listen: { host: HOST, port: o.wsPort }, pages: { authorize: tokenAuthorizer(o.tokenSecret), origins: [appUrl] } });
  const gw = new Node({
    name: o.name,
    log: o.log,
    // With an erl to reach: Erlang distribution over TCP for the cluster, WebSocket for pages.
    transports: o.erl === undefined ? [ws] : [ws, tcpDist({ cookie: o.cookie })],
    transportFor: (peer, ts) => (peer.name.startsWith('page_') ? ts[0] : ts.at(-1)),
  });
  await gw.start();
  // The demo process a page may call: {From, Msg} → From ! {reply, Msg}.
  gw.spawn(
    async (self) => {
      for (;;) {
        const m = await self.receive();
        if (m instanceof Tuple && m.elements.length === 2) self.send(m.elements[0] as Pid, new Tuple([atom('reply'), m.elements[1]]));
      }
    },
    { name: atom('echo') },
  );
  const gateway = startGateway(gw, { ws });
  const granted = { name: 'echo', node: o.erl ?? gw.name.name };
  const wsUrl = ws.url as string;

  const assets = new Map<string, { type: string; body: string }>([
    ['/', { type: 'text/html; charset=utf-8', body: publicFile('index.html') }],
    ['/page.js', { type: 'text/javascript; charset=utf-8', body: publicFile('page.js') }],
    ['/courier.js', { type: 'text/javascript; charset=utf-8', body: await bundleCourier() }],
  ]);
  // Scripts from this origin only; WebSockets to the gateway only.
  const csp = `default-src 'self'; connect-src 'self' ${wsUrl}; frame-ancestors 'none'`;

  async function login(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const json = (status: number, body: unknown): void => void res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(body));
    // A browser posting from another site is not this app's page.
    if (req.headers.origin !== undefined && req.headers.origin !== appUrl) return json(403, { error: 'foreign origin' });
    let body: unknown;
    try {
      body = JSON.parse(await readBody(req, 4096));
    } catch {
      return json(400, { error: 'send {"user", "password"} as JSON' });
    }
    const { user, password } = (body ?? {}) as { user?: unknown; password?: unknown };
    if (typeof user !== 'string' || typeof password !== 'string' || !(sameText(user, o.user) && sameText(password, o.password))) {
      o.log.warn({ user: typeof user === 'string' ? user.slice(0, 64) : undefined }, 'login refused');
      return json(401, { error: 'wrong user or password' });
    }
    const token = signPageToken(o.tokenSecret, { sub: user, ttlS: TOKEN_TTL_S, grants: { names: [granted], ports: [] } });
    json(200, { token, url: wsUrl, granted });
  }

  http.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0] as string;
    if (req.method === 'POST' && path === '/login') return void login(req, res);
    const asset = req.method === 'GET' ? assets.get(path) : undefined;
    if (asset === undefined) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': asset.type, 'content-security-policy': csp, 'x-content-type-options': 'nosniff' }).end(asset.body);
  });

  return {
    appUrl: `${appUrl}/`,
    wsUrl,
    granted,
    async stop() {
      http.closeAllConnections();
      await new Promise<void>((r) => http.close(() => r()));
      gateway.stop();
      await gw.stop();
    },
  };
}

/** Equal texts, compared in constant time (of their digests, so lengths may differ). */
function sameText(a: string, b: string): boolean {
  const h = (s: string): Buffer => createHash('sha256').update(s).digest();
  return timingSafeEqual(h(a), h(b));
}

function readBody(req: IncomingMessage, max: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let n = 0;
    req.on('data', (c: Buffer) => {
      n += c.length;
      if (n > max) return req.destroy(new Error('body too large'));
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
