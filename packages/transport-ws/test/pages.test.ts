import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { CarrierError, Node, TIMEOUT, call, type Process } from '@courier/core';
import { Pid, Tuple, atom, formatErlang, type Term } from '@courier/term';
import { captureLog, inProcess, uniqueName, type CapturedLog } from '@courier/testkit';
import {
  PAGE_SUBPROTOCOL,
  PageAuthError,
  SUBPROTOCOL,
  signPageToken,
  startGateway,
  tokenAuthorizer,
  wsDist,
  type Gateway,
  type PageGrants,
  type WebSocketLike,
  type WsDistTransport,
} from '@courier/transport-ws';
import { joinGateway, type JoinedPage } from '../src/browser/browser-dist.js';

/**
 * Pages on a gateway, with `ws`'s WebSocket in Node standing for the browser's (it sends the
 * `Origin` a browser would): what a page is let in with, and what its session may then do. The
 * real-browser cases, with a real `erl` and an AEMP node in another process, are in
 * browser-pages.test.ts. A cluster node `cl…` dials the gateway with the cookie.
 */
const SECRET = 'pages-test-secret-of-thirty-two-bytes!';
const ORIGIN = 'http://app.example';
const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

interface Setup {
  gw: Node;
  cl: Node;
  t: WsDistTransport;
  gateway: Gateway;
  log: CapturedLog;
  /** Messages the cluster's `svc` got. */
  svcGot: Term[];
}

async function setup(o: { maxPerIdentity?: number } = {}): Promise<Setup> {
  const log = captureLog();
  const t = wsDist({ cookie: 'c', listen: { host: '127.0.0.1' }, pages: { authorize: tokenAuthorizer(SECRET), origins: [ORIGIN], ...o } });
  const gw = await new Node({ name: `${uniqueName('gw')}@127.0.0.1`, transports: [t], log: log.logger }).start();
  cleanup.push(() => gw.stop());
  const gateway = startGateway(gw, { ws: t });
  cleanup.push(() => gateway.stop());
  const cl = await new Node({ name: `${uniqueName('cl')}@127.0.0.1`, transports: [wsDist({ cookie: 'c', urlFor: () => t.url })] }).start();
  cleanup.push(() => cl.stop());
  expect(await cl.connect(gw.name)).toBe(true);
  const svcGot: Term[] = [];
  // {From, M} → From ! {reply, M}
  cl.spawn(
    async (self) => {
      for (;;) {
        const m = (await self.receive()) as Tuple;
        svcGot.push(m);
        self.send(m.elements[0] as Pid, new Tuple([atom('reply'), m.elements[1]]));
      }
    },
    { name: atom('svc') },
  );
  return { gw, cl, t, gateway, log, svcGot };
}

/** The browser's WebSocket, played by `ws` with an Origin header. */
const browserLike =
  (origin: string | undefined = ORIGIN) =>
  (u: string, p: string): WebSocketLike =>
    new WebSocket(u, p, origin === undefined ? {} : { origin }) as unknown as WebSocketLike;

async function join(s: Setup, token: string, origin?: string): Promise<JoinedPage> {
  const j = await joinGateway({ url: s.t.url as string, token, createWebSocket: browserLike(origin), handshakeTimeoutMs: 3000 });
  cleanup.push(() => j.node.stop());
  return j;
}

const token = (s: Setup, grants: PageGrants, ttlS = 60, sub = 'alice'): string => signPageToken(SECRET, { sub, grants, ttlS });
const grantSvc = (s: Setup): PageGrants => ({ names: [{ name: 'svc', node: s.cl.name.name }], ports: [] });

const next = async (self: Process, ms = 3000): Promise<Term> => {
  const m = await self.receive(undefined, ms);
  if (m === TIMEOUT) throw new Error('timed out');
  return m;
};

/** Run `body` in a fresh process of `node` that traps exits. */
function trapping<T>(node: Node, body: (self: Process) => Promise<T>): Promise<T> {
  return new Promise((resolve, reject) => node.spawn((self) => body(self).then(resolve, reject), { trapExit: true }));
}

async function refusedJoin(s: Setup, tok: string, origin?: string): Promise<string> {
  return join(s, tok, origin).then(
    () => 'JOINED',
    (e: unknown) => (e instanceof PageAuthError ? `PageAuthError:${e.code}` : e instanceof CarrierError ? `CarrierError:${e.code}` : String(e)),
  );
}

describe('a page on a gateway', () => {
  it('is named by the gateway, reaches its granted name, and is refused (not_granted, logged with its identity) any other', async () => {
    const s = await setup();
    const page = await join(s, token(s, { names: [...grantSvc(s).names, { name: 'rex', node: s.cl.name.name }, { name: 'net_kernel', node: s.gw.name.name }], ports: [] }));
    expect(page.node.name.name).toMatch(/^page_alice_[0-9a-f]{12}@127\.0\.0\.1$/);
    expect(page.gateway).toBe(s.gw.name);
    expect(page.identity).toBe('alice');
    const gwName = s.gw.name;
    const got = await inProcess(page.node, async (self) => {
      const ask = async (target: Term) => formatErlang(await call(self, new Tuple([atom('gateway'), gwName]), new Tuple([atom('proxy'), target])));
      const proxy = (await call(self, new Tuple([atom('gateway'), gwName]), new Tuple([atom('proxy'), new Tuple([atom('svc'), s.cl.name])]))) as Pid;
      self.send(proxy, new Tuple([self.pid, atom('hi')]));
      const reply = formatErlang(await next(self));
      return {
        reply,
        ungranted: await ask(new Tuple([atom('other'), s.cl.name])),
        rex: await ask(new Tuple([atom('rex'), s.cl.name])),
        netKernel: await ask(new Tuple([atom('net_kernel'), gwName])),
        pid: await ask(s.gateway.pid),
      };
    });
    expect(got.reply).toMatch(/^\{reply,hi\}$/);
    expect(got).toMatchObject({ ungranted: '{error,not_granted}', rex: '{error,not_granted}', netKernel: '{error,not_granted}', pid: '{error,not_granted}' });
    const lines = s.log.find('warn', 'page proxy request refused');
    expect(lines.map((l) => [l.fields['identity'], l.fields['target']])).toEqual([
      ['alice', `{other,${s.cl.name.name}}`],
      ['alice', `{rex,${s.cl.name.name}}`],
      ['alice', `{net_kernel,${gwName.name}}`],
      ['alice', s.gateway.pid.toString()],
    ]);
  });

  it('may address only its own proxies: a forged proxy pid, rex, the gateway process, spawn are refused and the page told', async () => {
    const s = await setup();
    // A proxy the cluster side holds for svc: a page that guesses its pid must not use it.
    const clusterProxy = s.gateway.proxyFor({ name: atom('svc'), node: s.cl.name });
    const page = await join(s, token(s, grantSvc(s)));
    const gwName = s.gw.name;
    const got = await trapping(page.node, async (self) => {
      const forged = new Pid(gwName, clusterProxy.id, clusterProxy.serial, clusterProxy.creation);
      self.send(forged, new Tuple([self.pid, atom('via_forged')]));
      const e1 = formatErlang(await next(self));
      self.send({ name: 'rex', node: gwName }, new Tuple([self.pid, new Tuple([atom('call'), atom('erlang'), atom('node'), [], self.pid])]));
      const e2 = formatErlang(await next(self));
      self.link(s.gateway.pid);
      const e3 = formatErlang(await next(self));
      const ref = self.monitor(s.gateway.pid);
      const e4 = formatErlang(await next(self));
      self.exit(s.gateway.pid, atom('kill'));
      const e5 = formatErlang(await next(self));
      const spawned = await self.spawnRemote(gwName, atom('erlang'), atom('node'), []).then(
        () => 'spawned',
        (e: unknown) => String((e as { reason?: unknown }).reason ?? e),
      );
      return { e1, e2, e3, e4, e5, ref: String(ref), spawned };
    });
    expect(got.e1).toBe(`{gateway_error,send,${formatErlang(clusterProxy)},not_granted}`);
    expect(got.e5).toBe(`{gateway_error,exit2,${formatErlang(s.gateway.pid)},not_granted}`);
    expect(got.e2).toBe('{gateway_error,reg_send,rex,not_granted}');
    expect(got.e3).toBe(`{'EXIT',${formatErlang(s.gateway.pid)},not_granted}`);
    expect(got.e4).toMatch(/^\{'DOWN',#Ref<.*>,process,.*,not_granted\}$/);
    expect(got.spawned).toMatch(/not_granted/);
    // Nothing reached svc, and the gateway process lives on.
    await new Promise((r) => setTimeout(r, 100));
    expect(s.svcGot).toEqual([]);
    expect(s.gw.isAlive(s.gateway.pid)).toBe(true);
    const ops = s.log.find('warn', 'page operation refused').map((l) => [l.fields['identity'], l.fields['op']]);
    expect(ops).toEqual(
      expect.arrayContaining([
        ['alice', 'send'],
        ['alice', 'reg_send'],
        ['alice', 'link'],
        ['alice', 'monitor_p'],
        ['alice', 'exit2'],
        ['alice', 'spawn_request'],
      ]),
    );
  });

  it('is refused without a token, with an expired or forged one, from an unlisted origin, as a node with the cookie, and past the per-identity cap', async () => {
    const s = await setup({ maxPerIdentity: 2 });
    const g = grantSvc(s);
    const now = Math.floor(Date.now() / 1000);
    const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const unsigned = `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ sub: 'mallory', grants: g, exp: now + 60 })}.`;
    expect(await refusedJoin(s, '')).toBe('PageAuthError:NO_TOKEN');
    expect(await refusedJoin(s, signPageToken(SECRET, { sub: 'alice', grants: g, ttlS: -5 }))).toBe('PageAuthError:TOKEN_EXPIRED');
    expect(await refusedJoin(s, signPageToken('not-the-gateway-secret-but-32-bytes-long', { sub: 'alice', grants: g }))).toBe('PageAuthError:BAD_TOKEN');
    expect(await refusedJoin(s, unsigned)).toBe('PageAuthError:BAD_TOKEN');
    expect(await refusedJoin(s, token(s, g), 'http://evil.example')).toBe('CarrierError:CONNECT_FAILED');
    expect(s.log.find('warn', 'page refused').map((l) => l.fields['code'])).toEqual(['NO_TOKEN', 'TOKEN_EXPIRED', 'BAD_TOKEN', 'BAD_TOKEN']);
    expect(s.log.find('warn', 'WebSocket upgrade refused')).toHaveLength(1);
    // A browser speaking the cookie subprotocol is refused at the upgrade, whatever its origin.
    const cookieMode = await new Promise<string>((resolve) => {
      const ws = new WebSocket(s.t.url as string, SUBPROTOCOL, { origin: ORIGIN });
      ws.on('open', () => resolve('open'));
      ws.on('unexpected-response', (_req, res) => resolve(String(res.statusCode)));
      ws.on('error', () => undefined);
    });
    expect(cookieMode).toBe('403');
    // Two connections of alice are let in, the third is not; bob still is.
    await join(s, token(s, g));
    await join(s, token(s, g));
    expect(await refusedJoin(s, token(s, g))).toBe('PageAuthError:TOO_MANY');
    expect(await refusedJoin(s, token(s, g, 60, 'bob'))).toBe('JOINED');
    expect(s.t.pages?.size).toBe(3);
  });

  it('a page without Origin (not a browser) joins with a token; its connection ends when the authorization does', async () => {
    const s = await setup();
    const page = await join(s, token(s, grantSvc(s), 2), undefined);
    const down = new Promise<number>((resolve) => page.node.events$.subscribe((e) => e.type === 'nodedown' && resolve(Date.now())));
    const t0 = Date.now();
    const at = await down;
    expect(at - t0).toBeLessThan(3500);
    expect(page.expiresAt - Date.now()).toBeLessThanOrEqual(0);
    expect(s.log.find('info', 'page authorization ended')).toHaveLength(1);
  });

  it('refuses to listen for pages beyond loopback over plain ws://', async () => {
    const t = wsDist({ cookie: 'c', listen: { host: '0.0.0.0' }, pages: { authorize: tokenAuthorizer(SECRET), origins: [ORIGIN] } });
    const node = new Node({ name: `${uniqueName('gw')}@127.0.0.1`, transports: [t] });
    cleanup.push(() => node.stop().catch(() => undefined));
    await expect(node.start()).rejects.toMatchObject({ code: 'PAGES_NEED_TLS' });
  });

  it('the page subprotocol on a listener without pages is not a way in', async () => {
    const t = wsDist({ cookie: 'c', listen: { host: '127.0.0.1' } });
    const node = await new Node({ name: `${uniqueName('gw')}@127.0.0.1`, transports: [t] }).start();
    cleanup.push(() => node.stop());
    const r = await joinGateway({ url: t.url as string, token: 'x', createWebSocket: browserLike(undefined), handshakeTimeoutMs: 2000 }).then(
      () => 'JOINED',
      (e: unknown) => (e as Error).name,
    );
    expect(r).not.toBe('JOINED');
    expect(PAGE_SUBPROTOCOL).not.toBe(SUBPROTOCOL);
  });
});
