import { Node, TIMEOUT, type Process } from '@courier/core';
import { Pid, Tuple, atom } from '@courier/term';
import { best, idle, onNode, perSecond, settle } from './courier-pass.js';
import { callRate, startChildRate, typedCallRate, typedPingPong } from './courier-otp.js';

/**
 * The Courier half of `npm run bench`: the same measurements as bench/erlang/courier_bench.erl,
 * each pass on a fresh node and driven from inside a process, as the Erlang one is.
 */
export interface Sizes {
  readonly spawn: number;
  readonly memory: number;
  readonly pingPong: number;
  readonly manyToOne: number;
  readonly senders: number;
  /** gen_server calls per pass (term and typed API, empty mailbox and behind the backlog). */
  readonly calls: number;
  /** Unrelated messages queued in the caller's mailbox before its calls. */
  readonly backlog: number;
  /** supervisor:start_child calls per pass. */
  readonly startChild: number;
}

export interface Results {
  readonly spawnPerS: number;
  readonly idleBytesPerProc: number;
  readonly pingPongRtPerS: number;
  /** The same ping-pong on a node that also holds `sizes.memory` idle processes. */
  readonly pingPongBesideIdleRtPerS: number;
  readonly manyToOneMsgsPerS: number;
  /** The local ping-pong between two typed actors (spawnTyped, TypedRef). */
  readonly typedPingPongRtPerS: number;
  /** gen_server call round trips from an empty mailbox (startServer + call). */
  readonly callPerS: number;
  /** The same with the typed API (startTypedServer + ServerRef.call from a typed actor). */
  readonly typedCallPerS: number;
  /** The term-API call from a process holding `sizes.backlog` unrelated messages. */
  readonly callBacklogPerS: number;
  /** supervisor:start_child on a simple_one_for_one supervisor (startDynamicSupervisor + startChild). */
  readonly startChildPerS: number;
}

const DONE = atom('done');
const PING = atom('ping');
const PONG = atom('pong');
const STOP = atom('stop');
const MSG = atom('msg');

/** spawn + exit: n processes that each tell the parent they ran, then end. */
export const spawnRate = (n: number): Promise<number> =>
  onNode(async (self) => {
    const parent = self.pid;
    const child = (c: Process): Promise<void> => Promise.resolve(c.send(parent, DONE));
    const t0 = performance.now();
    for (let i = 0; i < n; i++) self.spawn(child);
    for (let i = 0; i < n; i++) await self.receive();
    return perSecond(n, t0);
  });

/** Heap bytes per idle process: n processes blocked in receive, measured after full GCs. */
export async function idleMemory(n: number, gc: () => void): Promise<number> {
  const node = new Node({ name: 'bench@localhost' });
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

/** Ping-pong passes on one node that also holds `idleProcs` processes blocked in receive. */
async function besideIdle(idleProcs: number, passes: (node: Node) => Promise<number>): Promise<number> {
  const node = new Node({ name: 'bench@localhost' });
  for (let i = 0; i < idleProcs; i++) node.spawn(idle);
  await settle();
  try {
    return await passes(node);
  } finally {
    await node.stop();
  }
}

/** Local ping-pong: n round trips between the driving process and an echo process. */
export const pingPong = (n: number, on?: Node): Promise<number> =>
  onNode(async (self) => {
    const pong = self.spawn(async (p) => {
      for (;;) {
        const m = await p.receive();
        if (m === STOP) return;
        p.send((m as Tuple).elements[1] as Pid, PONG);
      }
    });
    const t0 = performance.now();
    for (let i = 0; i < n; i++) {
      // Built per round, as `{ping, self()}` is in courier_bench.erl.
      self.send(pong, new Tuple([PING, self.pid]));
      await self.receive();
    }
    const r = perSecond(n, t0);
    self.send(pong, STOP);
    return r;
  }, on);

/** Many-to-one: `senders` processes send n messages in all to one receiver. */
export const manyToOne = (n: number, senders: number): Promise<number> =>
  onNode(async (self) => {
    const parent = self.pid;
    const per = Math.floor(n / senders);
    const total = per * senders;
    const recv = self.spawn(async (r) => {
      // Drain what is queued synchronously; wait only when the mailbox is empty.
      for (let k = 0; k < total; k++) if (r.tryReceive() === TIMEOUT) await r.receive();
      r.send(parent, DONE);
    });
    const t0 = performance.now();
    for (let s = 0; s < senders; s++) {
      self.spawn(async (p) => {
        for (let k = per; k > 0; k--) {
          p.send(recv, new Tuple([MSG, k]));
          // erlang:yield/0 every 1024 sends, as Erlang's scheduler preempts by reductions.
          if ((k & 1023) === 0) await p.yield();
        }
      });
    }
    await self.receive();
    return perSecond(total, t0);
  });

export type Metric = keyof Results;

/** One metric, measured in this process (bench/courier-metric.ts runs each in a fresh one). */
export function measure(metric: Metric, sizes: Sizes, gc: () => void): Promise<number> {
  switch (metric) {
    case 'spawnPerS':
      return best(spawnRate, sizes.spawn, gc);
    case 'pingPongRtPerS':
      return best((n) => pingPong(n), sizes.pingPong, gc);
    case 'pingPongBesideIdleRtPerS':
      return besideIdle(sizes.memory, (node) => best((n) => pingPong(n, node), sizes.pingPong, gc));
    case 'manyToOneMsgsPerS':
      return best((n) => manyToOne(n, sizes.senders), sizes.manyToOne, gc);
    case 'idleBytesPerProc':
      return idleMemory(sizes.memory, gc);
    case 'typedPingPongRtPerS':
      return best(typedPingPong, sizes.pingPong, gc);
    case 'callPerS':
      return best((n) => callRate(n, 0), sizes.calls, gc);
    case 'typedCallPerS':
      return best(typedCallRate, sizes.calls, gc);
    case 'callBacklogPerS':
      return best((n) => callRate(n, sizes.backlog), sizes.calls, gc);
    case 'startChildPerS':
      return best(startChildRate, sizes.startChild, gc);
  }
}
