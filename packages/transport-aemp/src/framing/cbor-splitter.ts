import { ProtocolError } from '@courier/core';
import { StreamSplitter } from './splitter.js';

const MAJOR_BYTES = 2;
const MAJOR_TEXT = 3;
const MAJOR_ARRAY = 4;
const MAJOR_MAP = 5;
const MAJOR_TAG = 6;
const MAJOR_SIMPLE = 7;
const INDEFINITE = 31;
const BREAK = 0xff;
/** A level waiting for a break byte rather than a count. */
const UNTIL_BREAK = -1;
export const DEFAULT_MAX_CBOR_DEPTH = 512;

/**
 * The `cbor` framing's splitter: CBOR items back to back with no length prefix, as CBOR::XS's
 * `incr_parse_multiple` reads them. Walks item heads only — string payloads are skipped by
 * count, not read — with an explicit stack of items still owed at each nesting level, so a deep
 * item costs no recursion and a split head or payload resumes where it stopped. A declared
 * length past the limit fails before anything is kept. Top-level items must be arrays.
 */
export class CborSplitter extends StreamSplitter {
  /** Items still owed per open level (arrays, maps, tags, indefinite strings). */
  private readonly stack: number[] = [];
  /** Head bytes still to read for the current argument, and the value so far. */
  private headLeft = 0;
  private headMajor = 0;
  private headValue = 0;
  /** Payload bytes of a string still to skip. */
  private skip = 0;
  /** Bytes scanned in the current item (for the early size check). */
  private seen = 0;
  private top = true;

  constructor(
    maxItemBytes: number,
    readonly maxDepth = DEFAULT_MAX_CBOR_DEPTH,
  ) {
    super(maxItemBytes);
  }

  protected scan(c: Uint8Array, from: number): number {
    let i = from;
    while (i < c.length) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, c.length - i);
        this.skip -= n;
        i += n;
        if (this.skip > 0) break;
        if (this.itemDone()) return this.end(i);
        continue;
      }
      if (this.headLeft > 0) {
        // Argument bytes, big-endian; values past 2^53 only matter as lengths, which the limit rejects.
        this.headValue = this.headValue * 256 + (c[i++] as number);
        if (--this.headLeft > 0) continue;
        if (this.argument(this.headMajor, this.headValue)) return this.end(i);
        continue;
      }
      const b = c[i++] as number;
      const major = b >> 5;
      const info = b & 0x1f;
      if (this.top) {
        if (major !== MAJOR_ARRAY) throw new ProtocolError('CBOR_NOT_ARRAY', `a packet must be a CBOR array; found major type ${major}`, this.itemOffset);
        this.top = false;
      }
      if (b === BREAK) {
        if (this.stack[this.stack.length - 1] !== UNTIL_BREAK) throw new ProtocolError('CBOR_BAD_BREAK', 'a break byte outside an indefinite-length item', this.itemOffset);
        this.stack.pop();
        if (this.itemDone()) return this.end(i);
        continue;
      }
      if (info < 24) {
        if (this.argument(major, info)) return this.end(i);
      } else if (info <= 27) {
        this.headMajor = major;
        this.headValue = 0;
        this.headLeft = 1 << (info - 24);
      } else if (info === INDEFINITE && major >= MAJOR_BYTES && major <= MAJOR_MAP) {
        this.open(UNTIL_BREAK);
      } else {
        throw new ProtocolError('CBOR_BAD_HEAD', `reserved additional information ${info} (major type ${major})`, this.itemOffset);
      }
    }
    this.seen += i - from;
    if (this.seen > this.maxItemBytes) this.tooLarge(this.seen);
    return -1;
  }

  /** A head is complete: what it opens or finishes. True when the top-level item is done. */
  private argument(major: number, value: number): boolean {
    switch (major) {
      case MAJOR_BYTES:
      case MAJOR_TEXT:
        if (value > this.maxItemBytes) this.tooLarge(value);
        if (value > 0) {
          this.skip = value;
          return false;
        }
        return this.itemDone();
      case MAJOR_ARRAY:
      case MAJOR_MAP: {
        const n = major === MAJOR_MAP ? value * 2 : value;
        if (n > this.maxItemBytes) this.tooLarge(n);
        if (n === 0) return this.itemDone();
        this.open(n);
        return false;
      }
      case MAJOR_TAG:
        this.open(1);
        return false;
      case MAJOR_SIMPLE:
      default:
        return this.itemDone();
    }
  }

  private open(owed: number): void {
    if (this.stack.length >= this.maxDepth) throw new ProtocolError('CBOR_TOO_DEEP', `CBOR nested deeper than ${this.maxDepth}`, this.itemOffset);
    this.stack.push(owed);
  }

  /** One item finished: close every level it completes. True when nothing is open any more. */
  private itemDone(): boolean {
    const s = this.stack;
    while (s.length > 0) {
      const k = s.length - 1;
      const owed = s[k] as number;
      if (owed === UNTIL_BREAK) return false;
      if (owed > 1) {
        s[k] = owed - 1;
        return false;
      }
      s.pop();
    }
    return true;
  }

  private end(i: number): number {
    this.seen = 0;
    this.top = true;
    return i;
  }
}
