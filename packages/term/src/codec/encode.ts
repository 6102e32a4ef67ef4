import type { Term } from '../model/term.js';
import { compressTerm, DEFAULT_COMPRESSION_LEVEL } from './compressed.js';
import { DEFAULT_MAX_ENCODE_DEPTH, Encoder } from './encoder.js';

/** Options of {@link encode}: compression and the deepest nesting accepted. */
export interface EncodeOptions {
  /**
   * Compress like `term_to_binary(T, [compressed])` (tag 80): `true` for zlib level 6 as OTP,
   * or a level 1..9 (0 means no compression, as in OTP). The plain encoding is returned when
   * compressing does not make it smaller.
   */
  compressed?: boolean | number;
  /** Deepest nesting accepted, default {@link DEFAULT_MAX_ENCODE_DEPTH}; deeper means a cycle. */
  maxDepth?: number;
}

/** One encoder for `encode()`, lent out to one call at a time (a re-entrant call gets its own). */
let spare: Encoder | null = null;

/** Encode a term as a standalone external term: the version byte 131, then the term. */
export function encode(term: Term, opts?: EncodeOptions): Uint8Array {
  const enc = spare ?? new Encoder();
  spare = null;
  try {
    enc.reset();
    enc.maxDepth = opts?.maxDepth ?? DEFAULT_MAX_ENCODE_DEPTH;
    enc.writeVersion();
    enc.writeTerm(term);
    const level = compressionLevel(opts?.compressed);
    if (level === undefined) return enc.take();
    const plain = enc.subarray();
    const compressed = compressTerm(plain, level);
    return compressed === plain ? enc.take() : compressed;
  } finally {
    enc.reset();
    spare = enc;
  }
}

function compressionLevel(c: boolean | number | undefined): number | undefined {
  if (c === undefined || c === false || c === 0) return undefined;
  if (c === true) return DEFAULT_COMPRESSION_LEVEL;
  if (!Number.isInteger(c) || c < 0 || c > 9) throw new RangeError(`compression level ${c} is not 0..9`);
  return c;
}
