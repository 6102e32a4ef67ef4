import { describe, expect, it } from 'vitest';
import { Mailbox, TIMEOUT, _, ptuple } from '@courier/core';
import { atom, tuple } from '@courier/term';
import { localNode, inProcess } from './helpers.js';

describe('Mailbox', () => {
  it('delivers in arrival order', async () => {
    const m = new Mailbox();
    for (let i = 0; i < 5; i++) m.push(i);
    const got = [];
    for (let i = 0; i < 5; i++) got.push(await m.receive(undefined));
    expect(got).toEqual([0, 1, 2, 3, 4]);
    expect(m.length).toBe(0);
  });

  it('selective receive takes the first match and keeps the rest in order', async () => {
    const m = new Mailbox();
    m.push('a');
    m.push(2);
    m.push('b');
    m.push(3);
    expect(await m.receive((x) => typeof x === 'number')).toBe(2);
    expect(m.peek()).toEqual(['a', 'b', 3]);
  });

  it('a waiting receive tests only new arrivals, never rescanning skipped messages', async () => {
    const m = new Mailbox();
    let calls = 0;
    for (let i = 0; i < 100; i++) m.push(i);
    const p = m.receive((x) => {
      calls++;
      return x === 'hit';
    });
    expect(calls).toBe(100);
    m.push('miss');
    m.push('hit');
    expect(await p).toBe('hit');
    expect(calls).toBe(102);
    expect(m.length).toBe(101);
  });

  it('times out with TIMEOUT and polls with 0', async () => {
    const m = new Mailbox();
    expect(await m.receive(undefined, 0)).toBe(TIMEOUT);
    const t0 = Date.now();
    expect(await m.receive(undefined, 30)).toBe(TIMEOUT);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(25);
    m.push('late');
    expect(await m.receive(undefined, 0)).toBe('late');
  });

  it('stays compact after many head removals', async () => {
    const m = new Mailbox();
    for (let i = 0; i < 5000; i++) m.push(i);
    for (let i = 0; i < 4999; i++) await m.receive(undefined, 0);
    expect(m.peek()).toEqual([4999]);
  });

  it('patterns: `_` and guards inside tuples', async () => {
    const node = localNode();
    const r = await inProcess(node, async (self) => {
      self.send(self.pid, tuple(atom('other'), 1));
      self.send(self.pid, tuple(atom('data'), 7));
      return self.receive(ptuple(atom('data'), (x) => typeof x === 'number' && x > 5));
    });
    expect(r).toEqual(tuple(atom('data'), 7));
    const r2 = await inProcess(node, async (self) => {
      self.send(self.pid, tuple(atom('x'), 1, 2));
      return self.receive(ptuple(atom('x'), _, _));
    });
    expect(r2).toEqual(tuple(atom('x'), 1, 2));
  });
});

describe('fairness and draining', () => {
  it('a busy local ping-pong lets timers and I/O run (wake-up budget)', async () => {
    const node = localNode();
    let ticks = 0;
    const iv = setInterval(() => ticks++, 1);
    const n = 200_000;
    const done = await inProcess(node, async (self) => {
      const pong = self.spawn(async (p) => {
        for (;;) {
          const m = (await p.receive()) as import('@courier/term').Pid;
          p.send(m, 1);
        }
      });
      for (let i = 0; i < n; i++) {
        self.send(pong, self.pid);
        await self.receive();
      }
      return n;
    });
    clearInterval(iv);
    expect(done).toBe(n);
    expect(ticks).toBeGreaterThan(0);
  });

  it('tryReceive takes queued messages synchronously and TIMEOUT when empty', async () => {
    const node = localNode();
    const r = await inProcess(node, (self) => {
      expect(self.tryReceive()).toBe(TIMEOUT);
      self.send(self.pid, 'a');
      self.send(self.pid, 2);
      return Promise.resolve([self.tryReceive((x) => typeof x === 'number'), self.tryReceive(), self.tryReceive()]);
    });
    expect(r).toEqual([2, 'a', TIMEOUT]);
  });
});
