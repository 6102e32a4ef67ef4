/**
 * `npm run bench:js-cost`: what one distribution round trip costs Courier itself, with no socket
 * and no event-loop turn: two nodes in this process over the in-memory carrier (the same Erlang
 * distribution session, handshake and codec as over TCP), its deliveries on process.nextTick, the
 * driver and the echo of bench:dist (bench/dist/ops.ts). Not a comparison with Erlang — a probe:
 * bench:dist's round-trip rows are the kernel's and Node's wake-ups plus this, twice per round trip
 * split over two processes (docs/performance.md, "What a round trip costs"). Profile it with
 * `node --cpu-prof --import tsx bench/dist/js-cost.ts`.
 */
import { Node } from '@courier/core';
import { MemoryNetwork, memoryDist } from '@courier/transport-memory';
import { atom } from '@courier/term';
import { inProcess } from '@courier/testkit';
import { runInfo } from '../run-info.js';
import { rtt, serve } from './ops.js';

const N = 200_000;
const PASSES = 5;

const network = new MemoryNetwork({ schedule: (task) => process.nextTick(task) });
const cookie = 'js-cost';
const echo = new Node({ name: 'echo@127.0.0.1', transports: [memoryDist({ network, cookie })] });
const driver = new Node({ name: 'driver@127.0.0.1', transports: [memoryDist({ network, cookie })] });
await echo.start();
await driver.start();
serve((body, name) => echo.spawn(body, { name }));

const rows: Array<{ us: number; cpu: number }> = [];
await inProcess(driver, async (self) => {
  const peer = atom('echo@127.0.0.1');
  await self.node.connect(peer);
  // The first pass warms up (V8 optimizes after ~10,000 messages of a shape).
  for (let i = 0; i <= PASSES; i++) {
    const c0 = process.cpuUsage();
    const r = await rtt(self, peer, N);
    const c = process.cpuUsage(c0);
    if (i > 0) rows.push({ us: 1e6 / r.perSec, cpu: (c.user + c.system) / N });
  }
});
await driver.stop();
await echo.stop();

const best = rows.reduce((a, b) => (b.us < a.us ? b : a));
const median = [...rows].sort((a, b) => a.us - b.us)[Math.floor(rows.length / 2)] as { us: number };
console.log(
  `\nCourier's own cost per distribution round trip (two nodes, one process, memory carrier on nextTick: no socket, no event-loop turn); ${N.toLocaleString('en-US')} round trips per pass`,
);
console.log('| figure                                     | best of 5 | median |');
console.log('|--------------------------------------------|----------:|-------:|');
console.log(`| µs per round trip (wall)                   | ${best.us.toFixed(2).padStart(9)} | ${median.us.toFixed(2).padStart(6)} |`);
console.log(`| µs of CPU per round trip (with GC threads) | ${best.cpu.toFixed(2).padStart(9)} |        |`);
console.log(
  `\n${runInfo({
    courier: 'both nodes in this process',
    statistic: `a warm-up pass, then the best (and median) of ${PASSES} passes`,
  })}`,
);
process.exit(0);
