import { createServer, type Server } from 'node:http';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Node } from '@courier/core';
import { atom } from '@courier/term';
import { tcpDist } from '@courier/transport-tcp';
import { aemp } from '@courier/transport-aemp';
import { captureLog, findChromium, freePort, launchChromium, randomCookie, requirePeer, uniqueName, type ErlNode } from '@courier/testkit';
import { signPageToken, startGateway, tokenAuthorizer, wsDist, type Gateway, type WsDistTransport } from '@courier/transport-ws';
import { erlNode, erlPeer, startEpmd, type Epmd } from '../../../interop/erlang/harness.js';
import { startEchoNode, type EchoNodeProcess } from '../../../interop/hostile/echo-node-process.js';
import { bundleBrowserEntry } from './browser-bundle.js';

const chromiumPath = findChromium();
const chromium = requirePeer('chromium', chromiumPath !== null, 'no /usr/bin/chromium (Debian package chromium) and no CHROMIUM_PATH');

/** An Erlang echo process: `{From, Msg}` → `From ! {reply, Msg}`. `rex` runs as in every erl. */
const ECHO = 'F = fun Loop() -> receive {From, M} -> From ! {reply, M}, Loop() end end, register(echo, spawn(F)), io:format("UP~n").';
const SECRET = 'browser-pages-secret-of-32-bytes-or-more';

type C = typeof import('../src/browser/index.js');

/**
 * Pages are untrusted (docs/ws.md): a real chromium, a gateway (tcp + ws with pages + aemp), a
 * real `erl` (with its `rex`) and the echo node in another process on the AEMP carrier (standing
 * for a Perl node: its node port runs kil/snd/spawn requests). A page holds a token, never the
 * cookie; its grant lists `{echo, erl}`, and — to show they are refused whatever the grant —
 * `{rex, erl}` and the AEMP node port.
 */
describe('browser pages on a gateway: token, grants, and what no grant opens', () => {
  const cookie = randomCookie();
  const aempSecret = randomCookie();
  const marker = join(tmpdir(), `${uniqueName('courier-page-rce')}`);
  const log = captureLog();
  let epmd: Epmd | undefined;
  let erl: ErlNode | undefined;
  let echoNode: EchoNodeProcess | undefined;
  let gw: Node | undefined;
  let gateway: Gateway | undefined;
  let ws: WsDistTransport | undefined;
  const servers: Server[] = [];
  const pageUrls: string[] = [];
  let bundleDir: string | undefined;
  let browser: Awaited<ReturnType<typeof launchChromium>> | undefined;
  const aempId = uniqueName('aemp-echo');

  beforeAll(async () => {
    if (!erlPeer.available || chromiumPath === null) return;
    epmd = await startEpmd();
    erl = await erlNode(epmd, cookie, { name: uniqueName('erl_pages'), eval: ECHO });
    const [echoPort, gwAempPort] = [await freePort(), await freePort()];
    echoNode = await startEchoNode(['--carrier', 'aemp', '--aemp-nodeid', aempId, '--aemp-bind', `127.0.0.1:${echoPort}`, '--aemp-secret', aempSecret], {});
    const b = await bundleBrowserEntry();
    bundleDir = b.dir;
    // Two page origins: the first is listed on the gateway, the second is not.
    for (let i = 0; i < 2; i++) {
      const page = `<!doctype html><meta charset="utf-8"><title>page ${i}</title><script src="/courier.js"></script>`;
      const http = createServer((req, res) => {
        if (req.url === '/courier.js') res.writeHead(200, { 'content-type': 'text/javascript' }).end(readFileSync(b.file));
        else res.writeHead(200, { 'content-type': 'text/html' }).end(page);
      });
      await new Promise<void>((r) => http.listen(0, '127.0.0.1', () => r()));
      const a = http.address();
      servers.push(http);
      pageUrls.push(`http://127.0.0.1:${typeof a === 'object' && a !== null ? a.port : 0}`);
    }
    ws = wsDist({ cookie, listen: { host: '127.0.0.1' }, pages: { authorize: tokenAuthorizer(SECRET), origins: [pageUrls[0] as string] } });
    gw = new Node({
      name: `${uniqueName('gw')}@127.0.0.1`,
      log: log.logger,
      transports: [
        tcpDist({ cookie, hidden: false, epmd: { port: epmd.port, embedded: false } }),
        ws,
        aemp({ secret: aempSecret, binds: [`127.0.0.1:${gwAempPort}`], peers: { [aempId]: [`127.0.0.1:${echoPort}`] }, extended: false }),
      ],
      transportFor: (p, ts) => (p.name.startsWith('page_') ? ts[1] : p.name === aempId ? ts[2] : ts[0]),
    });
    await gw.start();
    gateway = startGateway(gw, { ws });
    browser = await launchChromium(chromiumPath);
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    for (const s of servers) await new Promise<void>((r) => s.close(() => r()));
    gateway?.stop();
    await gw?.stop();
    await echoNode?.stop();
    await erl?.stop();
    await epmd?.stop();
    if (bundleDir) rmSync(bundleDir, { recursive: true, force: true });
    rmSync(marker, { force: true });
  });

  /** Open a page of origin `i` and evaluate `body(arg)` in it (with the browser build as `Courier`). */
  async function inPage<A, R>(i: number, arg: A, body: (arg: A) => Promise<R>): Promise<R> {
    const page = await browser!.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    try {
      await page.goto(`${pageUrls[i]}/`);
      const r = await page.evaluate(body as (a: unknown) => Promise<R>, arg as unknown);
      expect(errors).toEqual([]);
      return r;
    } finally {
      await page.close();
    }
  }

  const grants = () => ({
    names: [
      { name: 'echo', node: erl!.node as string },
      { name: 'rex', node: erl!.node as string },
    ],
    ports: [`${aempId}#echo`, `${aempId}#`],
  });

  it('a page with a token reaches its granted name (erl) and port (AEMP); rex with os:cmd, the AEMP node port and an ungranted name are refused on the page and logged', async (ctx) => {
    erlPeer.require(ctx);
    chromium.require(ctx);
    // The gateway's own proxy for {rex, erl} (one the cluster side could ask for): a page that forges its pid gets nowhere.
    const rexProxy = gateway!.proxyFor({ name: atom('rex'), node: atom(erl!.node as string) });
    const token = signPageToken(SECRET, { sub: 'alice', grants: grants(), ttlS: 120 });
    const got = await inPage(
      0,
      { url: ws!.url as string, token, erlName: erl!.node as string, aempId, marker, rex: { id: rexProxy.id, serial: rexProxy.serial, creation: rexProxy.creation } },
      async ({ url, token, erlName, aempId, marker, rex }) => {
        const C = (globalThis as unknown as { Courier: C }).Courier;
        const j = await C.joinGateway({ url, token });
        const gw = j.gateway;
        const txt = (x: unknown): string =>
          x instanceof C.Tuple
            ? `{${x.elements.map(txt).join(',')}}`
            : Array.isArray(x)
              ? `[${x.map(txt).join(',')}]`
              : x instanceof C.Atom
                ? x.name
                : x instanceof C.Pid
                  ? 'PID'
                  : String(x);
        return new Promise<Record<string, string>>((resolve) =>
          j.node.spawn(async (self) => {
            const ask = async (target: unknown): Promise<unknown> => {
              self.send({ name: 'gateway', node: gw }, new C.Tuple([C.atom('proxy'), self.pid, target as never]));
              const r = await self.receive(undefined, 5000);
              return r === C.TIMEOUT ? 'timeout' : (r as InstanceType<typeof C.Tuple>).elements[2];
            };
            const next = async (): Promise<string> => {
              const r = await self.receive(undefined, 3000);
              return r === C.TIMEOUT ? 'timeout' : txt(r);
            };
            const out: Record<string, string> = { node: j.node.name.name, identity: j.identity };
            // Granted: {echo, erl}.
            const echo = await ask(new C.Tuple([C.atom('echo'), C.atom(erlName)]));
            self.send(echo as never, new C.Tuple([self.pid, C.atom('hello')]));
            out['echo'] = await next();
            // Not granted: {other, erl}.
            out['other'] = txt(await ask(new C.Tuple([C.atom('other'), C.atom(erlName)])));
            // rex, in the grant: refused anyway. Had it been given, this would run os:cmd on erl.
            const rexP = await ask(new C.Tuple([C.atom('rex'), C.atom(erlName)]));
            out['rex'] = txt(rexP);
            const touch = new C.Tuple([C.atom('call'), C.atom('os'), C.atom('cmd'), [`touch ${marker}`], self.pid]);
            if (rexP instanceof C.Pid) self.send(rexP, new C.Tuple([self.pid, touch]));
            // The gateway's proxy for rex, forged by its numbers: refused at the gateway.
            self.send(new C.Pid(gw, rex.id, rex.serial, rex.creation), new C.Tuple([self.pid, touch]));
            out['forged'] = await next();
            // AEMP: the granted port answers; the node port (in the grant too) is refused. Had it
            // been given, `kil1 echo` would end the echo port.
            const enc = new TextEncoder();
            const nodePort = await ask(enc.encode(`${aempId}#`));
            out['nodePort'] = txt(nodePort);
            if (nodePort instanceof C.Pid) self.send(nodePort, ['kil1', 'echo']);
            await new Promise((r) => setTimeout(r, 300));
            const port = await ask(enc.encode(`${aempId}#echo`));
            self.send(port as never, [self.pid, 'hi']);
            out['port'] = await next();
            resolve(out);
          }),
        );
      },
    );
    expect(got).toMatchObject({
      identity: 'alice',
      echo: '{reply,hello}',
      other: '{error,not_granted}',
      rex: '{error,not_granted}',
      forged: '{gateway_error,send,PID,not_granted}',
      nodePort: '{error,not_granted}',
      port: '[hi]',
    });
    expect(got['node']).toMatch(/^page_alice_/);
    // erl ran nothing.
    await new Promise((r) => setTimeout(r, 500));
    expect(existsSync(marker)).toBe(false);
    const refused = log.find('warn', 'page proxy request refused').map((l) => `${String(l.fields['identity'])} ${String(l.fields['target'])}`);
    expect(refused).toEqual([`alice {other,${erl!.node}}`, `alice {rex,${erl!.node}}`, `alice ${aempId}#`]);
    expect(log.find('warn', 'page operation refused').filter((l) => l.fields['identity'] === 'alice' && l.fields['op'] === 'send')).toHaveLength(1);
  });

  it('a page without a token, with an expired or a forged one (wrong secret, alg none) is not let in; one from an unlisted origin cannot connect', async (ctx) => {
    erlPeer.require(ctx);
    chromium.require(ctx);
    const g = grants();
    const now = Math.floor(Date.now() / 1000);
    const b64 = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');
    const tokens = {
      none: '',
      expired: signPageToken(SECRET, { sub: 'alice', grants: g, ttlS: -10 }),
      wrongSecret: signPageToken('some-other-secret-that-is-32-bytes-long', { sub: 'alice', grants: g }),
      algNone: `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ sub: 'alice', grants: g, exp: now + 60 })}.`,
    };
    const tryJoin = async ({ url, tokens }: { url: string; tokens: Record<string, string> }) => {
      const C = (globalThis as unknown as { Courier: C }).Courier;
      const out: Record<string, string> = {};
      for (const [k, token] of Object.entries(tokens)) {
        out[k] = await C.joinGateway({ url, token, handshakeTimeoutMs: 5000 }).then(
          () => 'JOINED',
          (e: { name: string; code: string }) => `${e.name}:${e.code}`,
        );
      }
      return out;
    };
    const listed = await inPage(0, { url: ws!.url as string, tokens }, tryJoin);
    expect(listed).toEqual({ none: 'PageAuthError:NO_TOKEN', expired: 'PageAuthError:TOKEN_EXPIRED', wrongSecret: 'PageAuthError:BAD_TOKEN', algNone: 'PageAuthError:BAD_TOKEN' });
    const valid = signPageToken(SECRET, { sub: 'alice', grants: g });
    const unlisted = await inPage(1, { url: ws!.url as string, tokens: { valid } }, tryJoin);
    expect(unlisted).toEqual({ valid: 'CarrierError:CONNECT_FAILED' });
    expect(log.find('warn', 'WebSocket upgrade refused').map((l) => l.fields['origin'])).toEqual([pageUrls[1]]);
    expect(log.find('warn', 'page refused').map((l) => l.fields['code'])).toEqual(['NO_TOKEN', 'TOKEN_EXPIRED', 'BAD_TOKEN', 'BAD_TOKEN']);
  });
});
