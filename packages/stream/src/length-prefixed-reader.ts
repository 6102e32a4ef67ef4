/**
 * The length-prefixed frame reader of @courier/stream alone, without Node modules (importable in a browser).
 *
 * @packageDocumentation
 * @module @courier/stream/length-prefixed
 */
import { ProtocolError, uninitialized } from '@courier/term';
import { u32be } from './u32.js';

export { InPlaceFrameReader, REUSE_MAX, type FramePlacer } from './in-place-reader.js';

/**
 * A frame that arrived over several chunks, as views of them in order (nothing copied): the
 * consumer copies it once, into the buffer where its bytes end up (see {@link copySpanned}).
 * The views stay valid: carriers never reuse a chunk they handed out.
 */
export interface SpannedFrame {
  readonly parts: readonly Uint8Array[];
  readonly length: number;
}

/**
 * Incremental reader of `<<Len:32, Data:Len/binary>>` frames: the Erlang distribution session's
 * framing (Len = 0 is a tick) and sshrpc's. I/O-free, so a browser build may import it
 * (`@courier/stream/length-prefixed`). Chunks are kept in a list; a frame lying inside one chunk
 * is handed out as a view. A frame spanning chunks goes to `onSpanned` as views of them when
 * the consumer gives one (it copies the bytes once, where they are to end up), else it is copied
 * into one buffer of the frame's size. The frame limit is checked before anything is allocated.
 */
export class LengthPrefixedReader {
  private chunks: Uint8Array[] = [];
  /** Offset of unread data in chunks[0]. */
  private head = 0;
  private buffered = 0;

  constructor(
    private readonly maxFrame: number,
    private readonly onFrame: (frame: Uint8Array) => void,
    private readonly onTick: () => void,
    private readonly onSpanned?: (frame: SpannedFrame) => void,
  ) {}

  /** Bytes waiting for the rest of their frame. */
  get pending(): number {
    return this.buffered;
  }

  /** Feed bytes; calls onFrame/onTick for every complete frame. Throws ProtocolError on an oversized length. */
  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    // Fast path: nothing buffered, parse straight from this chunk.
    if (this.buffered === 0) {
      let o = 0;
      const n = chunk.length;
      while (n - o >= 4) {
        const len = u32be(chunk, o);
        if (len === 0) {
          o += 4;
          this.onTick();
          continue;
        }
        if (len > this.maxFrame) throw this.tooLarge(len);
        if (n - o - 4 < len) break;
        this.onFrame(chunk.subarray(o + 4, o + 4 + len));
        o += 4 + len;
      }
      if (o === n) return;
      this.chunks.push(o === 0 ? chunk : chunk.subarray(o));
      this.buffered = n - o;
      this.head = 0;
      return;
    }
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    this.drain();
  }

  private drain(): void {
    while (this.buffered >= 4) {
      const len = this.peekLength();
      if (len === 0) {
        this.consume(4);
        this.onTick();
        continue;
      }
      if (len > this.maxFrame) throw this.tooLarge(len);
      if (this.buffered < 4 + len) return;
      this.consume(4);
      const c = this.chunks[0] as Uint8Array;
      if (c.length - this.head >= len) {
        const v = c.subarray(this.head, this.head + len);
        this.consume(len);
        this.onFrame(v);
      } else if (this.onSpanned !== undefined) {
        this.onSpanned(this.takeParts(len));
      } else {
        this.onFrame(this.takeCopy(len));
      }
    }
  }

  private peekLength(): number {
    let v = 0;
    let ci = 0;
    let off = this.head;
    for (let i = 0; i < 4; i++) {
      let c = this.chunks[ci] as Uint8Array;
      while (off >= c.length) {
        ci++;
        off = 0;
        c = this.chunks[ci] as Uint8Array;
      }
      v = v * 256 + (c[off++] as number);
    }
    return v;
  }

  private consume(n: number): void {
    this.buffered -= n;
    while (n > 0) {
      const c = this.chunks[0] as Uint8Array;
      const left = c.length - this.head;
      if (n < left) {
        this.head += n;
        return;
      }
      n -= left;
      this.chunks.shift();
      this.head = 0;
    }
  }

  /** The next `n` bytes, which span chunks, as views of those chunks. */
  private takeParts(n: number): SpannedFrame {
    // Walk the chunks by index and drop the used ones in one splice: shifting them one by one
    // is quadratic when a peer trickles a large frame in tiny segments.
    const parts: Uint8Array[] = [];
    let w = 0;
    let ci = 0;
    let off = this.head;
    while (w < n) {
      const d = this.chunks[ci] as Uint8Array;
      const k = Math.min(n - w, d.length - off);
      parts.push(off === 0 && k === d.length ? d : d.subarray(off, off + k));
      w += k;
      off += k;
      if (off === d.length) {
        ci++;
        off = 0;
      }
    }
    this.chunks.splice(0, ci);
    this.head = off;
    this.buffered -= n;
    return { parts, length: n };
  }

  /** The next `n` bytes, which span chunks, copied into one buffer. */
  private takeCopy(n: number): Uint8Array {
    const out = uninitialized(n);
    copySpanned(this.takeParts(n), 0, out, 0);
    return out;
  }

  private tooLarge(len: number): ProtocolError {
    return new ProtocolError('FRAME_TOO_LARGE', `peer announced a frame of ${len} bytes, over the limit of ${this.maxFrame}`, 0);
  }
}

/** Copy the bytes of `f` from offset `from` on into `dst` at `at`. */
export function copySpanned(f: SpannedFrame, from: number, dst: Uint8Array, at: number): void {
  for (const p of f.parts) {
    if (from >= p.length) {
      from -= p.length;
      continue;
    }
    dst.set(from === 0 ? p : p.subarray(from), at);
    at += p.length - from;
    from = 0;
  }
}

/** The first `n` bytes of `f` in one buffer: a view of its first part when they lie there, else a copy. */
export function spannedHead(f: SpannedFrame, n: number): Uint8Array {
  const p0 = f.parts[0] as Uint8Array;
  if (p0.length >= n) return p0.subarray(0, n);
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of f.parts) {
    const k = Math.min(p.length, n - at);
    out.set(k === p.length ? p : p.subarray(0, k), at);
    at += k;
    if (at === n) break;
  }
  return out;
}
