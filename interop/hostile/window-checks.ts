import { expect } from 'vitest';
import { retained, type CollectedMemory, type EchoNodeProcess } from './echo-node-process.js';
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

/**
 * What the node may hold after a hostile run beyond what it held at the start, both measured
 * after full collections (live heap + live off-heap buffers). Per-connection state that outlives
 * its connection shows here first: a socket pinned by a timer for 5 s after each close was ~64 KiB
 * per case, 20–40 MiB over a run; what is left is the atom table and V8's own caches (+1–2 MiB
 * over 4,000 cases).
 */
export const RETAINED_BOUND = 16 * 2 ** 20;

const mib = (n: number): string => (n / 2 ** 20).toFixed(1);

/** The node's memory at the start and now, for a log line or a failure message. */
export function memoryLine(start: CollectedMemory, end: CollectedMemory): string {
  return `after full collections: RSS ${mib(start.rss)} → ${mib(end.rss)} MiB, heap used ${mib(start.heapUsed)} → ${mib(end.heapUsed)} MiB, external ${mib(start.external)} → ${mib(end.external)} MiB`;
}

/**
 * From `start` to `end`, both measured after full collections: the node came to retain less than
 * RETAINED_BOUND more, and its RSS grew by less than `rssBound` (what V8 and malloc keep for reuse
 * may legitimately stay). Returns the measurement's log line.
 */
export function expectMemoryWithin(start: CollectedMemory, end: CollectedMemory, rssBound: number): string {
  const line = memoryLine(start, end);
  expect(retained(end) - retained(start), line).toBeLessThan(RETAINED_BOUND);
  expect(end.rss - start.rss, line).toBeLessThan(rssBound);
  return line;
}

/** {@link expectMemoryWithin} from `start` to the node's memory now. */
export async function expectMemoryBounded(node: EchoNodeProcess, start: CollectedMemory, rssBound: number): Promise<string> {
  return expectMemoryWithin(start, await node.memory(), rssBound);
}
