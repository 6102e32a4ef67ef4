import { afterEach, describe, expect, it, vi } from 'vitest';
import { Mailbox, TIMEOUT, UsageError, type Node } from '@courier/core';
import { atom, atoms, type Pid, type Term } from '@courier/term';
import { exitOf, inProcess, localNode } from './helpers.js';

const LIMIT = 2 ** 31 - 1; // setTimeout's longest delay
const TICK = atom('tick');

afterEach(() => {
  vi.useRealTimers();
});

/** A process that waits until told to stop. */
function idle(node: Node): Pid {
  return node.spawn(async (self) => {
    await self.receive(atom('stop'));
  });
}

const queued = (node: Node, pid: Pid): Term[] => node.info(pid)?.mailbox.peek() ?? [];

describe('timers of any length', () => {
  it('a sendAfter past setTimeout’s limit does not fire early and reports its time left', async () => {
    const node = localNode();
    const got = await inProcess(node, async (self) => {
      const ref = self.sendAfter(LIMIT + 1000, self.pid, TICK);
      const early = await self.receive(TICK, 50);
      return { early, left: self.cancelTimer(ref) };
    });
    expect(got.early).toBe(TIMEOUT);
    expect(got.left).toBeGreaterThan(LIMIT);
    expect(got.left).toBeLessThanOrEqual(LIMIT + 1000);
  });

  it('a receive `after` and a sleep past the limit do not end early', async () => {
    const m = new Mailbox();
    let ended: unknown = 'pending';
    void m.receive(undefined, LIMIT + 5).then((r) => (ended = r));
    const node = localNode();
    let slept = false;
    const sleeper = node.spawn(async (self) => {
      await self.sleep(LIMIT + 5);
      slept = true;
    });
    await new Promise((r) => setTimeout(r, 50));
    expect(ended).toBe('pending');
    expect(slept).toBe(false);
    m.close();
    node.exitSignal(undefined, sleeper, atoms.kill);
  });

  it('chained timers fire at their due time on the monotonic clock (fake timers)', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'clearImmediate', 'Date', 'performance'] });
    const node = localNode();
    const p = idle(node);
    const ms = 2 ** 32 + 7; // two steps of the chain and a remainder
    const ref = node.timers.sendAfter(undefined, ms, p, TICK);
    await vi.advanceTimersByTimeAsync(ms - 10);
    expect(queued(node, p)).toEqual([]);
    expect(node.timers.read(ref)).toBe(10);
    await vi.advanceTimersByTimeAsync(10);
    expect(queued(node, p)).toEqual([TICK]);
    expect(node.timers.cancel(ref)).toBe(false);
  });
});

describe('sendAfter to a pid dies with that pid (OTP)', () => {
  it('is cancelled when the destination process exits', async () => {
    const node = localNode();
    const p = idle(node);
    const ref = node.timers.sendAfter(undefined, 60_000, p, TICK);
    expect(node.timers.read(ref)).toBeGreaterThan(59_000);
    const gone = exitOf(node, p);
    node.send(p, atom('stop'));
    expect(await gone).toBe(atoms.normal);
    expect(node.timers.read(ref)).toBe(false);
    expect(node.timers.cancel(ref)).toBe(false);
  });

  it('to a pid already dead is never armed: cancelTimer gives false', async () => {
    const node = localNode();
    const p = idle(node);
    const gone = exitOf(node, p);
    node.send(p, atom('stop'));
    await gone;
    const ref = node.timers.sendAfter(undefined, 60_000, p, TICK);
    expect(node.timers.cancel(ref)).toBe(false);
  });

  it('survives the process that set it, and a timer to a name goes to whoever holds the name then', async () => {
    const node = localNode();
    const name = atom('timer_target');
    // The setter exits at once; its timers stay (a timer belongs to the node).
    const setter = node.spawn((self) => {
      self.sendAfter(30, name, TICK);
    });
    await exitOf(node, setter);
    // The first holder of the name exits; the timer is not cancelled (its destination is a name).
    const first = node.spawn(
      async (self) => {
        await self.receive(atom('stop'));
      },
      { name },
    );
    const firstGone = exitOf(node, first);
    node.send(first, atom('stop'));
    await firstGone;
    const got = await inProcess(node, async (self) => {
      self.register(name);
      return self.receive(TICK, 2000);
    });
    expect(got).toBe(TICK);
  });
});

describe('cancelTimer and readTimer results as OTP', () => {
  it('whole milliseconds left; false once fired, cancelled, or for a ref that is no timer', async () => {
    const node = localNode();
    const r = await inProcess(node, async (self) => {
      const t = self.sendAfter(1000, self.pid, TICK);
      const first = self.readTimer(t);
      await self.sleep(30);
      const read = self.readTimer(t);
      const cancelled = self.cancelTimer(t);
      const again = self.cancelTimer(t);
      const fired = self.sendAfter(0, self.pid, TICK);
      await self.receive(TICK);
      return { first, read, cancelled, again, afterFire: self.cancelTimer(fired), notTimer: self.cancelTimer(self.makeRef()) };
    });
    // Read at once: 1000, or 999 when a millisecond boundary passed between the two reads of the clock.
    expect(r.first).toBeGreaterThanOrEqual(999);
    expect(r.first).toBeLessThanOrEqual(1000);
    expect(Number.isInteger(r.read)).toBe(true);
    expect(r.read).toBeLessThanOrEqual(971);
    expect(r.read).toBeGreaterThan(500);
    expect(Number.isInteger(r.cancelled)).toBe(true);
    expect(r.cancelled).toBeLessThanOrEqual(r.read as number);
    expect(r.again).toBe(false);
    expect(r.afterFire).toBe(false);
    expect(r.notTimer).toBe(false);
  });

  it('a negative, NaN or infinite time is refused (badarg), not fired at once', () => {
    const node = localNode();
    const p = idle(node);
    for (const ms of [-1, Number.NaN, Infinity]) {
      expect(() => node.timers.sendAfter(undefined, ms, p, TICK), String(ms)).toThrow(UsageError);
    }
  });
});
