import { performance } from 'node:perf_hooks';

/**
 * Timing for `npm run bench:codec`: each side is warmed up, then timed in ROUNDS rounds of about
 * roundMs each, Courier and erlpack interleaved (A B, B A, A B) so that a burst of load from the
 * rest of the machine falls on both; the figure is the best round (highest ops/s) of each.
 */
export const ROUNDS = 3;

export interface Timing {
  readonly warmupMs: number;
  readonly roundMs: number;
}

/** Results are kept here so that no call can be optimised away. */
export let sink: unknown;

function run(op: () => unknown, n: number): number {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) sink = op();
  return performance.now() - t0;
}

/** Run `op` for `ms` (warm-up) and return how many calls take about `roundMs`. */
function calibrate(op: () => unknown, { warmupMs, roundMs }: Timing): number {
  let n = 1;
  let spent = 0;
  let ms = run(op, n);
  for (;;) {
    spent += ms;
    if (spent >= warmupMs && ms >= 20) break;
    n *= 2;
    ms = run(op, n);
  }
  return Math.max(1, Math.round((n * roundMs) / ms));
}

/** Best-of-ROUNDS ops/s of each op, timed interleaved; `b` may be absent (then `a` alone). */
export function compare(a: () => unknown, b: (() => unknown) | undefined, timing: Timing): { a: number; b?: number } {
  const na = calibrate(a, timing);
  const nb = b === undefined ? 0 : calibrate(b, timing);
  let bestA = 0;
  let bestB = 0;
  for (let r = 0; r < ROUNDS; r++) {
    const timeA = (): void => {
      bestA = Math.max(bestA, (na * 1000) / run(a, na));
    };
    const timeB = (): void => {
      if (b !== undefined) bestB = Math.max(bestB, (nb * 1000) / run(b, nb));
    };
    if (r % 2 === 0) {
      timeA();
      timeB();
    } else {
      timeB();
      timeA();
    }
  }
  return b === undefined ? { a: bestA } : { a: bestA, b: bestB };
}
