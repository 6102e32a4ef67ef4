/**
 * Takes docs/observer.png by hand: `node --conditions=source --import tsx packages/observer/scripts/screenshot.ts`.
 * A mixed cluster on 127.0.0.1 with a private OTP epmd: gateway `gw` (Courier, observed; tcp and
 * ws carriers), a real `erl` node running an echo process, a Courier `worker` over tcp, a Courier
 * `web1` over the WebSocket carrier. Traffic flows for a few seconds and a supervised process
 * crashes and restarts; then headless Debian chromium (playwright-core) shoots the page.
 */
import { fileURLToPath } from 'node:url';
import { Node, TIMEOUT, startSupervisor, type Process } from '@courier/core';
import { Tuple, atom, type Term } from '@courier/term';
import { tcpDist } from '@courier/transport-tcp';
import { wsDist } from '@courier/transport-ws';
import { findChromium, launchChromium, randomCookie } from '@courier/testkit';
import { observe } from '@courier/observer';
import { erlNode, startEpmd } from '../../../interop/erlang/harness.js';

const ECHO = 'F = fun Loop() -> receive {From, M} -> From ! {reply, M}, Loop() end end, register(echo, spawn(F)), io:format("UP~n").';

async function main(): Promise<void> {
  const chromium = findChromium();
  if (chromium === null) throw new Error('no chromium: apt-get install chromium');
  const cookie = randomCookie();
  const epmd = await startEpmd();
  const erl = await erlNode(epmd, cookie, { name: 'erl_shop', eval: ECHO });
  const ws = wsDist({ cookie, listen: { host: '127.0.0.1' } });
  const gw = new Node({
    name: 'gw@127.0.0.1',
    transports: [tcpDist({ cookie, hidden: false, epmd: { port: epmd.port, embedded: false } }), ws],
    transportFor: (peer, ts) => (peer.name.startsWith('web') ? ts[1] : ts[0]),
  });
  await gw.start();
  const worker = await new Node({ name: 'worker@127.0.0.1', transports: [tcpDist({ cookie, hidden: false, epmd: { port: epmd.port, embedded: false } })] }).start();
  const web = await new Node({ name: 'web1@127.0.0.1', transports: [wsDist({ cookie, urlFor: () => ws.url })] }).start();
  const obs = await observe(gw, { port: 0, intervalMs: 500, rttIntervalMs: 1000 });

  await gw.connect(erl.node as string);
  await worker.connect(gw.name);
  await web.connect(gw.name);

  // Named services on the gateway.
  const sink = (self: Process) =>
    (async () => {
      for (;;) await self.receive();
    })();
  gw.spawn(sink, { name: atom('orders') });
  gw.spawn(sink, { name: atom('sessions') });
  gw.spawn(
    async (self) => {
      self.link(gw.whereis(atom('orders')) as never);
      for (;;) await self.receive();
    },
    { name: atom('audit') },
  );
  let stop = false;
  await startSupervisor(gw, { strategy: 'one_for_one', intensity: 10, period: 60 }, [
    {
      id: 'payments',
      start: (sup) =>
        sup.spawnLink(
          async (self) => {
            await self.receive(undefined, 4000);
            throw new Error('card gateway timeout');
          },
          { name: atom('payments') },
        ),
    },
  ]);

  // Traffic: gateway ↔ erl echo, worker → gateway, web1 → gateway.
  const pump = (node: Node, to: Term | { name: string; node: string }, n: number, everyMs: number) =>
    node.spawn(async (self) => {
      while (!stop) {
        for (let i = 0; i < n; i++) self.send(to as never, new Tuple([self.pid, new Tuple([atom('order'), i])]));
        await new Promise((r) => setTimeout(r, everyMs));
        while (self.tryReceive() !== TIMEOUT) {
          // Drop the echoes.
        }
      }
    });
  pump(gw, { name: 'echo', node: erl.node as string }, 400, 50);
  pump(worker, { name: 'orders', node: 'gw@127.0.0.1' }, 1200, 50);
  pump(web, { name: 'sessions', node: 'gw@127.0.0.1' }, 300, 50);
  // A burst from the worker later, for the chart.
  setTimeout(() => pump(worker, { name: 'orders', node: 'gw@127.0.0.1' }, 3000, 50), 4000);

  const browser = await launchChromium(chromium);
  const page = await browser.newPage();
  await page.setViewportSize({ width: 1400, height: 900 });
  await page.goto(obs.url);
  await new Promise((r) => setTimeout(r, 9000));
  const out = fileURLToPath(new URL('../../../docs/observer.png', import.meta.url));
  await page.screenshot({ path: out, fullPage: true });
  console.log(`wrote ${out}`);
  stop = true;
  await browser.close();
  await obs.close();
  for (const n of [web, worker, gw]) await n.stop();
  await erl.stop();
  await epmd.stop();
}

void main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
