const INITIAL_CAPACITY = 256;
/** {@link WriteBuffer.take} hands its buffer over, rather than copying, from this size up. */
const TAKE_MIN = 64 * 1024;
/** {@link WriteBuffer.take} does not keep a buffer larger than this for the next message. */
const RETAIN_MAX = 1024 * 1024;
/** The buffer of a WriteBuffer whose last large buffer was handed over; the next write allocates. */
const EMPTY = new Uint8Array(0);
/** Buffers {@link WriteBuffer.recycle} keeps for reuse: two let one be written while the next is encoded. */
const SPARES = 2;

// Small results are carved out of a shared slab, as Node's Buffer pool does: a fresh ArrayBuffer
// per 80-byte message costs more than encoding the message.
const SLAB_SIZE = 16 * 1024;
const SLAB_MAX = 2 * 1024;
let slab = new ArrayBuffer(SLAB_SIZE);
let slabUsed = 0;

/** A copy of `src` in memory the caller owns (possibly a view into a shared slab). */
function copyOut(src: Uint8Array): Uint8Array {
  const n = src.length;
  if (n > SLAB_MAX) return src.slice();
  if (slabUsed + n > SLAB_SIZE) {
    slab = new ArrayBuffer(SLAB_SIZE);
    slabUsed = 0;
  }
  const out = new Uint8Array(slab, slabUsed, n);
  out.set(src);
  slabUsed = (slabUsed + n + 7) & ~7;
  return out;
}

/** Push `src[from, at)` (when not empty), then `ref`, onto `out`; returns `at`. */
function interleave(out: Uint8Array[], src: Uint8Array, from: number, at: number, ref: Uint8Array): number {
  if (at > from) out.push(src.subarray(from, at));
  out.push(ref);
  return at;
}

/**
 * One growable output buffer, reused message after message: `reset()` rewinds it, writes grow
 * it by doubling (so a long-lived buffer stops allocating once it fits the largest message).
 */
export class WriteBuffer {
  protected buf: Uint8Array;
  protected dv: DataView;
  protected pos = 0;
  /** The capacity to allocate at the next growth after a large buffer was handed over by `take()`. */
  private hint = 0;
  /** Buffers handed back by {@link recycle} (at most SPARES), used at the next growth instead of fresh allocations. */
  private readonly spares: Uint8Array[] = [];
  private readonly initialCapacity: number;
  /** A decaying peak of the sizes `take()` returned: what the buffer is cut back to, never below the initial capacity. */
  private recent = 0;
  /**
   * Binaries written by reference ({@link reference}) rather than copied: `refs[i]` comes right
   * after the buffer's first `refAt[i]` bytes. `refBytes` is their total length.
   */
  private readonly refs: Uint8Array[] = [];
  private readonly refAt: number[] = [];
  private refBytes = 0;

  constructor(initialCapacity: number = INITIAL_CAPACITY) {
    this.initialCapacity = initialCapacity;
    this.buf = new Uint8Array(initialCapacity);
    this.dv = new DataView(this.buf.buffer);
  }

  /** Bytes written into the buffer since the last reset (referenced binaries not counted: see {@link referencedBytes}). */
  get length(): number {
    return this.pos;
  }

  /** Bytes of the binaries referenced, not copied, since the last reset: the message is `length` + this long. */
  get referencedBytes(): number {
    return this.refBytes;
  }

  /**
   * Put `bytes` at the current position without copying them: they go out as their own chunk
   * between the buffer's bytes before and after (see {@link takeChunks}). The caller must not
   * change them until they are written.
   */
  protected reference(bytes: Uint8Array): void {
    this.refs.push(bytes);
    this.refAt.push(this.pos);
    this.refBytes += bytes.length;
  }

  /** Forget the references placed after the buffer's first `at` bytes. */
  private dropRefsAfter(at: number): void {
    const { refAt, refs } = this;
    let i = refAt.length;
    while (i > 0 && (refAt[i - 1] as number) > at) {
      i--;
      this.refBytes -= (refs[i] as Uint8Array).length;
    }
    refAt.length = i;
    refs.length = i;
  }

  /** Current capacity; grows as needed. */
  get capacity(): number {
    return this.buf.length;
  }

  /** Start a new message; keeps the allocated buffer. */
  reset(): void {
    this.pos = 0;
    if (this.refs.length > 0) {
      this.refs.length = 0;
      this.refAt.length = 0;
      this.refBytes = 0;
    }
  }

  /**
   * Drop what was written after `length` (a frame abandoned halfway: its encoding threw), so
   * that no byte of it is ever handed out.
   */
  truncate(length: number): void {
    if (length < this.pos) this.pos = Math.max(0, length);
    if (this.refs.length > 0) this.dropRefsAfter(this.pos);
  }

  /**
   * A copy of the bytes written since the last reset; the buffer stays reusable. Small copies
   * share a slab ArrayBuffer (mind `byteOffset` when wrapping `.buffer`).
   */
  finish(): Uint8Array {
    return this.refs.length > 0 ? this.joined(0) : copyOut(this.buf.subarray(0, this.pos));
  }

  /**
   * A view of the bytes written since the last reset, without copying. It is overwritten by the
   * next write after `reset()`, so use it before then (e.g. hash it, or copy it into a socket).
   */
  subarray(): Uint8Array {
    return this.refs.length > 0 ? this.joined(0) : this.buf.subarray(0, this.pos);
  }

  /**
   * The bytes written, owned by the caller, and a reset. A large message that fills most of the
   * buffer is handed over without a copy (the buffer is replaced); an oversized buffer is dropped.
   */
  take(): Uint8Array {
    if (this.refs.length > 0) {
      const out = this.joined(0);
      this.reset();
      return out;
    }
    const n = this.pos;
    this.pos = 0;
    if (n >= TAKE_MIN && n * 2 >= this.buf.length) {
      const out = this.buf.subarray(0, n);
      // The next write allocates a buffer for a message of this size (up to 4 × RETAIN_MAX), so
      // that a stream of large messages does not regrow from the initial capacity, copying at every
      // doubling: a message as large as the last is written into one buffer, allocated once.
      this.hint = Math.min(n + (n >> 3), 4 * RETAIN_MAX);
      this.buf = EMPTY;
      this.dv = new DataView(EMPTY.buffer);
      return out;
    }
    const out = copyOut(this.buf.subarray(0, n));
    // Cut an oversized buffer back to what recent messages needed (not to a constant: a stream of
    // 600 KiB messages must not regrow its buffer from scratch for every one).
    this.recent = Math.max(n, this.recent - (this.recent >> 3));
    if (this.buf.length > RETAIN_MAX && this.buf.length > 2 * this.recent) this.replace(Math.max(this.initialCapacity, this.recent + (this.recent >> 3)));
    return out;
  }

  /** A copy of the bytes written from `start` on (owned by the caller), which are then dropped from the buffer. */
  takeFrom(start: number): Uint8Array {
    const out = this.refs.length > 0 ? this.joined(start) : copyOut(this.buf.subarray(start, this.pos));
    this.truncate(start);
    return out;
  }

  /**
   * The bytes written, as chunks owned by the caller, and a reset: views of the buffer (handed
   * over or copied as by {@link take}) with the referenced binaries between them, in order. The
   * chunks of the buffer's first `split` bytes (and the binaries referenced among them) are in
   * `head`, the rest in `tail`. `source` is the buffer the views are of (for {@link recycle}).
   */
  takeChunks(split = 0): { head: Uint8Array[]; tail: Uint8Array[]; source: Uint8Array } {
    const refs = this.refs.splice(0);
    const refAt = this.refAt.splice(0);
    this.refBytes = 0;
    const n = this.pos;
    const source = this.take();
    const head: Uint8Array[] = [];
    const tail: Uint8Array[] = [];
    let p = 0;
    let i = 0;
    for (; i < refs.length && (refAt[i] as number) <= split; i++) p = interleave(head, source, p, refAt[i] as number, refs[i] as Uint8Array);
    if (split > p) head.push(source.subarray(p, split));
    p = Math.max(p, split);
    for (; i < refs.length; i++) p = interleave(tail, source, p, refAt[i] as number, refs[i] as Uint8Array);
    if (n > p) tail.push(source.subarray(p, n));
    return { head, tail, source };
  }

  /** {@link takeFrom} as chunks: a copy of the buffer's bytes from `start` on, cut around the binaries referenced there. */
  takeChunksFrom(start: number): Uint8Array[] {
    const copy = copyOut(this.buf.subarray(start, this.pos));
    const out: Uint8Array[] = [];
    let p = 0;
    for (let i = 0; i < this.refs.length; i++) {
      const at = this.refAt[i] as number;
      if (at > start) p = interleave(out, copy, p, at - start, this.refs[i] as Uint8Array);
    }
    if (copy.length > p) out.push(copy.subarray(p));
    this.truncate(start);
    return out;
  }

  /** The bytes from `start` on with the referenced binaries copied in: one new array. */
  private joined(start: number): Uint8Array {
    let total = this.pos - start;
    for (let i = 0; i < this.refs.length; i++) if ((this.refAt[i] as number) > start) total += (this.refs[i] as Uint8Array).length;
    const out = new Uint8Array(total);
    let p = start;
    let o = 0;
    for (let i = 0; i < this.refs.length; i++) {
      const at = this.refAt[i] as number;
      if (at <= start) continue;
      out.set(this.buf.subarray(p, at), o);
      o += at - p;
      p = at;
      const r = this.refs[i] as Uint8Array;
      out.set(r, o);
      o += r.length;
    }
    out.set(this.buf.subarray(p, this.pos), o);
    return out;
  }

  /**
   * Give back a large buffer that `take()` handed over, once nothing reads it any more (its bytes
   * were written to the socket): the next large message is encoded into it instead of into fresh
   * memory, which the kernel would have to fault in page by page. At most SPARES buffers of at
   * most 4 × RETAIN_MAX bytes are kept.
   */
  recycle(bytes: Uint8Array): void {
    if (bytes.byteOffset !== 0 || this.spares.length >= SPARES) return;
    const whole = new Uint8Array(bytes.buffer);
    if (whole.length > 4 * RETAIN_MAX || whole === this.buf || this.spares.includes(whole)) return;
    this.spares.push(whole);
  }

  private replace(capacity: number): void {
    const i = this.spares.findIndex((b) => b.length >= capacity);
    const next = i >= 0 ? (this.spares.splice(i, 1)[0] as Uint8Array) : new Uint8Array(capacity);
    next.set(this.buf.subarray(0, Math.min(this.pos, capacity)));
    this.buf = next;
    this.dv = new DataView(next.buffer);
  }

  /** Make room for `n` more bytes. */
  ensure(n: number): void {
    const need = this.pos + n;
    if (need <= this.buf.length) return;
    // An eighth to spare: the bytes after a large binary fit without doubling (and copying) it.
    this.replace(Math.max(this.buf.length * 2, this.hint, need + (need >> 3)));
  }

  /** Appends one byte. */
  writeUint8(v: number): void {
    this.ensure(1);
    this.buf[this.pos++] = v;
  }

  /** Appends an unsigned 16-bit integer, big-endian (network order, as the external term format). */
  writeUint16(v: number): void {
    this.ensure(2);
    this.dv.setUint16(this.pos, v);
    this.pos += 2;
  }

  /** Appends an unsigned 32-bit integer, big-endian. */
  writeUint32(v: number): void {
    this.ensure(4);
    this.dv.setUint32(this.pos, v);
    this.pos += 4;
  }

  /** Appends a signed 32-bit integer, big-endian. */
  writeInt32(v: number): void {
    this.ensure(4);
    this.dv.setInt32(this.pos, v);
    this.pos += 4;
  }

  /** Appends an IEEE 754 double, big-endian (the payload of NEW_FLOAT_EXT). */
  writeFloat64(v: number): void {
    this.ensure(8);
    this.dv.setFloat64(this.pos, v);
    this.pos += 8;
  }

  /** Appends raw bytes, growing the buffer if needed. */
  writeBytes(bytes: Uint8Array): void {
    const n = bytes.length;
    this.ensure(n);
    if (n <= 16) {
      const { buf } = this;
      const p = this.pos;
      for (let i = 0; i < n; i++) buf[p + i] = bytes[i] as number;
    } else {
      this.buf.set(bytes, this.pos);
    }
    this.pos += n;
  }

  /** Overwrite a 32-bit big-endian value written earlier (a length known only afterwards). */
  setUint32At(offset: number, v: number): void {
    this.dv.setUint32(offset, v);
  }
}
