import { Node, type Process } from './core/src/index.ts';
import { Pid, Tuple, atom, type Term } from '@courier/term';

/**
 * The Courier half of `npm run bench`: the same four measurements as bench/erlang/courier_bench.erl,
 * each in a fresh node, each pass driven from inside a process as the Erlang one is.
 */
export interface Sizes {
  readonly spawn: number;
  readonly memory: number;
  readonly pingPong: number;
  readonly manyToOne: number;
  readonly senders: number;
}

export interface Results {
  readonly spawnPerS: number;
  readonly idleBytesPerProc: number;
  readonly pingPongRtPerS: number;
  readonly manyToOneMsgsPerS: number;
}

const RUNS = 3;
const DONE = atom('done');
const PING = atom('ping');
const PONG = atom('pong');
const STOP = atom('stop');
const MSG = atom('msg');

/** Run `fn` as the body of a process on a fresh node and resolve with what it returns. */
async function inProcess<T>(fn: (self: Process) => Promise<T>): Promise<T> {
  const node = new Node({ name: 'bench@localhost' });
  try {
    return await new Promise<T>((resolve, reject) => node.spawn((self) => fn(self).then(resolve, reject)));
  } finally {
    await node.stop();
  }
}

/** A warm-up pass at a tenth of the size, then the median of RUNS passes. */
async function median(pass: (n: number) => Promise<number>, n: number): Promise<number> {
  await pass(Math.max(1, Math.floor(n / 10)));
  const rs: number[] = [];
  for (let i = 0; i < RUNS; i++) rs.push(await pass(n));
  return rs.sort((a, b) => a - b)[(RUNS - 1) >> 1] as number;
}

const perSecond = (n: number, t0: number): number => n / ((performance.now() - t0) / 1000);

/** spawn + exit: n processes that each tell the parent they ran, then end. */
export const spawnRate = (n: number): Promise<number> =>
  inProcess(async (self) => {
    const parent = self.pid;
    const child = async (c: Process): Promise<void> => c.send(parent, DONE);
    const t0 = performance.now();
    for (let i = 0; i < n; i++) self.spawn(child);
    for (let i = 0; i < n; i++) await self.receive();
    return perSecond(n, t0);
  });

/** Heap bytes per idle process: n processes blocked in receive, measured after full GCs. */
export async function idleMemory(n: number, gc: () => void): Promise<number> {
  const node = new Node({ name: 'bench@localhost' });
  const idle = async (self: Process): Promise<void> => {
    await self.receive();
  };
  const settle = (): Promise<void> => new Promise((r) => setImmediate(r));
  await settle();
  gc();
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < n; i++) node.spawn(idle);
  await settle(); // every body has started and waits in receive
  gc();
  const after = process.memoryUsage().heapUsed;
  if (node.processes().length !== n) throw new Error(`expected ${n} idle processes, found ${node.processes().length}`);
  await node.stop();
  return (after - before) / n;
}

/** Local ping-pong: n round trips between the driving process and an echo process. */
export const pingPong = (n: number): Promise<number> =>
  inProcess(async (self) => {
    const pong = self.spawn(async (p) => {
      for (;;) {
        const m = (await p.receive()) as Term;
        if (m === STOP) return;
        p.send((m as Tuple).elements[1] as Pid, PONG);
      }
    });
    const ping = new Tuple([PING, self.pid]);
    const t0 = performance.now();
    for (let i = 0; i < n; i++) {
      self.send(pong, ping);
      await self.receive();
    }
    const r = perSecond(n, t0);
    self.send(pong, STOP);
    return r;
  });

/** Many-to-one: `senders` processes send n messages in all to one receiver. */
export const manyToOne = (n: number, senders: number): Promise<number> =>
  inProcess(async (self) => {
    const parent = self.pid;
    const per = Math.floor(n / senders);
    const total = per * senders;
    const recv = self.spawn(async (r) => {
      for (let k = 0; k < total; k++) await r.receive();
      r.send(parent, DONE);
    });
    const t0 = performance.now();
    for (let s = 0; s < senders; s++) {
      self.spawn(async (p) => {
        for (let k = per; k > 0; k--) p.send(recv, new Tuple([MSG, k]));
      });
    }
    await self.receive();
    return perSecond(total, t0);
  });

export async function runCourier(sizes: Sizes, gc: () => void): Promise<Results> {
  const spawnPerS = await median(spawnRate, sizes.spawn);
  const idleBytesPerProc = await idleMemory(sizes.memory, gc);
  const pingPongRtPerS = await median(pingPong, sizes.pingPong);
  const manyToOneMsgsPerS = await median((n) => manyToOne(n, sizes.senders), sizes.manyToOne);
  return { spawnPerS, idleBytesPerProc, pingPongRtPerS, manyToOneMsgsPerS };
}
