import { TIMEOUT, type Process } from '@courier/core';
import { Tuple, atom, type Atom, type Term } from '@courier/term';

/**
 * The Courier side of the distribution benchmark: the same measurements as dist_bench.erl's
 * rtt/2 and tput/3, against a peer serving `bench_echo` and `bench_sink`.
 */
const ECHO = atom('bench_echo');
const SINK = atom('bench_sink');
const START = atom('start');
const DONE = atom('done');

export interface Rtt {
  readonly perSec: number;
  readonly p50us: number;
  readonly p99us: number;
}

export interface Tput {
  readonly msgsPerSec: number;
  readonly bytesPerSec: number;
}

export async function rtt(self: Process, peer: Atom, n: number): Promise<Rtt> {
  const dest = new Tuple([ECHO, peer]);
  self.send(dest, new Tuple([self.pid, atom('warm')]));
  await self.receive();
  const lat = new Float64Array(n);
  const t0 = process.hrtime.bigint();
  for (let i = n; i > 0; i--) {
    const t = process.hrtime.bigint();
    self.send(dest, new Tuple([self.pid, i]));
    await self.receive();
    lat[n - i] = Number(process.hrtime.bigint() - t);
  }
  const total = Number(process.hrtime.bigint() - t0);
  lat.sort();
  const pct = (p: number) => (lat[Math.max(0, Math.min(n - 1, Math.round(n * p) - 1))] as number) / 1000;
  return { perSec: (n * 1e9) / total, p50us: pct(0.5), p99us: pct(0.99) };
}

/** Send `n` copies of `msg` to the peer's sink, many in flight, and wait for its ack. */
export async function tput(self: Process, peer: Atom, n: number, msg: Term, wireBytes: number): Promise<Tput> {
  const dest = new Tuple([SINK, peer]);
  const t0 = process.hrtime.bigint();
  self.send(dest, new Tuple([START, self.pid, n]));
  // Yield now and then, as Erlang's scheduler preempts a sender: the session flushes, and a
  // sender that made its connection busy is held there until it drains (dist_buf_busy_limit).
  const batch = wireBytes >= 16 * 1024 ? 1 : 256;
  for (let i = 0; i < n; i++) {
    self.send(dest, msg);
    if (i % batch === batch - 1) await self.yield();
  }
  const ack = await self.receive((m) => m instanceof Tuple && m.elements[0] === DONE, 300_000);
  if (ack === TIMEOUT) throw new Error('the sink did not acknowledge');
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  return { msgsPerSec: n / secs, bytesPerSec: (n * wireBytes) / secs };
}

/** Serve bench_echo and bench_sink on `self.node` (the Courier peer). */
export function serve(spawn: (body: (p: Process) => Promise<void>, name: Atom) => void): void {
  spawn(async (p) => {
    for (;;) {
      const m = (await p.receive()) as Tuple;
      p.send(m.elements[0] as never, m.elements[1]);
    }
  }, ECHO);
  spawn(async (p) => {
    for (;;) {
      const m = await p.receive();
      if (!(m instanceof Tuple) || m.elements[0] !== START) continue;
      const from = m.elements[1];
      let left = m.elements[2] as number;
      while (left > 0) {
        // Drain what is queued synchronously; wait only when the mailbox is empty.
        if (p.tryReceive() === TIMEOUT) await p.receive();
        left--;
      }
      p.send(from as never, new Tuple([DONE, m.elements[2]]));
    }
  }, SINK);
}
