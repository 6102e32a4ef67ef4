import { afterEach, describe, expect, it, vi } from 'vitest';
import { Keepalive } from '../../src/global/keepalive.js';

describe('Keepalive: the connections a global node keeps to the other global nodes', () => {
  afterEach(() => vi.useRealTimers());

  it('dials a wanted node that is down at once, then with a doubling backoff, and stops when it is up or unwanted', () => {
    vi.useFakeTimers();
    const up = new Set<string>();
    const dials: string[] = [];
    const k = new Keepalive(
      (p) => up.has(p),
      (p) => dials.push(p),
      2000,
    );
    up.add('b');
    k.add('b'); // up: nothing to do
    k.add('c'); // down: dialed at once
    expect(dials).toEqual(['c']);
    vi.advanceTimersByTime(600); // first retry within (1 + rand) × 300 ms
    expect(dials).toEqual(['c', 'c']);
    vi.advanceTimersByTime(1200); // then 2× that
    expect(dials.length).toBe(3);
    up.add('c');
    k.up('c');
    vi.advanceTimersByTime(10_000);
    expect(dials.length).toBe(3);
    // b's connection goes: redialed until it is no longer wanted (dropped from 'g).
    up.delete('b');
    k.lost('b');
    expect(dials.at(-1)).toBe('b');
    k.del('b');
    const n = dials.length;
    vi.advanceTimersByTime(10_000);
    expect(dials.length).toBe(n);
    // A node lost that is not wanted is not dialed.
    k.lost('x');
    expect(dials.length).toBe(n);
    k.stop();
  });
});
