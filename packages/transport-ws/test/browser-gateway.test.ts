import { createServer, type Server } from 'node:http';
import { readFileSync, rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Node, type Process } from '@courier/core';
import { atom, type Pid, type Term, type Tuple } from '@courier/term';
import { tcpDist } from '@courier/transport-tcp';
import { aemp } from '@courier/transport-aemp';
import { findChromium, launchChromium, randomCookie, requirePeer, uniqueName, type ErlNode } from '@courier/testkit';
import { signPageToken, startGateway, tokenAuthorizer, wsDist, type Gateway, type WsDistTransport } from '@courier/transport-ws';
import { erlNode, erlPeer, freePort, startEpmd, type Epmd } from '../../../interop/erlang/harness.js';
import { bundleBrowserEntry } from './browser-bundle.js';

const chromiumPath = findChromium();
const chromium = requirePeer('chromium', chromiumPath !== null, 'no /usr/bin/chromium (Debian package chromium) and no CHROMIUM_PATH');

/**
 * `victim` exits with `boom` when told `{_, die}`; `watcher`, given `{watch, P, To}`, monitors P
 * (from a new process), tells To `{monitoring, P, Self}` and then `{down, Reason}`.
 */
const ERL = [
  'V = fun() -> receive {_, die} -> exit(boom) end end,',
  'register(victim, spawn(V)),',
  "W = fun Loop() -> receive {watch, P, To} -> spawn(fun() -> R = monitor(process, P), To ! {monitoring, P, self()}, receive {'DOWN', R, process, _, Why} -> To ! {down, Why} end end), Loop() end end,",
  'register(watcher, spawn(W)),',
  'io:format("UP~n").',
].join(' ');

type C = typeof import('../src/browser/index.js');

/**
 * The page side. `inPage` starts a page node, connects it to the gateway and leaves this on
 * `globalThis.courierTest`; a test's body (a function playwright runs in the page, so it may use
 * nothing of this module but types) calls `run` to get a process of that node.
 */
interface PageEnv {
  /** Run `f` in a fresh process of the page node; a rejection answers `{ error }`. */
  run<T>(f: (p: PageProcess) => Promise<T>): Promise<T | { error: string }>;
}

interface PageProcess {
  readonly C: C;
  readonly self: Process;
  readonly gwName: string;
  /** A term as text: strings and binaries as they are, atoms by name. */
  readonly txt: (x: unknown) => string;
  /** Ask the gateway for the proxy of `target`. */
  readonly ask: (target: Term) => Promise<Pid>;
}

/**
 * A page node, a gateway (tcp + ws + aemp), a real `erl`, and a Courier AEMP node speaking the Perl
 * dialect (extended: false): links, monitors and messages cross the gateway through its proxies.
 */
describe('a page node links to and monitors Erlang and AEMP processes through its gateway', () => {
  const cookie = randomCookie();
  const secret = 'gateway-secret';
  const pageSecret = 'browser-gateway-page-secret-of-32-bytes';
  let epmd: Epmd | undefined;
  let erl: ErlNode | undefined;
  let gw: Node | undefined;
  let gateway: Gateway | undefined;
  let peer: Node | undefined;
  let peerId = '';
  let ws: WsDistTransport | undefined;
  let http: Server | undefined;
  let pageUrl = '';
  let bundleDir: string | undefined;
  let browser: Awaited<ReturnType<typeof launchChromium>> | undefined;

  beforeAll(async () => {
    if (!erlPeer.available || chromiumPath === null) return;
    epmd = await startEpmd();
    erl = await erlNode(epmd, cookie, { name: uniqueName('erl_gw'), eval: ERL });
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

    const [gwPort, peerPort] = [await freePort(), await freePort()];
    const gwName = `${uniqueName('gw')}@127.0.0.1`;
    peerId = uniqueName('aemp-peer');
    ws = wsDist({ cookie, listen: { host: '127.0.0.1' }, pages: { authorize: tokenAuthorizer(pageSecret), origins: [pageUrl.slice(0, -1)] } });
    const aempT = aemp({ secret, binds: [`127.0.0.1:${gwPort}`], peers: { [peerId]: [`127.0.0.1:${peerPort}`] }, extended: false });
    gw = new Node({
      name: gwName,
      transports: [tcpDist({ cookie, hidden: false, epmd: { port: epmd.port, embedded: false } }), ws, aempT],
      transportFor: (p, ts) => (p.name.startsWith('page_') ? ts[1] : p.name === peerId ? ts[2] : ts[0]),
    });
    await gw.start();
    gateway = startGateway(gw, { ws });
    peer = new Node({ name: peerId, transports: [aemp({ secret, binds: [`127.0.0.1:${peerPort}`], peers: { [gwName]: [`127.0.0.1:${gwPort}`] }, extended: false })] });
    await peer.start();
    // The AEMP side, as Perl ports: echo answers [ReplyPort, @args] with snd ReplyPort, "got", @args; worker dies with "boom".
    peer.spawn(
      async (self) => {
        for (;;) {
          const m = (await self.receive()) as Term[];
          self.send(m[0] as string, ['got', ...m.slice(1)]);
        }
      },
      { name: atom('echo') },
    );
    peer.spawn(
      async (self) => {
        await self.receive();
        self.exit('boom');
      },
      { name: atom('worker') },
    );
    browser = await launchChromium(chromiumPath);
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await new Promise<void>((r) => (http ? http.close(() => r()) : r()));
    gateway?.stop();
    await peer?.stop();
    await gw?.stop();
    await erl?.stop();
    await epmd?.stop();
    if (bundleDir) rmSync(bundleDir, { recursive: true, force: true });
  });

  /** Run `body` in a fresh page, once the page has joined the gateway with a token granting what the tests reach (see `PageEnv`). */
  async function inPage<R>(_web: string, arg: string, body: (arg: string) => Promise<R>): Promise<R> {
    const erlName = erl!.node as string;
    const token = signPageToken(pageSecret, {
      sub: 'tester',
      grants: {
        names: [
          { name: 'victim', node: erlName },
          { name: 'watcher', node: erlName },
        ],
        ports: [`${peerId}#echo`, `${peerId}#worker`],
      },
    });
    const page = await browser!.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(pageUrl);
    try {
      const up = await page.evaluate(
        async ({ gwUrl, token }) => {
          const C = (globalThis as unknown as { Courier: C }).Courier;
          const j = await C.joinGateway({ url: gwUrl, token }).catch(() => undefined);
          if (j === undefined) return false;
          const node = j.node;
          const gwName = j.gateway.name;
          const txt = (x: unknown): string => (typeof x === 'string' ? x : x instanceof Uint8Array ? new TextDecoder().decode(x) : x instanceof C.Atom ? x.name : String(x));
          const env: PageEnv = {
            run: <T>(f: (p: PageProcess) => Promise<T>) =>
              new Promise<T | { error: string }>((resolve) =>
                node.spawn(async (self) => {
                  // Ask the gateway for the proxy of `target` (a term built by the caller).
                  const ask = async (target: Term): Promise<Pid> => {
                    self.send({ name: 'gateway', node: gwName }, new C.Tuple([C.atom('proxy'), self.pid, target]));
                    const r = await self.receive(undefined, 5000);
                    if (r === C.TIMEOUT) throw new Error('no proxy');
                    return (r as Tuple).elements[2] as Pid;
                  };
                  resolve(await f({ C, self, gwName, txt, ask }).catch((e: unknown) => ({ error: String(e) })));
                }),
              ),
          };
          (globalThis as unknown as { courierTest: PageEnv }).courierTest = env;
          return true;
        },
        { gwUrl: ws!.url as string, token },
      );
      const r = up ? await page.evaluate(body, arg) : { error: 'no connection' };
      expect(errors).toEqual([]);
      return r as R;
    } finally {
      await page.close();
    }
  }

  it('a page process links to and monitors an erl process (via its proxy) and sees EXIT and DOWN when it dies', async (ctx) => {
    erlPeer.require(ctx);
    chromium.require(ctx);
    const got = await inPage(uniqueName('web'), erl!.node as string, (arg) =>
      (globalThis as unknown as { courierTest: PageEnv }).courierTest.run(async ({ C, self, ask, txt }): Promise<Record<string, string>> => {
        const P = await ask(new C.Tuple([C.atom('victim'), C.atom(arg)]));
        const parent = self.pid;
        // A linked process that traps exits, and a monitor from this one.
        self.spawn(
          async (b) => {
            b.link(P);
            b.send(parent, 'linked');
            const m = await b.receive(undefined, 5000);
            if (m !== C.TIMEOUT) b.send(parent, new C.Tuple([C.atom('linked_got'), m]));
          },
          { trapExit: true },
        );
        await self.receive((m) => m === 'linked', 5000);
        const ref = self.monitor(P);
        self.send(P, new C.Tuple([self.pid, C.atom('die')]));
        const out: Record<string, string> = { proxyNode: P.node.name };
        for (let i = 0; i < 2; i++) {
          const m = await self.receive(undefined, 5000);
          if (m === C.TIMEOUT) return { ...out, timeout: String(i) };
          const t = (m as Tuple).elements;
          if (txt(t[0]) === 'DOWN') {
            out['down'] = txt(t[4]);
            out['downRef'] = String(String(t[1]) === String(ref));
          } else {
            const e = (t[1] as Tuple).elements;
            const from = e[1] as Pid;
            out['exit'] = txt(e[0]) + ':' + txt(e[2]);
            out['exitFrom'] = String(from.id === P.id && from.node === P.node);
          }
        }
        return out;
      }),
    );
    expect(got).toEqual({ proxyNode: gw!.name.name, down: 'boom', downRef: 'true', exit: 'EXIT:boom', exitFrom: 'true' });
  });

  it('an erl process monitors a page process (through its gateway proxy) and gets DOWN when it exits', async (ctx) => {
    erlPeer.require(ctx);
    chromium.require(ctx);
    const got = await inPage(uniqueName('web'), erl!.node as string, (arg) =>
      (globalThis as unknown as { courierTest: PageEnv }).courierTest.run(async ({ C, self, ask, txt }): Promise<Record<string, string>> => {
        const worker = self.spawn(async (w) => {
          await w.receive();
          w.exit(C.atom('bye'));
        });
        const watcher = await ask(new C.Tuple([C.atom('watcher'), C.atom(arg)]));
        // The gateway hands erl proxies for worker and self: erl cannot reach this page.
        self.send(watcher, new C.Tuple([C.atom('watch'), worker, self.pid]));
        const m = await self.receive(undefined, 5000);
        if (m === C.TIMEOUT) return { error: 'no monitoring' };
        const t = (m as Tuple).elements;
        const proxy = t[1] as Pid;
        self.send(worker, 'stop');
        const d = await self.receive(undefined, 5000);
        if (d === C.TIMEOUT) return { error: 'no down' };
        const de = (d as Tuple).elements;
        return { monitoring: txt(t[0]), proxyNode: proxy.node.name, erlPidNode: (t[2] as Pid).node.name, down: txt(de[0]) + ':' + txt(de[1]) };
      }),
    );
    // The erl pid in the answer reached the page as a gateway proxy too.
    expect(got).toEqual({ monitoring: 'monitoring', proxyNode: gw!.name.name, erlPidNode: gw!.name.name, down: 'down:bye' });
  });

  it('a page process sends to an AEMP port through the gateway, gets the answer, and monitors a port', async (ctx) => {
    erlPeer.require(ctx);
    chromium.require(ctx);
    const got = await inPage(uniqueName('web'), peerId, (arg) =>
      (globalThis as unknown as { courierTest: PageEnv }).courierTest.run(async ({ C, self, ask, txt }): Promise<Record<string, string>> => {
        const enc = new TextEncoder();
        const echo = await ask(enc.encode(arg + '#echo'));
        self.send(echo, [self.pid, 'hello']);
        const r = await self.receive(undefined, 5000);
        if (r === C.TIMEOUT) return { error: 'no answer' };
        const worker = await ask(enc.encode(arg + '#worker'));
        const ref = self.monitor(worker);
        self.send(worker, ['stop']);
        const d = await self.receive(undefined, 5000);
        if (d === C.TIMEOUT) return { error: 'no down' };
        const de = (d as Tuple).elements;
        return { answer: Array.from(r as Term[], txt).join(','), down: txt(de[0]) + ':' + txt(de[4]), downRef: String(String(de[1]) === String(ref)) };
      }),
    );
    expect(got).toEqual({ answer: 'got,hello', down: 'DOWN:boom', downRef: 'true' });
  });
});
