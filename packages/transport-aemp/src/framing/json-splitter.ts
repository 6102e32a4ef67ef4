import { ProtocolError } from '@courier/core';
import { StreamSplitter } from './splitter.js';

const QUOTE = 0x22; // "
const BACKSLASH = 0x5c;
const OPEN_ARRAY = 0x5b; // [
const CLOSE_ARRAY = 0x5d;
const OPEN_OBJECT = 0x7b; // {
const CLOSE_OBJECT = 0x7d;
/** A run of this many digits outside strings may be an integer past 2^53: decode it exactly. */
const LONG_DIGITS = 16;
export const DEFAULT_MAX_JSON_DEPTH = 512;

const isSpace = (b: number): boolean => b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;

/**
 * The `json` framing's splitter: JSON arrays written back to back, with no delimiter, as
 * JSON::XS's `incr_parse` reads them (whitespace between texts is allowed). Tracks nesting,
 * strings and escapes byte by byte across chunks; bytes are split before UTF-8 decoding, so a
 * character cut by a chunk boundary is whole in the item. Top-level texts must be arrays.
 * `longNumber` tells whether the last item held a digit run long enough to need exact decoding.
 */
export class JsonSplitter extends StreamSplitter {
  private depth = 0;
  private inString = false;
  private escaped = false;
  private digits = 0;
  private long = false;
  /** Whether the item returned last has a long digit run (`LONG_DIGITS`, 16 digits or more). */
  longNumber = false;

  constructor(
    maxItemBytes: number,
    readonly maxDepth = DEFAULT_MAX_JSON_DEPTH,
  ) {
    super(maxItemBytes);
  }

  protected scan(c: Uint8Array, from: number): number {
    let depth = this.depth;
    let inString = this.inString;
    let escaped = this.escaped;
    let digits = this.digits;
    for (let i = from; i < c.length; i++) {
      const b = c[i] as number;
      if (inString) {
        if (escaped) escaped = false;
        else if (b === BACKSLASH) escaped = true;
        else if (b === QUOTE) inString = false;
        continue;
      }
      if (b >= 0x30 && b <= 0x39) {
        if (depth === 0) this.bad(b, i - from);
        if (++digits === LONG_DIGITS) this.long = true;
        continue;
      }
      digits = 0;
      if (b === QUOTE) {
        if (depth === 0) this.bad(b, i - from);
        inString = true;
      } else if (b === OPEN_ARRAY || b === OPEN_OBJECT) {
        if (depth === 0 && b !== OPEN_ARRAY) this.bad(b, i - from);
        if (++depth > this.maxDepth) throw new ProtocolError('JSON_TOO_DEEP', `JSON nested deeper than ${this.maxDepth}`, this.itemOffset);
      } else if (b === CLOSE_ARRAY || b === CLOSE_OBJECT) {
        if (depth === 0) this.bad(b, i - from);
        if (--depth === 0) {
          this.depth = 0;
          this.inString = false;
          this.escaped = false;
          this.digits = 0;
          this.longNumber = this.long;
          this.long = false;
          return i + 1;
        }
      } else if (depth === 0 && !isSpace(b)) {
        this.bad(b, i - from);
      }
    }
    this.depth = depth;
    this.inString = inString;
    this.escaped = escaped;
    this.digits = digits;
    return -1;
  }

  private bad(b: number, at: number): never {
    throw new ProtocolError('JSON_NOT_ARRAY', `a packet must be a JSON array; found ${JSON.stringify(String.fromCharCode(b))} between packets`, this.itemOffset + at);
  }
}
