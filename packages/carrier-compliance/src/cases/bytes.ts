import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Carrier, CarrierReceiver } from '@courier/core';
import type { CarrierHarness } from '../harness.js';
import { turns, within } from '../util/deadline.js';

/** A receiver that keeps what arrives and counts drains and closes, with waits for each. */
export class Sink implements CarrierReceiver {
  readonly chunks: Uint8Array[] = [];
  bytes = 0;
  drains = 0;
  closes: Array<Error | undefined> = [];
  private wake: (() => void) | undefined;

  onData(chunk: Uint8Array): void {
    this.chunks.push(chunk);
    this.bytes += chunk.length;
    this.wake?.();
  }
  onDrain(): void {
    this.drains++;
    this.wake?.();
  }
  onClose(error?: Error): void {
    this.closes.push(error);
    this.wake?.();
  }

  /** Resolves once `cond` holds (checked at every callback), within `ms`. */
  until(cond: () => boolean, ms: number, what: string): Promise<void> {
    if (cond()) return Promise.resolve();
    return within(
      new Promise<void>((resolve) => {
        this.wake = () => {
          if (!cond()) return;
          this.wake = undefined;
          resolve();
        };
      }),
      ms,
      what,
    );
  }

  /** Every byte received so far, in one buffer. */
  all(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

/** Deterministic bytes: distinct at every offset modulo 251, so a lost or moved byte shows. */
export function pattern(n: number, seed = 0): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = (i + seed) % 251;
  return b;
}

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

function writeInChunks(c: Carrier, data: Uint8Array, size: number): void {
  for (let at = 0; at < data.length; at += size) c.write(data.subarray(at, Math.min(at + size, data.length)));
}

type Pair = () => Promise<readonly [Carrier, Carrier]>;

/** Bytes written in chunks of `size` arrive intact and in order, both ways. */
export async function checkChunked(pair: Pair, size: number, deadline: number): Promise<void> {
  const [a, b] = await pair();
  const sa = new Sink();
  const sb = new Sink();
  a.setReceiver(sa);
  b.setReceiver(sb);
  const n = size < 7 ? 5000 : 100_000;
  const ab = pattern(n, 1);
  const ba = pattern(n, 2);
  writeInChunks(a, ab, size);
  writeInChunks(b, ba, size);
  await sb.until(() => sb.bytes >= n, deadline, 'a → b bytes');
  await sa.until(() => sa.bytes >= n, deadline, 'b → a bytes');
  expect(sb.all().equals(ab)).toBe(true);
  expect(sa.all().equals(ba)).toBe(true);
  for (const chunk of sb.chunks) expect(chunk.length).toBeGreaterThan(0);
}

/** One 8 MiB write arrives whole, followed in order by a small one. */
export async function checkLargeWrite(pair: Pair, deadline: number): Promise<void> {
  const [a, b] = await pair();
  const sb = new Sink();
  b.setReceiver(sb);
  a.setReceiver(new Sink());
  const size = 8 * 1024 * 1024;
  const big = pattern(size, 3);
  const digest = sha(big);
  a.write(big);
  a.write(pattern(10, 4));
  await sb.until(() => sb.bytes >= size + 10, deadline, '8 MiB');
  const got = sb.all();
  expect(got.length).toBe(size + 10);
  expect(sha(got.subarray(0, size))).toBe(digest);
  expect(got.subarray(size).equals(pattern(10, 4))).toBe(true);
}

/** write returns false past the mark while the reader is paused; drain follows; nothing is lost. */
export async function checkBackpressure(pair: (hwm: number) => Promise<readonly [Carrier, Carrier]>, deadline: number, limit = 64 * 1024 * 1024): Promise<void> {
  const [a, b] = await pair(16 * 1024);
  const sa = new Sink();
  const sb = new Sink();
  a.setReceiver(sa);
  b.pause();
  b.setReceiver(sb);
  const chunk = 16 * 1024;
  const written: Buffer[] = [];
  let total = 0;
  let accepted = true;
  while (accepted && total < limit) {
    const c = pattern(chunk, written.length);
    written.push(c);
    total += chunk;
    accepted = a.write(c);
  }
  expect(accepted, `write still returned true after ${total} bytes to a paused reader`).toBe(false);
  await turns(3);
  expect(sb.bytes).toBe(0); // paused: nothing delivered
  b.resume();
  await sa.until(() => sa.drains >= 1, deadline, 'drain');
  await sb.until(() => sb.bytes >= total, deadline, 'every byte written before the drain');
  expect(sb.all().equals(Buffer.concat(written))).toBe(true);
  expect(a.write(pattern(5))).toBe(true);
  await sb.until(() => sb.bytes >= total + 5, deadline, 'bytes after the drain');
}

/** close (graceful) or abort from one end: queued bytes first (close), then onClose exactly once on both ends. */
export async function checkClose(pair: Pair, how: 'close' | 'abort', fromDialer: boolean, deadline: number): Promise<void> {
  const [a, b] = await pair();
  const [closer, other] = fromDialer ? [a, b] : [b, a];
  const sc = new Sink();
  const so = new Sink();
  closer.setReceiver(sc);
  other.setReceiver(so);
  const last = pattern(70_000, 9);
  closer.write(last);
  if (how === 'close') {
    closer.close();
    closer.close();
    expect(closer.write(pattern(3))).toBe(false);
  } else {
    closer.abort(new Error('test abort'));
  }
  await so.until(() => so.closes.length > 0, deadline, 'onClose at the far end');
  await sc.until(() => sc.closes.length > 0, deadline, 'onClose at the closing end');
  if (how === 'close') expect(so.all().equals(last)).toBe(true);
  other.close();
  other.abort();
  closer.abort();
  closer.close();
  await turns(5);
  expect(sc.closes).toHaveLength(1);
  expect(so.closes).toHaveLength(1);
}

export function bytesCases(h: () => CarrierHarness, deadline: number): void {
  const pair: Pair = () => h().carrierPair();
  describe('bytes', () => {
    for (const size of [1, 2, 3, 7, 4096]) {
      it(`delivers bytes intact, in order, both ways, when written in chunks of ${size}`, () => checkChunked(pair, size, deadline));
    }
    it('delivers an 8 MiB write whole and in order', () => checkLargeWrite(pair, deadline));
    it('applies backpressure: write returns false past the mark, drain follows, nothing is lost', () =>
      checkBackpressure((highWaterMark) => h().carrierPair({ highWaterMark }), deadline));
    for (const how of ['close', 'abort'] as const) {
      for (const fromDialer of [true, false]) {
        it(`${how} from the ${fromDialer ? 'dialing' : 'accepting'} end: onClose exactly once on both ends${how === 'close' ? ', after the queued bytes' : ''}`, () =>
          checkClose(pair, how, fromDialer, deadline));
      }
    }
  });
}
