import { EtfErrorCode, ProtocolError } from '../errors.js';
import type { DecodeLimits } from './limits.js';

/**
 * A read position over one input buffer with a cached DataView. Every read checks bounds first
 * and reports a shortfall as `ETF_TRUNCATED` at the offset where the missing bytes begin.
 */
export class Cursor {
  readonly buf: Uint8Array;
  readonly view: DataView;
  readonly end: number;
  readonly limits: DecodeLimits;
  pos: number;

  constructor(buf: Uint8Array, pos: number, end: number, limits: DecodeLimits) {
    this.buf = buf;
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    this.pos = pos;
    this.end = end;
    this.limits = limits;
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
    const v = this.view.getUint16(this.pos);
    this.pos += 2;
    return v;
  }

  u32(what: string): number {
    this.need(4, what);
    const v = this.view.getUint32(this.pos);
    this.pos += 4;
    return v;
  }

  i32(what: string): number {
    this.need(4, what);
    const v = this.view.getInt32(this.pos);
    this.pos += 4;
    return v;
  }

  f64(what: string): number {
    this.need(8, what);
    const v = this.view.getFloat64(this.pos);
    this.pos += 8;
    return v;
  }

  /** An unsigned 64-bit big-endian integer: a number when safe, else a bigint. */
  u64(what: string): number | bigint {
    this.need(8, what);
    const hi = this.view.getUint32(this.pos);
    const lo = this.view.getUint32(this.pos + 4);
    this.pos += 8;
    return hi < 0x200000 ? hi * 0x1_0000_0000 + lo : (BigInt(hi) << 32n) | BigInt(lo);
  }

  /** `n` bytes as a view into the input, or a copy with `copyBinaries`. */
  bytes(n: number, what: string, copy: boolean = this.limits.copyBinaries): Uint8Array {
    this.need(n, what);
    const start = this.pos;
    this.pos += n;
    return copy ? this.buf.slice(start, start + n) : this.buf.subarray(start, start + n);
  }
}
