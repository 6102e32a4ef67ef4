import { performance } from 'node:perf_hooks';
import { afterEach, describe, expect, it } from 'vitest';
import { Node, UsageError, type Process } from '@courier/core';
import { MemoryNetwork, memoryDist } from '@courier/transport-memory';
import { atom, Tuple, type Pid } from '@courier/term';
import { BusyPoll } from '../../src/runtime/busy-poll.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until `cond` holds, at most 2 s. */
async function until(cond: () => boolean, what: string): Promise<void> {
  for (const end = Date.now() + 2000; !cond(); await sleep(1)) if (Date.now() > end) throw new Error(`not ${what} within 2 s`);
}

describe('BusyPoll', () => {
  it.each([[-1], [Number.NaN], [Number.POSITIVE_INFINITY], ['100']])('%j µs is a UsageError naming the option', (micros) => {
    expect(() => new BusyPoll(micros as number)).toThrow(UsageError);
    expect(() => new Node({ name: 'a@h', busyPollMicros: micros as number })).toThrow(/busyPollMicros must be a number of microseconds/);
  });

  it('off (0 µs): a touch keeps nothing turning', () => {
    const p = new BusyPoll(0);
    p.touch();
    expect(p.enabled).toBe(false);
    expect(p.active).toBe(false);
  });

  it('keeps the loop turning while touches come within the window, and stops once they stop', async () => {
    const p = new BusyPoll(200_000);
    p.touch();
    expect(p.active).toBe(true);
    for (let i = 0; i < 10; i++) {
      await sleep(5);
      expect(p.active, `touched 5 ms ago (round ${i})`).toBe(true);
      p.touch();
    }
    await until(() => !p.active, 'idle after the last touch');
    p.touch();
    expect(p.active, 'a touch after idling starts again').toBe(true);
    p.stop();
    await until(() => !p.active, 'idle after stop');
    p.touch();
    expect(p.active, 'no spinning after stop').toBe(false);
  });

  it('is the event loop kept busy: its utilisation after one touch is high, without it low', async () => {
    const utilisation = async (p: BusyPoll): Promise<number> => {
      const before = performance.eventLoopUtilization();
      p.touch();
      await sleep(30);
      return performance.eventLoopUtilization(before).utilization;
    };
    const off = await utilisation(new BusyPoll(0));
    const on = await utilisation(new BusyPoll(25_000));
    expect(on).toBeGreaterThan(0.4);
    expect(off).toBeLessThan(on / 2);
  });
});

describe('busyPollMicros on a node', () => {
  let made: Node[] = [];
  afterEach(async () => {
    for (const n of made) await n.stop();
    made = [];
  });

  async function pair(busyPollMicros: number): Promise<[Node, Node]> {
    const network = new MemoryNetwork();
    const start = (name: string) => {
      const n = new Node({ name, busyPollMicros, transports: [memoryDist({ network, cookie: 'c' })] });
      made.push(n);
      return n.start();
    };
    return [await start('a@h'), await start('b@h')];
  }

  /** One echo round trip a → b, then the event loop's utilisation over the 30 ms after it. */
  async function afterRoundTrip(busyPollMicros: number): Promise<number> {
    const [a, b] = await pair(busyPollMicros);
    b.spawn(
      async (self: Process) => {
        const m = (await self.receive()) as Tuple;
        self.send(m.elements[0] as Pid, atom('pong'));
      },
      { name: atom('echo') },
    );
    return new Promise((resolve, reject) => {
      a.spawn(async (self) => {
        try {
          self.send(new Tuple([atom('echo'), atom('b@h')]), new Tuple([self.pid, atom('ping')]));
          expect(await self.receive()).toEqual(atom('pong'));
          const before = performance.eventLoopUtilization();
          await self.sleep(30);
          resolve(performance.eventLoopUtilization(before).utilization);
        } catch (err) {
          reject(err instanceof Error ? err : new Error(String(err)));
        }
      });
    });
  }

  it('messages still flow, and the node polls for the window after the last one (not without the option)', async () => {
    const off = await afterRoundTrip(0);
    const on = await afterRoundTrip(25_000);
    expect(on).toBeGreaterThan(0.4);
    expect(off).toBeLessThan(on / 2);
  });
});
