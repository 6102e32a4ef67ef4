import { ProtocolError } from '@courier/core';

const EMPTY = new Uint8Array(0);

/**
 * Splits a byte stream into self-delimiting items (JSON texts, CBOR items), incrementally. Chunks
 * are kept in a list as received; a subclass's `scan` walks each byte once, keeping its state
 * between calls, and says where an item ends. An item lying inside one chunk comes out as a view
 * of it; one spanning chunks is copied once. Nothing is ever scanned twice.
 */
export abstract class StreamSplitter {
  private chunks: Uint8Array[] = [];
  /** Chunk index and offset where the current item starts. */
  private head = 0;
  private start = 0;
  /** Chunk index and offset of the next byte to scan. */
  private ci = 0;
  private off = 0;
  /** Bytes of the current item in the chunks before `ci`. */
  private before = 0;
  /** Stream offset of the current item's first byte, for error reports. */
  protected itemOffset = 0;
  /** Where the item {@link nextSpan} found lies (see there). */
  spanBytes: Uint8Array = EMPTY;
  spanStart = 0;
  spanEnd = 0;

  constructor(readonly maxItemBytes: number) {}

  /** Bytes received and not yet returned in an item. */
  get pending(): number {
    let n = -this.start;
    for (let i = this.head; i < this.chunks.length; i++) n += (this.chunks[i] as Uint8Array).length;
    return n;
  }

  /** Feeds received bytes (kept as they came, never copied here). */
  push(chunk: Uint8Array): void {
    if (chunk.length > 0) this.chunks.push(chunk);
  }

  /** The next whole item, or undefined until more bytes arrive. Throws ProtocolError on bad input. */
  next(): Uint8Array | undefined {
    if (!this.nextSpan()) return undefined;
    const item = this.spanBytes.subarray(this.spanStart, this.spanEnd);
    this.spanBytes = EMPTY;
    return item;
  }

  /**
   * Like {@link next} without making a view: true when an item is found, which is then bytes
   * `spanStart` to `spanEnd` of `spanBytes` — the chunk it lies in, or its one copy when it
   * spans chunks. Consecutive items of one chunk share `spanBytes`, so a reader can decode
   * them with one call.
   */
  nextSpan(): boolean {
    while (this.ci < this.chunks.length) {
      const c = this.chunks[this.ci] as Uint8Array;
      const end = this.scan(c, this.off);
      if (end >= 0) {
        this.cut(end);
        return true;
      }
      this.before += c.length - (this.ci === this.head ? this.start : 0);
      if (this.before > this.maxItemBytes) this.tooLarge(this.before);
      this.ci++;
      this.off = 0;
    }
    return false;
  }

  /**
   * Scan `c` from `from`; the offset just past the item's last byte, or -1 when the item goes on
   * past this chunk. The scanner keeps its own state between calls and resets it at an item end.
   */
  protected abstract scan(c: Uint8Array, from: number): number;

  /** Fails the stream: an item passed `maxItemBytes` (a ProtocolError, before the item is buffered whole). */
  protected tooLarge(n: number): never {
    throw new ProtocolError('ITEM_TOO_LARGE', `an item of ${n}+ bytes exceeds the limit of ${this.maxItemBytes}`, this.itemOffset);
  }

  private cut(end: number): void {
    const c = this.chunks[this.ci] as Uint8Array;
    let length: number;
    if (this.ci === this.head) {
      this.spanBytes = c;
      this.spanStart = this.start;
      this.spanEnd = end;
      length = end - this.start;
    } else {
      const total = this.before + end;
      if (total > this.maxItemBytes) this.tooLarge(total);
      const item = Buffer.allocUnsafe(total);
      let at = 0;
      for (let i = this.head; i <= this.ci; i++) {
        const part = this.chunks[i] as Uint8Array;
        const from = i === this.head ? this.start : 0;
        const to = i === this.ci ? end : part.length;
        item.set(part.subarray(from, to), at);
        at += to - from;
        if (i < this.ci) this.chunks[i] = EMPTY;
      }
      this.spanBytes = item;
      this.spanStart = 0;
      this.spanEnd = length = total;
    }
    this.itemOffset += length;
    this.before = 0;
    if (end === c.length) {
      this.chunks[this.ci] = EMPTY;
      this.ci++;
      this.off = 0;
    } else {
      this.off = end;
    }
    this.head = this.ci;
    this.start = this.off;
    this.compact();
  }

  private compact(): void {
    if (this.head === this.chunks.length) {
      this.chunks = [];
      this.head = this.ci = 0;
    } else if (this.head >= 64 && this.head * 2 >= this.chunks.length) {
      this.chunks = this.chunks.slice(this.head);
      this.ci -= this.head;
      this.head = 0;
    }
  }
}
