import { Node, type Process } from './core/src/index.ts';
import { Pid, Tuple, atom, type Term } from '@courier/term';
const gc = globalThis.gc as () => void;
const PING = atom('ping'), PONG = atom('pong'), STOP = atom('stop');
async function pp(node: Node, n: number): Promise<number> {
  return new Promise<number>((res) => node.spawn(async (self) => {
    const pong = self.spawn(async (p) => { for (;;) { const m = (await p.receive()) as Term; if (m === STOP) return; p.send((m as Tuple).elements[1] as Pid, PONG); } });
    const ping = new Tuple([PING, self.pid]);
    const t0 = performance.now();
    for (let i = 0; i < n; i++) { self.send(pong, ping); await self.receive(); }
    res(Math.round(n / ((performance.now() - t0) / 1000))); self.send(pong, STOP);
  }));
}
const idleN = Number(process.argv[2]);
const node = new Node({ name: 'b@l' });
if (process.argv[3]) for (let k = 0; k < 3; k++) console.log('before idle', await pp(node, 300000));
for (let i = 0; i < idleN; i++) node.spawn(async (self) => { await self.receive(); });
await new Promise((r) => setImmediate(r));
gc();
for (let k = 0; k < 4; k++) { console.log('beside', idleN, await pp(node, 300000), (process.memoryUsage().heapUsed / 2 ** 20).toFixed(0) + 'MB'); }
