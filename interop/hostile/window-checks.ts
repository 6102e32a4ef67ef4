import { expect } from 'vitest';
import { WINDOW, type Crash } from './hostile-target.js';

/**
 * The end-of-run checks every hostile suite shares: the crashes it recorded, as lines for a
 * failure message, and the peer that kept WINDOW round trips in flight (the real `erl`, or the
 * Courier AEMP node) lost none and kept their order.
 */
export function crashLines(crashes: readonly Crash[]): string[] {
  return crashes.map((c) => `- ${c.testCase}: ${c.exit}\n  bytes ${c.bytes}\n  stderr: ${c.stderr.split('\n').slice(-12).join('\n  ')}`);
}

/** The round-trip window next to the echo node: commands on its stdin, trouble it printed unasked. */
export interface Window {
  note(testCase: string): void;
  readonly trouble: readonly string[];
  say(command: string, answer: RegExp, ms?: number): Promise<string>;
}

/** Stop the window and check it: no trouble printed, every round trip back, more than WINDOW of them. */
export async function expectWindowIntact(w: Window): Promise<{ sent: number; received: number }> {
  w.note('the end');
  expect(w.trouble).toEqual([]);
  const stopped = await w.say('stop', /^(STOPPED|FAILED) /, 30_000);
  const m = /^STOPPED (\d+) (\d+)$/.exec(stopped);
  expect(m, stopped).not.toBeNull();
  const [sent, received] = [Number(m?.[1]), Number(m?.[2])];
  expect(received).toBe(sent);
  expect(sent).toBeGreaterThan(WINDOW);
  return { sent, received };
}
