/**
 * `npm run bench:observer`: what the observer costs. Two Courier nodes in this process, over the
 * Erlang distribution on 127.0.0.1 with a private embedded EPMD; one-way small messages (with one
 * ack at the end) a→b. Runs alternate between "observer off" and "observer on" (observe() on both
 * nodes, a page's WebSocket connected to each sampling every 500 ms, /metrics scraped every
 * second), and the medians are compared. Target: < 5% fewer messages per second with it on.
 * Not a test. `--quick` for a short run.
 */
import { Node, TIMEOUT } from '@courier/core';
import { EpmdServer, ErlDistTransport } from '@courier/transport-tcp';
import { Tuple, atom, type Term } from '@courier/term';
import { observe, type Observer } from '@courier/observer';
import { WebSocket } from 'ws';
import { median as med } from '../median.js';
import { runInfo } from '../run-info.js';

const quick = process.argv.includes('--quick');
const N = quick ? 1_000_000 : 3_000_000;
const ROUNDS = quick ? 3 : 7;
const SMALL: Term = new Tuple([atom('msg'), 42]);
const DONE = atom('done');

const quiet = {
  trace() {},
  debug() {},
  info() {},
  warn() {},
  error() {},
  child() {
    return quiet;
  },
};

async function main(): Promise<void> {
  const epmd = new EpmdServer(quiet);
  const epmdPort = await epmd.listen(0, '127.0.0.1');
  const mk = async (name: string): Promise<Node> => {
    const t = new ErlDistTransport({ cookie: 'bench', hidden: false, epmd: { host: '127.0.0.1', port: epmdPort, embedded: false }, listen: { host: '127.0.0.1' } });
    return new Node({ name, transports: [t] }).start();
  };
  const a = await mk('bench_obs_a@localhost');
  const b = await mk('bench_obs_b@localhost');
  // b's sink counts messages and answers `done` to the sender of the last one.
  b.spawn(
    async (self) => {
      for (;;) {
        const first = (await self.receive()) as Tuple;
        const from = first.elements[1];
        let n = 1;
        const total = first.elements[2] as number;
        while (n < total) {
          while (n < total && self.tryReceive() !== TIMEOUT) n++;
          if (n < total) {
            await self.receive();
            n++;
          }
        }
        self.send(from as never, DONE);
      }
    },
    { name: atom('sink') },
  );
  if (!(await a.connect(b.name))) throw new Error('the nodes did not connect');

  /** One run: messages per second of wall time, and CPU microseconds (this process) per message. */
  const run = async (): Promise<{ rate: number; cpuUs: number }> => {
    return new Promise((resolve) => {
      a.spawn(async (self) => {
        const dest = { name: 'sink', node: b.name };
        const t0 = performance.now();
        const c0 = process.cpuUsage();
        self.send(dest, new Tuple([atom('start'), self.pid, N]));
        for (let i = 1; i < N; i++) {
          self.send(dest, SMALL);
          // Let the carrier drain every so often, as a real producer would.
          if ((i & 4095) === 0) await new Promise((r) => setImmediate(r));
        }
        await self.receive(DONE);
        const c = process.cpuUsage(c0);
        resolve({ rate: N / ((performance.now() - t0) / 1000), cpuUs: (c.user + c.system) / N });
      });
    });
  };

  const withObserver = async <T>(f: () => Promise<T>): Promise<T> => {
    const obs: Observer[] = [await observe(a, { intervalMs: 500, rttIntervalMs: 2000 }), await observe(b, { intervalMs: 500, rttIntervalMs: 2000 })];
    const pages = obs.map((o) => new WebSocket(`${o.url.replace('http', 'ws')}ws`));
    let samples = 0;
    for (const p of pages) p.on('message', () => samples++);
    await Promise.all(pages.map((p) => new Promise((r) => p.once('open', r))));
    const before = samples;
    const scrape = setInterval(() => void Promise.all(obs.map((o) => fetch(`${o.url}metrics`).then((r) => r.text()))), 1000);
    try {
      return await f();
    } finally {
      clearInterval(scrape);
      for (const p of pages) p.terminate();
      for (const o of obs) await o.close();
      if (samples - before < 2) console.log('warning: fewer than 2 samples reached the pages during the run');
    }
  };

  await run(); // warm-up
  const off: Array<{ rate: number; cpuUs: number }> = [];
  const on: Array<{ rate: number; cpuUs: number }> = [];
  // Alternate which goes first, so drift in the machine's load falls on both alike.
  for (let r = 0; r < ROUNDS; r++) {
    if (r % 2 === 0) {
      off.push(await run());
      on.push(await withObserver(run));
    } else {
      on.push(await withObserver(run));
      off.push(await run());
    }
  }
  const rOff = med(off.map((x) => x.rate));
  const rOn = med(on.map((x) => x.rate));
  const cOff = med(off.map((x) => x.cpuUs));
  const cOn = med(on.map((x) => x.cpuUs));
  const fmt = (x: number) => `${Math.round(x).toLocaleString('en-US')} msg/s`;
  console.log(
    runInfo({
      courier: 'both Courier nodes in this process, one event loop',
      statistic: `the median of ${ROUNDS} runs with the observer off and ${ROUNDS} with it on, alternating, after a warm-up run`,
    }),
  );
  console.log(`small messages a→b (both nodes in this process), ${N.toLocaleString('en-US')} per run, ${ROUNDS} runs each, medians:`);
  console.log(`                 wall rate          CPU per message   runs (msg/s)`);
  console.log(`  observer off : ${fmt(rOff).padEnd(18)} ${cOff.toFixed(3)} µs          ${off.map((x) => Math.round(x.rate)).join(', ')}`);
  console.log(`  observer on  : ${fmt(rOn).padEnd(18)} ${cOn.toFixed(3)} µs          ${on.map((x) => Math.round(x.rate)).join(', ')}`);
  console.log(`  observer cost: ${((1 - rOn / rOff) * 100).toFixed(1)}% of wall throughput, ${((cOn / cOff - 1) * 100).toFixed(1)}% more CPU per message (target < 5%)`);
  console.log('  (wall rates swing with the other load on a shared machine; CPU per message is the steadier figure)');
  await a.stop();
  await b.stop();
  await epmd.close();
}

void main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
