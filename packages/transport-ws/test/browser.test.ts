import { createServer, type Server } from 'node:http';
import { readFileSync, rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Node } from '@courier/core';
import { Tuple, atom, type Pid } from '@courier/term';
import { tcpDist } from '@courier/transport-tcp';
import { findChromium, launchChromium, randomCookie, requirePeer, uniqueName, type ErlNode } from '@courier/testkit';
import { signPageToken, startGateway, tokenAuthorizer, wsDist, type WsDistTransport } from '@courier/transport-ws';
import { erlNode, erlPeer, startEpmd, type Epmd } from '../../../interop/erlang/harness.js';
import { bundleBrowserEntry } from './browser-bundle.js';

const chromiumPath = findChromium();
const chromium = requirePeer('chromium', chromiumPath !== null, 'no /usr/bin/chromium (Debian package chromium) and no CHROMIUM_PATH');

/** An Erlang echo process: `{From, Msg}` → `From ! {reply, Msg}`. */
const ECHO = 'F = fun Loop() -> receive {From, M} -> From ! {reply, M}, Loop() end end, register(echo, spawn(F)), io:format("UP~n").';

describe('the browser build', () => {
  it('bundles core, term and the WebSocket carrier with no Node module and no Buffer', async () => {
    const b = await bundleBrowserEntry();
    try {
      expect(b.js).not.toMatch(/require\(["']node:|from ["']node:/);
      // The only mentions of Buffer are feature tests that fall back when it is missing.
      for (const line of b.js.split('\n').filter((l) => /\bBuffer\b/.test(l) && !/^\s*(\/\/|\*)/.test(l))) {
        expect(line).toMatch(/typeof Buffer|hasBuffer/);
      }
    } finally {
      rmSync(b.dir, { recursive: true, force: true });
    }
  });
});

describe('a Courier node in a web page, through a gateway, to erl', () => {
  const cookie = randomCookie();
  const pageSecret = 'browser-test-page-secret-of-32-bytes!!';
  /** A page token granting `names` ({Name, Node} as [name, node]). */
  const tokenFor = (names: Array<[string, string]>): string =>
    signPageToken(pageSecret, { sub: 'tester', grants: { names: names.map(([name, node]) => ({ name, node })), ports: [] } });
  let epmd: Epmd | undefined;
  let erl: ErlNode | undefined;
  let gw: Node | undefined;
  let ws: WsDistTransport | undefined;
  let http: Server | undefined;
  let pageUrl = '';
  let bundleDir: string | undefined;
  let browser: Awaited<ReturnType<typeof launchChromium>> | undefined;

  beforeAll(async () => {
    if (!erlPeer.available || chromiumPath === null) return;
    epmd = await startEpmd();
    erl = await erlNode(epmd, cookie, { name: uniqueName('erl_echo'), eval: ECHO });
    const b = await bundleBrowserEntry();
    bundleDir = b.dir;
    const page = `<!doctype html><meta charset="utf-8"><title>browser node</title><script src="/courier.js"></script>`;
    http = createServer((req, res) => {
      if (req.url === '/courier.js') res.writeHead(200, { 'content-type': 'text/javascript' }).end(readFileSync(b.file));
      else res.writeHead(200, { 'content-type': 'text/html' }).end(page);
    });
    await new Promise<void>((r) => http!.listen(0, '127.0.0.1', () => r()));
    const a = http.address();
    pageUrl = `http://127.0.0.1:${typeof a === 'object' && a !== null ? a.port : 0}/`;
    // Pages may send larger messages than the 1 MiB default here (the 1 MiB binary test below).
    ws = wsDist({ cookie, listen: { host: '127.0.0.1' }, pages: { authorize: tokenAuthorizer(pageSecret), origins: [pageUrl.slice(0, -1)], maxMessage: 2 * 1024 * 1024 } });
    gw = new Node({
      name: `${uniqueName('gw')}@127.0.0.1`,
      transports: [tcpDist({ cookie, hidden: false, epmd: { port: epmd.port, embedded: false } }), ws],
      transportFor: (peer, ts) => (peer.name.startsWith('page_') ? ts[1] : ts[0]),
    });
    await gw.start();
    startGateway(gw, { ws });
    browser = await launchChromium(chromiumPath);
  });

  afterAll(async () => {
    await browser?.close();
    await new Promise<void>((r) => (http ? http.close(() => r()) : r()));
    await gw?.stop();
    await erl?.stop();
    await epmd?.stop();
    if (bundleDir) rmSync(bundleDir, { recursive: true, force: true });
  });

  it('sends a message to an erl process (through its granted gateway proxy) and gets the reply', async (ctx) => {
    erlPeer.require(ctx);
    chromium.require(ctx);
    const page = await browser!.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(pageUrl);
    const got = await page.evaluate(
      async ({ gwUrl, erlName, token }) => {
        const C = (globalThis as unknown as { Courier: typeof import('../src/browser/index.js') }).Courier;
        const j = await C.joinGateway({ url: gwUrl, token });
        const node = j.node;
        return new Promise<{ node: string; reply: string; peers: string[] }>((resolve) => {
          node.spawn(async (self) => {
            self.send({ name: 'gateway', node: j.gateway }, new C.Tuple([C.atom('proxy'), self.pid, new C.Tuple([C.atom('echo'), C.atom(erlName)])]));
            const p = await self.receive(undefined, 5000);
            const echo = (p as InstanceType<typeof C.Tuple>).elements[2] as InstanceType<typeof C.Pid>;
            self.send(echo, new C.Tuple([self.pid, new C.Tuple([C.atom('hello'), 42])]));
            const r = await self.receive(undefined, 5000);
            const t = r as InstanceType<typeof C.Tuple>;
            const inner = t.elements?.[1] as InstanceType<typeof C.Tuple> | undefined;
            resolve({
              node: node.name.name,
              reply: r === C.TIMEOUT ? 'timeout' : `${(t.elements[0] as { name: string }).name}:${(inner?.elements[0] as { name: string }).name}:${String(inner?.elements[1])}`,
              peers: node.nodes('all').map((n) => n.name),
            });
          });
        });
      },
      { gwUrl: ws!.url as string, erlName: erl!.node as string, token: tokenFor([['echo', erl!.node as string]]) },
    );
    expect(errors).toEqual([]);
    expect(got).toMatchObject({ reply: 'reply:hello:42', peers: [gw!.name.name] });
    // The gateway sees the browser node on the ws carrier.
    expect(gw!.dist.session(gw!.nodes('all').find((n) => n.name === got.node)!)?.carrier).toBe('ws');
    await page.close();
  });

  it('a 1 MiB binary each way between a page and its gateway travels in WebSocket messages of at most 64 KiB', async (ctx) => {
    erlPeer.require(ctx);
    chromium.require(ctx);
    // The gateway sends back what it gets: {From, Bin} → From ! {back, Bin}.
    gw!.spawn(
      async (self) => {
        for (;;) {
          const [from, bin] = ((await self.receive()) as Tuple).elements as [Pid, Uint8Array];
          self.send(from, new Tuple([atom('back'), bin]));
        }
      },
      { name: atom('bulk') },
    );
    const page = await browser!.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(pageUrl);
    const got = await page.evaluate(
      async ({ gwUrl, gwName, token }) => {
        const C = (globalThis as unknown as { Courier: typeof import('../src/browser/index.js') }).Courier;
        // The page's own WebSocket, watched: the largest message each way.
        let maxSent = 0;
        let maxReceived = 0;
        const createWebSocket = (u: string, p: string): import('../src/ws-carrier.js').WebSocketLike => {
          const ws = new WebSocket(u, p);
          const send = ws.send.bind(ws);
          // The token and the welcome are text messages; the distribution's are binary.
          ws.send = (d: ArrayBufferView | ArrayBuffer | string) => {
            if (typeof d !== 'string') maxSent = Math.max(maxSent, d.byteLength);
            send(d);
          };
          ws.addEventListener(
            'message',
            (e: MessageEvent<ArrayBuffer | string>) => (maxReceived = typeof e.data === 'string' ? maxReceived : Math.max(maxReceived, e.data.byteLength)),
          );
          return ws as unknown as import('../src/ws-carrier.js').WebSocketLike;
        };
        const node = (await C.joinGateway({ url: gwUrl, token, createWebSocket })).node;
        const big = new Uint8Array(1024 * 1024);
        for (let i = 0; i < big.length; i++) big[i] = (i * 7) & 0xff;
        return new Promise<Record<string, number | boolean | string>>((resolve) =>
          node.spawn(async (self) => {
            self.send({ name: 'gateway', node: gwName }, new C.Tuple([C.atom('proxy'), self.pid, new C.Tuple([C.atom('bulk'), C.atom(gwName)])]));
            const bulk = ((await self.receive(undefined, 5000)) as InstanceType<typeof C.Tuple>).elements[2] as InstanceType<typeof C.Pid>;
            self.send(bulk, new C.Tuple([self.pid, big]));
            const r = await self.receive(undefined, 10_000);
            if (r === C.TIMEOUT) return resolve({ error: 'timeout' });
            const back = (r as InstanceType<typeof C.Tuple>).elements[1] as Uint8Array;
            resolve({ length: back.length, same: back.every((b, i) => b === big[i]), maxSent, maxReceived, limit: C.MAX_WS_MESSAGE });
          }),
        );
      },
      { gwUrl: ws!.url as string, gwName: gw!.name.name, token: tokenFor([['bulk', gw!.name.name]]) },
    );
    expect(errors).toEqual([]);
    expect(got).toMatchObject({ length: 1024 * 1024, same: true, limit: 64 * 1024 });
    expect(got['maxSent']).toBeLessThanOrEqual(64 * 1024);
    expect(got['maxReceived']).toBeLessThanOrEqual(64 * 1024);
    // Both ways used full-size messages: the megabyte was split, not refused.
    expect(got['maxSent']).toBeGreaterThan(60 * 1024);
    expect(got['maxReceived']).toBeGreaterThan(60 * 1024);
    await page.close();
  });
});
