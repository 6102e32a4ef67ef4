import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ProtocolError } from '@courier/core';
import { LengthPrefixedReader, copySpanned, spannedHead, type SpannedFrame } from '../src/length-prefixed-reader.js';
import { handshakeCapture, hex } from './support/vectors.js';

/**
 * The 4-byte framing of the distribution session, fed the 28 real post-handshake frames of an
 * OTP 25 capture (with their length prefixes) interleaved with ticks, in every chunking.
 */
/** `'tick'`, or a frame's payload in hex. */
type Event = string;

const frames = handshakeCapture().post_handshake_frames.map((f) => hex(f.raw_hex));
const TICK = Buffer.alloc(4);

/** Two ticks first, then every frame, with a tick after every third one and two at the end. */
const stream = Buffer.concat([TICK, TICK, ...frames.flatMap((f, i) => (i % 3 === 2 ? [f, TICK] : [f])), TICK, TICK]);
const expected: Event[] = ['tick', 'tick', ...frames.flatMap((f, i) => (i % 3 === 2 ? [f.subarray(4).toString('hex'), 'tick'] : [f.subarray(4).toString('hex')])), 'tick', 'tick'];

function reader(maxFrame = 1 << 20): { r: LengthPrefixedReader; events: Event[]; views: Uint8Array[] } {
  const events: Event[] = [];
  const views: Uint8Array[] = [];
  const r = new LengthPrefixedReader(
    maxFrame,
    (f) => {
      views.push(f);
      // Copy now: the test must see the bytes as they were when the frame was delivered.
      events.push(Buffer.from(f).toString('hex'));
    },
    () => events.push('tick'),
  );
  return { r, events, views };
}

function feedInChunks(r: LengthPrefixedReader, bytes: Uint8Array, n: number): void {
  for (let i = 0; i < bytes.length; i += n) r.push(bytes.subarray(i, i + n));
}

describe('LengthPrefixedReader over real OTP 25 frames and ticks', () => {
  it('the capture is what the test assumes: 28 frames, each prefix = body length', () => {
    expect(frames).toHaveLength(28);
    for (const f of frames) expect(f.readUInt32BE(0)).toBe(f.length - 4);
  });

  for (const n of [1, 2, 3, 7, 4096]) {
    it(`delivers every frame intact and in order, ticks in place (chunks of ${n})`, () => {
      const { r, events } = reader();
      feedInChunks(r, stream, n);
      expect(events).toEqual(expected);
      expect(r.pending).toBe(0);
    });
  }

  it('the whole stream in one chunk', () => {
    const { r, events } = reader();
    r.push(stream);
    expect(events).toEqual(expected);
  });

  it('random splits (fast-check)', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 1, max: stream.length - 1 }), { maxLength: 300 }), (cuts) => {
        const at = [0, ...cuts.sort((a, b) => a - b), stream.length];
        const { r, events } = reader();
        for (let i = 0; i + 1 < at.length; i++) r.push(stream.subarray(at[i], at[i + 1]));
        expect(events).toEqual(expected);
        expect(r.pending).toBe(0);
      }),
      { numRuns: 300 },
    );
  });

  it('every cut position of a two-chunk split, including inside the length prefix', () => {
    for (let cut = 1; cut < stream.length; cut++) {
      const { r, events } = reader();
      r.push(stream.subarray(0, cut));
      r.push(stream.subarray(cut));
      expect(events).toEqual(expected);
    }
  });

  it('keeps what it has not framed yet, and reports it as pending', () => {
    const { r, events } = reader();
    const f = frames[0] as Buffer;
    r.push(f.subarray(0, 3));
    expect(r.pending).toBe(3);
    r.push(f.subarray(3, 10));
    expect(r.pending).toBe(10);
    expect(events).toEqual([]);
    r.push(Buffer.concat([f.subarray(10), TICK.subarray(0, 2)]));
    expect(events).toEqual([f.subarray(4).toString('hex')]);
    expect(r.pending).toBe(2);
    r.push(TICK.subarray(2));
    expect(events).toEqual([f.subarray(4).toString('hex'), 'tick']);
    expect(r.pending).toBe(0);
  });

  it('ignores empty chunks', () => {
    const { r, events } = reader();
    r.push(new Uint8Array(0));
    r.push((frames[1] as Buffer).subarray(0, 5));
    r.push(new Uint8Array(0));
    r.push((frames[1] as Buffer).subarray(5));
    expect(events).toEqual([(frames[1] as Buffer).subarray(4).toString('hex')]);
  });

  it('a large frame trickled in one byte at a time is reassembled in linear time', () => {
    // 256 KiB in 262 148 one-byte chunks: quadratic chunk bookkeeping would take minutes here.
    const size = 256 * 1024;
    const big = Buffer.alloc(4 + size);
    big.writeUInt32BE(size, 0);
    for (let i = 4; i < big.length; i++) big[i] = i & 0xff;
    let got: Uint8Array | undefined;
    const r = new LengthPrefixedReader(
      1 << 20,
      (f) => (got = f),
      () => undefined,
    );
    feedInChunks(r, big, 1);
    expect(got?.length).toBe(size);
    expect(Buffer.compare(Buffer.from(got as Uint8Array), big.subarray(4))).toBe(0);
  }, 20_000);
});

describe('frame limit', () => {
  const header = (len: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(len >>> 0, 0);
    return b;
  };

  it('accepts a frame of exactly the limit', () => {
    const { r, events } = reader(16);
    r.push(Buffer.concat([header(16), Buffer.alloc(16, 1)]));
    expect(events).toEqual(['01'.repeat(16)]);
  });

  it('rejects a length over the limit as soon as the 4 length bytes are in, before any body arrives', () => {
    for (const len of [17, 1 << 20, 0x7fffffff, 0xffffffff]) {
      const { r, events } = reader(16);
      let err: unknown;
      try {
        r.push(header(len));
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ProtocolError);
      expect((err as ProtocolError).code).toBe('FRAME_TOO_LARGE');
      expect((err as ProtocolError).message).toContain(String(len >>> 0));
      expect(events).toEqual([]);
      // Nothing of the announced size was kept: only the header is buffered, at most.
      expect(r.pending).toBeLessThanOrEqual(4);
    }
  });

  it('rejects an oversized length split over several chunks, and after good frames in the same chunk', () => {
    const { r, events } = reader(frames[0]!.length);
    const bad = header(0xfffffff0);
    r.push(bad.subarray(0, 1));
    r.push(bad.subarray(1, 3));
    expect(() => r.push(bad.subarray(3))).toThrow(ProtocolError);
    expect(events).toEqual([]);

    const second = reader(frames[0]!.length);
    expect(() => second.r.push(Buffer.concat([frames[0] as Buffer, TICK, header(0xfffffff0), Buffer.alloc(100)]))).toThrow(/over the limit/);
    expect(second.events).toEqual([(frames[0] as Buffer).subarray(4).toString('hex'), 'tick']);
  });

  it('does not allocate the announced size: a 4 GiB announcement costs no memory', () => {
    const before = process.memoryUsage().arrayBuffers;
    const { r } = reader(0xffffffff);
    // Within the limit this time: the reader must wait for the body without reserving room for it.
    r.push(header(0xfffffff0));
    r.push(Buffer.alloc(1000));
    expect(r.pending).toBe(1004);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(64 * 1024 * 1024);
  });
});

describe('views and copies', () => {
  it('a frame lying inside one chunk is a view of that chunk (no copy)', () => {
    const { r, views } = reader();
    const chunk = Buffer.concat([frames[0] as Buffer, frames[1] as Buffer]);
    r.push(chunk);
    expect(views).toHaveLength(2);
    for (const v of views) expect(v.buffer).toBe(chunk.buffer);
    expect(views[0]!.byteOffset).toBe(chunk.byteOffset + 4);
    expect(views[1]!.byteOffset).toBe(chunk.byteOffset + frames[0]!.length + 4);
    // A view: it shows later changes to the chunk (the carrier never reuses chunks, so none happen).
    chunk[4] = 0x00;
    expect(views[0]![0]).toBe(0x00);
  });

  it('a frame spanning chunks is a fresh copy, independent of the chunks', () => {
    const { r, views } = reader();
    const f = Buffer.from(frames[2] as Buffer);
    const a = Buffer.from(f.subarray(0, 20));
    const b = Buffer.from(f.subarray(20));
    r.push(a);
    r.push(b);
    expect(views).toHaveLength(1);
    const v = views[0] as Uint8Array;
    expect(v.buffer).not.toBe(a.buffer);
    expect(v.buffer).not.toBe(b.buffer);
    expect(v.byteLength).toBe(f.length - 4);
    a.fill(0);
    b.fill(0);
    expect(Buffer.from(v).equals(f.subarray(4))).toBe(true);
  });

  it('after a spanning frame, a frame lying whole in the next chunk is again a view', () => {
    const { r, views } = reader();
    const f0 = frames[0] as Buffer;
    const f1 = frames[1] as Buffer;
    r.push(f0.subarray(0, 10));
    const second = Buffer.concat([f0.subarray(10), f1]);
    r.push(second);
    expect(views).toHaveLength(2);
    expect(views[0]!.buffer).not.toBe(second.buffer);
    expect(views[1]!.buffer).toBe(second.buffer);
    expect(Buffer.from(views[1] as Uint8Array).equals(f1.subarray(4))).toBe(true);
  });
});

describe('frames spanning chunks, handed to onSpanned as views (copied once, by the consumer)', () => {
  function spanReader(): { r: LengthPrefixedReader; events: Event[]; spanned: SpannedFrame[] } {
    const events: Event[] = [];
    const spanned: SpannedFrame[] = [];
    const r = new LengthPrefixedReader(
      1 << 20,
      (f) => events.push(Buffer.from(f).toString('hex')),
      () => events.push('tick'),
      (f) => {
        spanned.push(f);
        const flat = new Uint8Array(f.length);
        copySpanned(f, 0, flat, 0);
        events.push(Buffer.from(flat).toString('hex'));
      },
    );
    return { r, events, spanned };
  }

  it('random splits: the same frames in order, each spanned one as views of the chunks it arrived in (fast-check)', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 1, max: stream.length - 1 }), { maxLength: 300 }), (cuts) => {
        const at = [0, ...cuts.sort((a, b) => a - b), stream.length];
        const { r, events, spanned } = spanReader();
        // Fresh chunks, as a socket hands them out.
        const chunks = at.slice(1).map((end, i) => Buffer.from(stream.subarray(at[i], end)));
        for (const c of chunks) r.push(c);
        expect(events).toEqual(expected);
        const buffers = new Set(chunks.map((c) => c.buffer));
        for (const f of spanned) {
          expect(f.parts.length).toBeGreaterThan(1);
          expect(f.parts.reduce((n, p) => n + p.length, 0)).toBe(f.length);
          for (const p of f.parts) expect(buffers.has(p.buffer as ArrayBuffer)).toBe(true);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('copySpanned from an offset and spannedHead (a view when the first part holds it)', () => {
    const f: SpannedFrame = { parts: [Uint8Array.of(1, 2, 3), Uint8Array.of(4), Uint8Array.of(5, 6)], length: 6 };
    for (let from = 0; from <= 6; from++) {
      const out = new Uint8Array(8);
      copySpanned(f, from, out, 1);
      expect([...out]).toEqual([0, ...[1, 2, 3, 4, 5, 6].slice(from), ...Array<number>(1 + from).fill(0)]);
    }
    expect(spannedHead(f, 2).buffer).toBe(f.parts[0]!.buffer);
    expect([...spannedHead(f, 5)]).toEqual([1, 2, 3, 4, 5]);
  });
});
