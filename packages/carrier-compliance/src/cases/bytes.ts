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

export function bytesCases(h: () => CarrierHarness, deadline: number): void {
  describe('bytes', () => {
    for (const size of [1, 2, 3, 7, 4096]) {
      it(`delivers bytes intact, in order, both ways, when written in chunks of ${size}`, async () => {
        const [a, b] = await h().carrierPair();
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
      });
    }

    it('delivers an 8 MiB write whole, and the writer may reuse its buffer at once', async () => {
      const [a, b] = await h().carrierPair();
      const sb = new Sink();
      b.setReceiver(sb);
      a.setReceiver(new Sink());
      const big = pattern(8 * 1024 * 1024, 3);
      const digest = sha(big);
      a.write(big);
      big.fill(0); // the carrier must have taken (or copied) the bytes by now
      a.write(pattern(10, 4));
      await sb.until(() => sb.bytes >= 8 * 1024 * 1024 + 10, deadline, '8 MiB');
      const got = sb.all();
      expect(got.length).toBe(8 * 1024 * 1024 + 10);
      expect(sha(got.subarray(0, 8 * 1024 * 1024))).toBe(digest);
      expect(got.subarray(8 * 1024 * 1024).equals(pattern(10, 4))).toBe(true);
    });

    it('applies backpressure: write returns false past the mark, drain follows, nothing is lost', async () => {
      const [a, b] = await h().carrierPair({ highWaterMark: 16 * 1024 });
      const sa = new Sink();
      const sb = new Sink();
      a.setReceiver(sa);
      b.pause();
      b.setReceiver(sb);
      const chunk = 16 * 1024;
      const limit = 256 * 1024 * 1024;
      const written: Buffer[] = [];
      let total = 0;
      let accepted = true;
      while (accepted && total < limit) {
        const c = pattern(chunk, written.length);
        written.push(c);
        total += chunk;
        accepted = a.write(c);
      }
      expect(accepted).toBe(false);
      await turns(3);
      expect(sb.bytes).toBe(0); // paused: nothing delivered
      b.resume();
      await sa.until(() => sa.drains >= 1, deadline, 'drain');
      await sb.until(() => sb.bytes >= total, deadline, 'every byte written before the drain');
      expect(sb.all().equals(Buffer.concat(written))).toBe(true);
      expect(a.write(pattern(5))).toBe(true);
      await sb.until(() => sb.bytes >= total + 5, deadline, 'bytes after the drain');
    });

    for (const side of ['dialing', 'accepting'] as const) {
      it(`close from the ${side} end: queued bytes arrive, then onClose exactly once on both ends`, async () => {
        const [a, b] = await h().carrierPair();
        const [closer, other] = side === 'dialing' ? [a, b] : [b, a];
        const sc = new Sink();
        const so = new Sink();
        closer.setReceiver(sc);
        other.setReceiver(so);
        const last = pattern(70_000, 9);
        closer.write(last);
        closer.close();
        closer.close();
        expect(closer.write(pattern(3))).toBe(false);
        await so.until(() => so.closes.length > 0, deadline, 'onClose at the far end');
        await sc.until(() => sc.closes.length > 0, deadline, 'onClose at the closing end');
        expect(so.all().equals(last)).toBe(true);
        other.close();
        other.abort();
        closer.abort();
        await turns(5);
        expect(sc.closes).toHaveLength(1);
        expect(so.closes).toHaveLength(1);
      });

      it(`abort from the ${side} end: onClose exactly once on both ends`, async () => {
        const [a, b] = await h().carrierPair();
        const [aborter, other] = side === 'dialing' ? [a, b] : [b, a];
        const sa = new Sink();
        const so = new Sink();
        aborter.setReceiver(sa);
        other.setReceiver(so);
        aborter.write(pattern(100));
        aborter.abort(new Error('test abort'));
        await so.until(() => so.closes.length > 0, deadline, 'onClose at the far end');
        await sa.until(() => sa.closes.length > 0, deadline, 'onClose at the aborting end');
        other.abort();
        aborter.close();
        await turns(5);
        expect(sa.closes).toHaveLength(1);
        expect(so.closes).toHaveLength(1);
      });
    }
  });
}
