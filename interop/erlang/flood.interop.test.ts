import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { CarrierError, UsageError, rpcCall, type Node, type Process } from '@courier/core';
import { Tuple, atom, type Atom, type Term } from '@courier/term';
import type { ErlNode } from '@courier/testkit';
import { CollectorPair } from './collectors.js';
import { erlPeer, inProcess } from './harness.js';

/**
 * Backpressure and bad terms against a real `erl` (docs/erlang.md, "Backpressure"): a receiver
 * stopped with SIGSTOP does not make the Courier sender buffer without bound, and a term with
 * no Erlang form is refused at send() without harming the connection.
 */
const MiB = 1024 * 1024;

let pair: CollectorPair | undefined;
let c: Node;
let e: ErlNode;
let E: Atom;

beforeAll(async () => {
  if (!erlPeer.available) return;
  pair = await CollectorPair.start(['flood_sink', 'outside_sink', 'prop_sink']);
  ({ courier: c, erl: e, erlName: E } = pair);
}, 60_000);

afterAll(async () => {
  await pair?.stop();
});

const collected = (sink: string): Promise<[number, boolean]> => (pair as CollectorPair).collected(sink);

async function untilCollected(sink: string, n: number, ms: number): Promise<[number, boolean]> {
  const end = Date.now() + ms;
  for (;;) {
    const r = await collected(sink);
    if (r[0] >= n || Date.now() > end) return r;
    await new Promise((res) => setTimeout(res, 100));
  }
}

/** Stop the erl node for `ms`, sampling this process's RSS meanwhile; resumes it in any case. */
async function stopped<T>(ms: number, during: () => Promise<T>): Promise<{ result: T; rssGrowth: number }> {
  const rss0 = process.memoryUsage().rss;
  let peak = rss0;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
  process.kill(e.pid, 'SIGSTOP');
  const resume = setTimeout(() => process.kill(e.pid, 'SIGCONT'), ms);
  try {
    return { result: await during(), rssGrowth: peak - rss0 };
  } finally {
    clearTimeout(resume);
    clearInterval(sampler);
    process.kill(e.pid, 'SIGCONT');
  }
}

describe('flood: 1 MiB binaries to a stopped erl (dist_buf_busy_limit)', () => {
  it('a sending process is parked at its await; RSS stays bounded; everything arrives in order after SIGCONT', async (ctx) => {
    erlPeer.require(ctx);
    const dest = new Tuple([atom('flood_sink'), E]);
    const N = 48;
    let sent = 0;
    let sentWhileStopped = -1;
    const stopMs = 3000;
    const { rssGrowth } = await stopped(stopMs, () =>
      inProcess(c, async (self: Process) => {
        const probe = setTimeout(() => (sentWhileStopped = sent), stopMs - 200);
        for (let i = 1; i <= N; i++) {
          self.send(dest, new Tuple([Buffer.alloc(MiB, i & 0xff), i]));
          sent = i;
          await self.yield();
        }
        clearTimeout(probe);
      }),
    );
    // Held back while the receiver was stopped: the socket buffers and about the limit, not 48 MiB.
    expect(sentWhileStopped).toBeGreaterThan(0);
    expect(sentWhileStopped).toBeLessThan(N);
    expect(rssGrowth).toBeLessThan(MiB + 64 * MiB);
    expect(await untilCollected('flood_sink', N, 10_000)).toEqual([N, true]);
  }, 20_000);

  it('a sender outside any process gets BUSY_DIST_PORT at twice the limit, and node.drained() waits for the drain', async (ctx) => {
    erlPeer.require(ctx);
    const dest = new Tuple([atom('outside_sink'), E]);
    let i = 0;
    let refused: unknown;
    const { result } = await stopped(3000, async () => {
      // The kernel's socket buffers take several MiB before the node queues any: send until refused.
      const until = Date.now() + 2500;
      while (refused === undefined && Date.now() < until) {
        try {
          c.send(dest, new Tuple([Buffer.alloc(MiB), i + 1]));
          i++;
        } catch (err) {
          refused = err;
        }
        await new Promise((r) => setImmediate(r));
      }
      await c.drained(E);
      return i;
    });
    expect(refused).toBeInstanceOf(CarrierError);
    expect((refused as CarrierError).code).toBe('BUSY_DIST_PORT');
    c.send(dest, new Tuple([atom('after'), result + 1]));
    expect(await untilCollected('outside_sink', result + 1, 10_000)).toEqual([result + 1, true]);
  }, 20_000);
});

describe('large messages go out fragment by fragment, interleaved (OTP 22+)', () => {
  it('small messages of another process pass a message of half the maximum size (32 MiB) on its way; each sender keeps its order', async (ctx) => {
    erlPeer.require(ctx);
    const E_ = E;
    await inProcess(c, (self: Process) => rpcCall(self, E_, atom('courier_peer'), atom('start_recorder'), [atom('order_sink')], 5000));
    const dest = new Tuple([atom('order_sink'), E]);
    const half = 32 * MiB;
    const small = c.spawn(async (p) => {
      await p.receive();
      for (let i = 1; i <= 20; i++) {
        p.send(dest, new Tuple([atom('small'), i]));
        await p.yield();
      }
    });
    await inProcess(c, async (self: Process) => {
      self.send(dest, new Tuple([atom('big'), Buffer.alloc(half, 1)]));
      self.send(dest, new Tuple([atom('after_big'), 0]));
      c.send(small, atom('go'));
      await self.yield();
    });
    let seen: Term[] = [];
    for (const end = Date.now() + 20_000; seen.length < 22 && Date.now() < end;) {
      await new Promise((r) => setTimeout(r, 100));
      const r = await inProcess(c, (self: Process) => rpcCall(self, E_, atom('courier_peer'), atom('recorded'), [atom('order_sink'), 5000], 10_000));
      seen = Array.isArray(r) ? r : [];
    }
    const bigAt = seen.findIndex((t) => t instanceof Tuple && t.elements[0] === atom('big'));
    expect(seen).toHaveLength(22);
    expect(seen[bigAt]).toEqual(new Tuple([atom('big'), half]));
    // The small ones did not wait for 32 MiB to be written: some arrived first.
    expect(bigAt).toBeGreaterThan(0);
    expect(seen.filter((t) => t === atom('small'))).toHaveLength(20);
    // What the big message's sender sent after it came after it.
    expect(seen.indexOf(atom('after_big'))).toBeGreaterThan(bigAt);
  }, 40_000);
});

describe('bad terms never corrupt the connection', () => {
  it('property: any JS value either is sent or throws BADARG at send(); the next message arrives intact', async (ctx) => {
    erlPeer.require(ctx);
    const dest = new Tuple([atom('prop_sink'), E]);
    let seq = 0;
    let refusedCount = 0;
    await inProcess(c, async (self: Process) => {
      fc.assert(
        fc.property(fc.anything({ withMap: true, withSet: true, withDate: true, withBigInt: true, withTypedArray: true, withNullPrototype: true }), (v) => {
          try {
            self.send(dest, new Tuple([v as Term, seq + 1]));
            seq++;
          } catch (err) {
            expect(err).toBeInstanceOf(UsageError);
            expect((err as UsageError).code).toBe('BADARG');
            refusedCount++;
          }
          self.send(dest, new Tuple([atom('next'), ++seq]));
        }),
        { numRuns: 300 },
      );
      // Also the classic ones, each followed by a good message.
      for (const v of [NaN, Infinity, () => 1, new Date(), Symbol('s')]) {
        expect(() => self.send(dest, new Tuple([v as unknown as Term, seq + 1]))).toThrow(UsageError);
        self.send(dest, new Tuple([atom('next'), ++seq]));
      }
      await self.yield();
    });
    expect(refusedCount).toBeGreaterThan(0);
    expect(await untilCollected('prop_sink', seq, 10_000)).toEqual([seq, true]);
  }, 30_000);
});
