import { Node, type Process } from '@courier/core';
import { inProcess } from '@courier/testkit';

/** What every Courier pass of `npm run bench` shares: a fresh node, the best-of-passes rule, a rate. */
const RUNS = 5;

export const idle = async (self: Process): Promise<void> => {
  await self.receive();
};
export const settle = (): Promise<void> => new Promise((r) => setImmediate(r));

/** Run `fn` as the body of a process on `on`, or on a fresh node stopped afterwards. */
export async function onNode<T>(fn: (self: Process) => Promise<T>, on?: Node): Promise<T> {
  const node = on ?? new Node({ name: 'bench@localhost' });
  try {
    return await inProcess(node, fn);
  } finally {
    if (on === undefined) await node.stop();
  }
}

/**
 * A warm-up pass at a tenth of the size, then the best of RUNS passes, each after a full GC so
 * that no pass pays for the garbage of the one before. Best, not median: on a shared machine the
 * fastest pass is the least disturbed one (the Erlang side does the same).
 */
export async function best(pass: (n: number) => Promise<number>, n: number, gc: () => void): Promise<number> {
  await pass(Math.max(1, Math.floor(n / 10)));
  let top = 0;
  for (let i = 0; i < RUNS; i++) {
    gc();
    top = Math.max(top, await pass(n));
  }
  return top;
}

export const perSecond = (n: number, t0: number): number => n / ((performance.now() - t0) / 1000);
