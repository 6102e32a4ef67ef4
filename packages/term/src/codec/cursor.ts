import { EtfErrorCode, ProtocolError } from '../errors.js';
import { POOLED_MAX, copyOut, pins } from './binary-copy.js';
import { HeapCost } from './heap-cost.js';
import { HEAP_PER_TERM_BYTE, type DecodeLimits } from './limits.js';

const F64 = new Float64Array(1);
const F64_BYTES = new Uint8Array(F64.buffer);
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * A read position over one input buffer. Integers are assembled from bytes; floats through a
 * shared 8-byte scratch (a DataView per decode cost ~100 ns, as much as decoding a lone float
 * otherwise: bench/codec). Every read checks bounds first and reports a
 * shortfall as `ETF_TRUNCATED` at the offset where the missing bytes begin.
 */
export class Cursor {
  readonly buf: Uint8Array;
  readonly end: number;
  readonly limits: DecodeLimits;
  pos: number;
  /** Bytes of heap this decode may still create (maxHeapBytes less what the cost model charged). */
  heapLeft: number;

  constructor(buf: Uint8Array, pos: number, end: number, limits: DecodeLimits, heapLeft: number = limits.maxHeapBytes) {
    this.buf = buf;
    this.pos = pos;
    this.end = end;
    this.limits = limits;
    this.heapLeft = heapLeft;
  }

  /** Take `bytes` from the heap budget before allocating them; the term starting at `at` is refused past it. */
  charge(bytes: number, at: number): void {
    if ((this.heapLeft -= bytes) < 0) this.overBudget(at);
  }

  overBudget(at: number): never {
    const max = this.limits.maxHeapBytes;
    return this.fail(
      EtfErrorCode.LIMIT,
      `decoding this term would take more than maxHeapBytes (${max}) of heap: raise DecodeOptions.maxHeapBytes ` +
        `(default ${HEAP_PER_TERM_BYTE} × maxTermBytes + 1 MiB; on a distribution connection, raise its maxMessage, which sets maxTermBytes)`,
      at,
    );
  }

  fail(code: string, message: string, at: number = this.pos): never {
    throw new ProtocolError(code, message, at);
  }

  /** Ensure `n` more bytes are present. */
  need(n: number, what: string): void {
    if (n > this.end - this.pos) {
      this.fail(EtfErrorCode.TRUNCATED, `input ends inside ${what}: ${n} bytes needed, ${this.end - this.pos} left`);
    }
  }

  u8(what: string): number {
    if (this.pos >= this.end) this.need(1, what);
    return this.buf[this.pos++] as number;
  }

  u16(what: string): number {
    this.need(2, what);
    const { buf, pos } = this;
    this.pos = pos + 2;
    return ((buf[pos] as number) << 8) | (buf[pos + 1] as number);
  }

  /** Signed 32-bit big-endian. */
  i32(what: string): number {
    this.need(4, what);
    const { buf, pos } = this;
    this.pos = pos + 4;
    return ((buf[pos] as number) << 24) | ((buf[pos + 1] as number) << 16) | ((buf[pos + 2] as number) << 8) | (buf[pos + 3] as number);
  }

  u32(what: string): number {
    return this.i32(what) >>> 0;
  }

  f64(what: string): number {
    this.need(8, what);
    const { buf, pos } = this;
    this.pos = pos + 8;
    // IEEE 754 big-endian on the wire, into the scratch in the host's order.
    if (LITTLE_ENDIAN) for (let i = 0; i < 8; i++) F64_BYTES[i] = buf[pos + 7 - i] as number;
    else for (let i = 0; i < 8; i++) F64_BYTES[i] = buf[pos + i] as number;
    return F64[0] as number;
  }

  /** An unsigned 64-bit big-endian integer: a number when safe, else a bigint. */
  u64(what: string): number | bigint {
    const hi = this.u32(what);
    const lo = this.u32(what);
    return hi < 0x200000 ? hi * 0x1_0000_0000 + lo : (BigInt(hi) << 32n) | BigInt(lo);
  }

  /**
   * `n` bytes as a view into the input, or a copy with `copyBinaries` (or `copy`), or with
   * `copySmallBinaries` when they are a small share of the input's buffer (binary-copy.ts) or
   * always with `inputReused`;
   * charged to the heap budget. A copy is a buffer of its own unless `copySmallBinaries` chose it.
   */
  bytes(n: number, what: string, copy: boolean = this.limits.copyBinaries): Uint8Array {
    this.need(n, what);
    const start = this.pos;
    this.pos += n;
    if (copy) {
      this.charge(HeapCost.BINARY + HeapCost.BINARY_COPY + n, start);
      return copyOut(this.buf, start, n, false);
    }
    if (this.limits.inputReused || (this.limits.copySmallBinaries && pins(this.buf, n))) {
      const pooled = n <= POOLED_MAX;
      this.charge(pooled ? HeapCost.BINARY + n : HeapCost.BINARY + HeapCost.BINARY_COPY + n, start);
      return copyOut(this.buf, start, n, pooled);
    }
    this.charge(HeapCost.BINARY, start);
    return this.buf.subarray(start, start + n);
  }
}
