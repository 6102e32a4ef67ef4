import { Node, type Process } from '@courier/core';
import { Pid, Tuple, atom, type Term } from '@courier/term';
import { idleMemory } from '../bench/courier.ts';
const gc = globalThis.gc as () => void;
const PING = atom('ping'), PONG = atom('pong'), STOP = atom('stop');
async function pp(n: number, yieldEvery: number): Promise<[number, number]> {
  const node = new Node({ name: 'b@l' });
  let timerFiredAt = -1, i = 0;
  setTimeout(() => { timerFiredAt = i; }, 0);
  const r = await new Promise<number>((res) => node.spawn(async (self) => {
    const pong = self.spawn(async (p) => { for (;;) { const m = (await p.receive()) as Term; if (m === STOP) return; p.send((m as Tuple).elements[1] as Pid, PONG); } });
    const ping = new Tuple([PING, self.pid]);
    const t0 = performance.now();
    for (i = 0; i < n; i++) { self.send(pong, ping); await self.receive(); if (yieldEvery && i % yieldEvery === 0) await new Promise((r) => setImmediate(r)); }
    res(n / ((performance.now() - t0) / 1000)); self.send(pong, STOP);
  }));
  await node.stop();
  return [Math.round(r), timerFiredAt];
}
const y = Number(process.argv[2]);
if (!process.argv[3]) console.log('fresh', await pp(300000, y));
await idleMemory(100000, gc);
for (let k = 0; k < 3; k++) console.log('after idle', await pp(300000, y), (process.memoryUsage().heapUsed / 2 ** 20).toFixed(0) + 'MB');
