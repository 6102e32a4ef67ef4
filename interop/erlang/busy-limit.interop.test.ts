import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CarrierError, type Node, type Process } from '@courier/core';
import { Tuple, atom, type Atom } from '@courier/term';
import type { ErlNode } from '@courier/testkit';
import { CollectorPair } from './collectors.js';
import { erlPeer, inProcess } from './harness.js';

/**
 * `busyLimit` set through tcpDist takes effect (docs/limits.md): with 64 KiB instead of the
 * default 1 MiB, a process sending to a stopped `erl` is parked once about 64 KiB is queued, and a
 * sender outside any process is refused with BUSY_DIST_PORT well before 2 MiB is.
 */
const KiB = 1024;
const LIMIT = 64 * KiB;

let pair: CollectorPair | undefined;
let c: Node;
let e: ErlNode;
let E: Atom;

beforeAll(async () => {
  if (!erlPeer.available) return;
  pair = await CollectorPair.start(['small_sink'], { busyLimit: LIMIT });
  ({ courier: c, erl: e, erlName: E } = pair);
}, 60_000);

afterAll(async () => {
  await pair?.stop();
});

/** Bytes the connection to E holds that the socket has not taken (the session's queue). */
function queued(): number {
  const s = c.dist.session(E) as { queuedBytes?: number } | undefined;
  return s?.queuedBytes ?? 0;
}

const collected = (): Promise<[number, boolean]> => (pair as CollectorPair).collected('small_sink');

describe('busyLimit through tcpDist', () => {
  it('64 KiB: a process is parked near 64 KiB queued, an outside sender gets BUSY_DIST_PORT, all arrives after SIGCONT', async (ctx) => {
    erlPeer.require(ctx);
    const dest = new Tuple([atom('small_sink'), E]);
    const N = 2000; // 32 MiB of 16 KiB messages: far more than the kernel's socket buffers take
    let sent = 0;
    let parkedAt = -1;
    let queuedWhileParked = -1;
    let refusedAt = -1;
    let refused: unknown;
    process.kill(e.pid, 'SIGSTOP');
    const resume = setTimeout(() => process.kill(e.pid, 'SIGCONT'), 3000);
    try {
      const sender = inProcess(c, async (self: Process) => {
        for (let i = 1; i <= N; i++) {
          self.send(dest, new Tuple([Buffer.alloc(16 * KiB, i & 0xff), i]));
          sent = i;
          await self.yield();
        }
      });
      await new Promise((r) => setTimeout(r, 2000));
      parkedAt = sent;
      queuedWhileParked = queued();
      // A sender outside any process is not parked: it is refused at twice the limit.
      for (let k = 0; k < 64 && refused === undefined; k++) {
        try {
          // {_, done}: ignored by the collector, which checks the process's 1, 2, 3… order.
          c.send(dest, new Tuple([Buffer.alloc(16 * KiB), atom('done')]));
        } catch (err) {
          refused = err;
          refusedAt = queued();
        }
      }
      process.kill(e.pid, 'SIGCONT');
      await sender;
    } finally {
      clearTimeout(resume);
      process.kill(e.pid, 'SIGCONT');
    }
    expect(parkedAt).toBeGreaterThan(0);
    expect(parkedAt).toBeLessThan(N);
    // Parked at its next await once busy: the limit plus the one message that made it busy.
    expect(queuedWhileParked).toBeGreaterThanOrEqual(LIMIT);
    expect(queuedWhileParked).toBeLessThan(LIMIT + 17 * KiB);
    expect(refused).toBeInstanceOf(CarrierError);
    expect((refused as CarrierError).code).toBe('BUSY_DIST_PORT');
    // Refused past twice this limit (or the limit past where it became busy), far below the default's 2 MiB.
    expect(refusedAt).toBeGreaterThanOrEqual(2 * LIMIT);
    expect(refusedAt).toBeLessThan(2 * LIMIT + 34 * KiB);
    expect(sent).toBe(N);
    const end = Date.now() + 10_000;
    let got = await collected();
    while (got[0] < N && Date.now() < end) {
      await new Promise((r) => setTimeout(r, 100));
      got = await collected();
    }
    expect(got).toEqual([N, true]);
  }, 30_000);
});
