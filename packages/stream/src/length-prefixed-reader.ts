import { ProtocolError } from '@courier/term';

/**
 * Incremental reader of `<<Len:32, Data:Len/binary>>` frames: the Erlang distribution session's
 * framing (Len = 0 is a tick) and sshrpc's. I/O-free, so a browser build may import it
 * (`@courier/stream/length-prefixed`). Chunks are kept in a list; a frame lying inside one chunk
 * is handed out as a view, and bytes are copied only when a frame spans chunks. The frame limit
 * is checked before anything is allocated.
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
        const len = ((chunk[o] as number) * 0x1000000 + (((chunk[o + 1] as number) << 16) | ((chunk[o + 2] as number) << 8) | (chunk[o + 3] as number))) >>> 0;
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
      this.onFrame(this.take(len));
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

  /** The next `n` bytes: a view when they lie in one chunk, else a copy. */
  private take(n: number): Uint8Array {
    const c = this.chunks[0] as Uint8Array;
    if (c.length - this.head >= n) {
      const v = c.subarray(this.head, this.head + n);
      this.consume(n);
      return v;
    }
    // Walk the chunks by index and drop the used ones in one splice: shifting them one by one
    // is quadratic when a peer trickles a large frame in tiny segments.
    const out = new Uint8Array(n);
    let w = 0;
    let ci = 0;
    let off = this.head;
    while (w < n) {
      const d = this.chunks[ci] as Uint8Array;
      const k = Math.min(n - w, d.length - off);
      out.set(d.subarray(off, off + k), w);
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
    return out;
  }

  private tooLarge(len: number): ProtocolError {
    return new ProtocolError('FRAME_TOO_LARGE', `peer announced a frame of ${len} bytes, over the limit of ${this.maxFrame}`, 0);
  }
}
