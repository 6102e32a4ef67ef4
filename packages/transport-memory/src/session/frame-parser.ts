import { ProtocolError } from '@courier/core';

const EMPTY = new Uint8Array(0);
const HEADER = 4;

/**
 * Splits a byte stream into `<<Len:32, Data:Len/binary>>` frames, incrementally. Received chunks
 * are kept in a list; a frame lying inside one chunk is returned as a view of it, one spanning
 * chunks is copied once. A declared length over the limit fails before anything is allocated.
 * `Len = 0` (a tick) comes out as an empty frame.
 */
export class FrameParser {
  private chunks: Uint8Array[] = [];
  /** Index of the first unread chunk and the read offset inside it. */
  private ci = 0;
  private off = 0;
  private buffered = 0;
  /** Body length of the frame being read, or -1 while its header is incomplete. */
  private want = -1;
  /** Stream offset of the next unread byte, for error reports. */
  private consumed = 0;

  constructor(readonly maxFrameBytes: number) {}

  /** Bytes received and not yet returned in a frame. */
  get pending(): number {
    return this.buffered;
  }

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
  }

  /** The next whole frame's data, or undefined until more bytes arrive. Throws ProtocolError `FRAME_TOO_LARGE`. */
  next(): Uint8Array | undefined {
    if (this.want < 0) {
      if (this.buffered < HEADER) return undefined;
      const at = this.consumed;
      const len = this.readLength();
      if (len > this.maxFrameBytes) {
        throw new ProtocolError('FRAME_TOO_LARGE', `a frame of ${len} bytes exceeds the limit of ${this.maxFrameBytes}`, at);
      }
      this.want = len;
    }
    if (this.buffered < this.want) return undefined;
    const frame = this.take(this.want);
    this.want = -1;
    return frame;
  }

  /** Len:32, big-endian, possibly split across chunks. */
  private readLength(): number {
    const c = this.chunks[this.ci] as Uint8Array;
    if (c.length - this.off >= HEADER) {
      const o = this.off;
      const v = (((c[o] as number) << 24) | ((c[o + 1] as number) << 16) | ((c[o + 2] as number) << 8) | (c[o + 3] as number)) >>> 0;
      this.advance(HEADER);
      return v;
    }
    const b = this.take(HEADER);
    return (((b[0] as number) << 24) | ((b[1] as number) << 16) | ((b[2] as number) << 8) | (b[3] as number)) >>> 0;
  }

  private take(n: number): Uint8Array {
    if (n === 0) return EMPTY;
    const c = this.chunks[this.ci] as Uint8Array;
    if (c.length - this.off >= n) {
      const view = c.subarray(this.off, this.off + n);
      this.advance(n);
      return view;
    }
    const out = new Uint8Array(n);
    let at = 0;
    while (at < n) {
      const cur = this.chunks[this.ci] as Uint8Array;
      const k = Math.min(n - at, cur.length - this.off);
      out.set(cur.subarray(this.off, this.off + k), at);
      at += k;
      this.advance(k);
    }
    return out;
  }

  private advance(n: number): void {
    this.off += n;
    this.buffered -= n;
    this.consumed += n;
    const c = this.chunks[this.ci] as Uint8Array;
    if (this.off < c.length) return;
    this.off = 0;
    this.chunks[this.ci++] = EMPTY;
    if (this.ci === this.chunks.length) {
      this.chunks = [];
      this.ci = 0;
    } else if (this.ci >= 64 && this.ci * 2 >= this.chunks.length) {
      this.chunks = this.chunks.slice(this.ci);
      this.ci = 0;
    }
  }
}
