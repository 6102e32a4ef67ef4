import { Tag, type Encoder } from 'cbor-x';

/**
 * Binaries of at least this many bytes go out by reference: their bytes are written as chunks of
 * their own (writev), not copied into the encoder's buffer. erl-dist's
 * DEFAULT_SEND_BY_REFERENCE_MIN: below it a copy costs less than a chunk of its own.
 */
export const SEND_BY_REFERENCE_MIN = 4 * 1024;

/**
 * Counts the binaries of {@link SEND_BY_REFERENCE_MIN}+ bytes the value mappings
 * (toCourier/toPerl, style cbor) let through since the writer last read it, so that a packet
 * with none (nearly all) is encoded in one piece without a second walk.
 */
export const largeBinaries = { count: 0 };

const MAJOR_BYTES = 2;
const MAJOR_ARRAY = 4;
const MAJOR_MAP = 5;
const MAJOR_TAG = 6;

/** A CBOR head: major type and argument, in the shortest form (as cbor-x writes them). */
export function cborHead(major: number, n: number): Uint8Array {
  const m = major << 5;
  if (n < 24) return Uint8Array.of(m | n);
  if (n < 0x100) return Uint8Array.of(m | 24, n);
  if (n < 0x1_0000) return Uint8Array.of(m | 25, n >> 8, n & 0xff);
  if (n < 0x1_0000_0000) return Uint8Array.of(m | 26, n >>> 24, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff);
  const hi = Math.floor(n / 0x1_0000_0000);
  return Uint8Array.of(m | 27, hi >>> 24, (hi >> 16) & 0xff, (hi >> 8) & 0xff, hi & 0xff, n >>> 24, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff);
}

/**
 * `value` as CBOR (what `encoder.encode(value)` writes, item for item) in chunks: each binary of
 * `min`+ bytes is a chunk of its own — the binary itself, not a copy — after its head; what lies
 * between two such binaries is one chunk. Containers holding none are encoded whole by cbor-x.
 */
export function encodeSpliced(encoder: Encoder, value: unknown, min = SEND_BY_REFERENCE_MIN): Uint8Array[] {
  const out: Uint8Array[] = [];
  let pieces: Uint8Array[] = [];
  const flushPieces = (): void => {
    if (pieces.length > 0) out.push(pieces.length === 1 ? (pieces[0] as Uint8Array) : Buffer.concat(pieces));
    pieces = [];
  };
  const walk = (v: unknown): void => {
    if (v instanceof Uint8Array && v.length >= min) {
      pieces.push(cborHead(MAJOR_BYTES, v.length));
      flushPieces();
      out.push(v);
    } else if (!holdsLarge(v, min)) {
      pieces.push(encoder.encode(v));
    } else if (Array.isArray(v)) {
      pieces.push(cborHead(MAJOR_ARRAY, v.length));
      for (const x of v) walk(x);
    } else if (v instanceof Tag) {
      pieces.push(cborHead(MAJOR_TAG, v.tag));
      walk(v.value);
    } else {
      const o = v as Record<string, unknown>;
      const keys = Object.keys(o);
      pieces.push(cborHead(MAJOR_MAP, keys.length));
      for (const k of keys) {
        pieces.push(encoder.encode(k));
        walk(o[k]);
      }
    }
  };
  walk(value);
  flushPieces();
  return out;
}

/** Whether a wire value holds a binary of `min`+ bytes (in arrays, tags and plain objects, as the mappings make them). */
function holdsLarge(v: unknown, min: number): boolean {
  if (typeof v !== 'object' || v === null) return false;
  if (v instanceof Uint8Array) return v.length >= min;
  if (Array.isArray(v)) return v.some((x) => holdsLarge(x, min));
  if (v instanceof Tag) return holdsLarge(v.value, min);
  if (Object.getPrototypeOf(v) !== Object.prototype && Object.getPrototypeOf(v) !== null) return false;
  for (const k of Object.keys(v)) if (holdsLarge((v as Record<string, unknown>)[k], min)) return true;
  return false;
}
