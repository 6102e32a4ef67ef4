import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ProtocolError } from '@courier/term';
import { InPlaceFrameReader, REUSE_MAX, type FramePlacer } from '../src/in-place-reader.js';

/** A frame of `n` bytes whose content says which frame and where (so a wrong or stale byte shows). */
function frame(id: number, n: number, placeable: boolean): Uint8Array {
  const f = new Uint8Array(n);
  for (let i = 0; i < n; i++) f[i] = (id * 31 + i * 7) & 0xff;
  if (n > 0) f[0] = placeable ? 1 : 0;
  return f;
}

function wire(frames: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(frames.reduce((n, f) => n + 4 + f.length, 0));
  let o = 0;
  for (const f of frames) {
    new DataView(out.buffer).setUint32(o, f.length);
    out.set(f, o + 4);
    o += 4 + f.length;
  }
  return out;
}

/**
 * A carrier that reads in place, as TcpCarrier with InPlaceReads: each read goes into the reader's
 * readBuffer() or else into one buffer reused for every read, at most `sizes[i]` bytes (what the
 * kernel had), and that buffer is scribbled over after each push (a view kept of it shows).
 */
function feed(reader: InPlaceFrameReader, bytes: Uint8Array, sizes: readonly number[]): number {
  const own = new Uint8Array(64 * 1024);
  let p = 0;
  let reads = 0;
  for (let i = 0; p < bytes.length; i++) {
    const target = reader.readBuffer() ?? own;
    const k = Math.min(target.length, bytes.length - p, sizes[i % sizes.length] as number);
    target.set(bytes.subarray(p, p + k));
    reader.push(target.subarray(0, k));
    own.fill(0xee);
    p += k;
    reads++;
  }
  return reads;
}

/** Records frames: copies of reused ones at once, owned ones as given (checked at the end). A placer takes frames starting with 1 from byte 2 on. */
function recorder() {
  const got: Uint8Array[] = [];
  const owned: Array<[Uint8Array, Uint8Array]> = [];
  let ticks = 0;
  let placing: { head: Uint8Array; into: Uint8Array } | undefined;
  const placer: FramePlacer = {
    place(head, length) {
      if (head[0] !== 1 || head.length < 2) return undefined;
      placing = { head: head.slice(0, 2), into: new Uint8Array(length - 2) };
      return { from: 2, into: placing.into };
    },
    placed() {
      const p = placing as { head: Uint8Array; into: Uint8Array };
      const f = new Uint8Array(p.head.length + p.into.length);
      f.set(p.head);
      f.set(p.into, 2);
      got.push(f);
      placing = undefined;
    },
  };
  const onFrame = (f: Uint8Array, reused: boolean) => {
    got.push(f.slice());
    if (!reused) owned.push([f, f.slice()]);
  };
  return { got, owned, placer, onFrame, onTick: () => void ticks++, ticks: () => ticks };
}

describe('InPlaceFrameReader (a carrier that reads in place)', () => {
  it('hands every frame out whole and in order, whatever the reads, placed or assembled, and keeps no view of a reused buffer (fast-check)', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(fc.oneof(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 300, max: 70_000 }), fc.integer({ min: REUSE_MAX - 10, max: REUSE_MAX + 70_000 })), fc.boolean()),
          { minLength: 1, maxLength: 14 },
        ),
        fc.array(fc.integer({ min: 1, max: 70_000 }), { minLength: 1, maxLength: 8 }),
        fc.boolean(),
        (shapes, sizes, withPlacer) => {
          const frames = shapes.map(([n, placeable], i) => frame(i, n, placeable));
          const r = recorder();
          const reader = new InPlaceFrameReader(1 << 24, r.onFrame, r.onTick, withPlacer ? r.placer : undefined);
          feed(reader, wire(frames), sizes);
          const sent = frames.filter((f) => f.length > 0);
          expect(r.ticks()).toBe(frames.length - sent.length);
          expect(r.got.length).toBe(sent.length);
          sent.forEach((f, i) => expect(Buffer.from(r.got[i] as Uint8Array).equals(Buffer.from(f))).toBe(true));
          // A frame handed out to keep is still what it was after every later read.
          for (const [view, copy] of r.owned) expect(Buffer.from(view).equals(Buffer.from(copy))).toBe(true);
          expect(reader.pending).toBe(0);
        },
      ),
      { numRuns: process.env.CI === 'true' ? 300 : 120 },
    );
  });

  it('the rest of a placed frame is read in place: two reads for a 64 KiB fragment, none of it through the own buffer', () => {
    const r = recorder();
    const reader = new InPlaceFrameReader(1 << 24, r.onFrame, r.onTick, r.placer);
    const frames = [frame(1, 64 * 1024 + 30, true), frame(2, 64 * 1024 + 30, true)];
    // The first read brings the first frame's head and 60 KiB; after a large frame, the next read is a 4 KiB head read.
    const reads = feed(reader, wire(frames), [60 * 1024, 1 << 20]);
    expect(r.got.length).toBe(2);
    expect(reads).toBe(4);
  });

  it('a peer announcing a large frame gets memory for what it sent, not what it announced', () => {
    const r = recorder();
    const reader = new InPlaceFrameReader(64 << 20, r.onFrame, r.onTick);
    const head = new Uint8Array(4 + 100);
    new DataView(head.buffer).setUint32(0, 50 << 20);
    reader.push(head);
    expect(reader.pending).toBe(100);
    expect(reader.readBuffer()?.length ?? 0).toBeLessThanOrEqual(REUSE_MAX);
    expect(r.got).toHaveLength(0);
  });

  it('a length over the limit is refused before anything is allocated', () => {
    const reader = new InPlaceFrameReader(
      1000,
      () => undefined,
      () => undefined,
    );
    const head = new Uint8Array([0, 0, 3, 233]);
    expect(() => reader.push(head)).toThrow(ProtocolError);
    try {
      new InPlaceFrameReader(
        1000,
        () => undefined,
        () => undefined,
      ).push(head);
    } catch (e) {
      expect((e as ProtocolError).code).toBe('FRAME_TOO_LARGE');
    }
  });
});
