import { EtfErrorCode, ProtocolError } from '../errors.js';
import type { Term } from '../model/term.js';
import { inflateTerm, MAX_INFLATE_RATIO } from './compressed.js';
import { Decoder } from './decoder.js';
import { HeapCost } from './heap-cost.js';
import { resolveLimits, type DecodeLimits, type DecodeOptions } from './limits.js';
import { Tag, VERSION } from './tags.js';

/** A decoded term and the offset just past it. */
export interface Decoded {
  term: Term;
  end: number;
}

/**
 * Decode a standalone external term: the version byte 131, one term (possibly compressed, tag
 * 80), and nothing after it. Binaries in the result are views into `buf` unless
 * `opts.copyBinaries`. Bad input raises {@link ProtocolError}, never anything else.
 */
export function decode(buf: Uint8Array, opts?: DecodeOptions): Term {
  if (buf.length === 0) throw new ProtocolError(EtfErrorCode.TRUNCATED, 'empty input', 0);
  if (buf[0] !== VERSION) throw new ProtocolError(EtfErrorCode.BAD_VERSION, `version byte is ${buf[0]}, not ${VERSION}`, 0);
  const { term, end } = decodeAt(buf, 1, resolveLimits(opts));
  if (end !== buf.length) throw new ProtocolError(EtfErrorCode.TRAILING_BYTES, `${buf.length - end} bytes follow the term`, end);
  return term;
}

/**
 * Decode one term at `offset`, without a version byte, as terms follow a distribution header.
 * ATOM_CACHE_REF (82) is resolved through `opts.atomCache`. Bytes after the term are the caller's.
 * A compressed term (80) is accepted here too; `end` is then where its zlib stream ends.
 * Bad bytes raise {@link ProtocolError}; an offset outside `buf` is a RangeError (a caller bug).
 */
export function decodeTerm(buf: Uint8Array, offset: number, opts?: DecodeOptions): Decoded {
  return decodeTermWith(buf, offset, resolveLimits(opts));
}

/**
 * {@link decodeTerm} with options resolved once by {@link decodeLimits}: for a caller that decodes
 * message after message with the same options (a distribution session), which then does not
 * check and copy them at every call.
 */
export function decodeTermWith(buf: Uint8Array, offset: number, limits: DecodeLimits): Decoded {
  if (!Number.isInteger(offset) || offset < 0 || offset > buf.length) {
    throw new RangeError(`offset ${offset} is outside the buffer of ${buf.length} bytes`);
  }
  return decodeAt(buf, offset, limits);
}

function decodeAt(buf: Uint8Array, offset: number, limits: DecodeLimits): Decoded {
  if (buf.length - offset > limits.maxTermBytes) {
    throw new ProtocolError(EtfErrorCode.LIMIT, `input of ${buf.length - offset} bytes exceeds maxTermBytes ${limits.maxTermBytes}`, offset);
  }
  if (buf[offset] === Tag.COMPRESSED) return decodeCompressed(buf, offset, limits);
  const d = new Decoder(buf, offset, buf.length, limits);
  const term = d.term();
  return { term, end: d.pos };
}

/**
 * Tag 80: UncompressedSize:32, zlib stream of one term. Before anything is inflated, the declared
 * size is checked against maxTermBytes and against what the bytes after it could inflate to at
 * deflate's best ratio (fewer bytes than that are a truncated term), and the inflated buffer is
 * charged to the heap budget; inflating never writes past the declared size.
 */
function decodeCompressed(buf: Uint8Array, at: number, limits: DecodeLimits): Decoded {
  const c = new Decoder(buf, at + 1, buf.length, limits);
  const size = c.u32('compressed size');
  if (size > limits.maxTermBytes) c.fail(EtfErrorCode.LIMIT, `compressed term declares ${size} bytes, over maxTermBytes ${limits.maxTermBytes}`, at);
  if (size === 0) c.fail(EtfErrorCode.BAD_COMPRESSED, 'compressed term declares 0 bytes', at);
  const available = buf.length - c.pos;
  if (size > MAX_INFLATE_RATIO * available) {
    const needed = Math.ceil(size / MAX_INFLATE_RATIO);
    c.fail(EtfErrorCode.TRUNCATED, `input ends inside compressed term: ${size} bytes need at least ${needed} deflated bytes (${MAX_INFLATE_RATIO}:1), ${available} left`, at);
  }
  c.charge(HeapCost.BINARY_COPY + size, at);
  const { data, consumed } = inflateTerm(buf.subarray(c.pos), size, at);
  const inner = new Decoder(data, 0, data.length, limits, c.heapLeft);
  try {
    const term = inner.term();
    if (inner.pos !== data.length) inner.fail(EtfErrorCode.TRAILING_BYTES, `${data.length - inner.pos} bytes follow the term`);
    return { term, end: c.pos + consumed };
  } catch (err) {
    if (!(err instanceof ProtocolError)) throw err;
    throw new ProtocolError(err.code, `inside compressed term: ${err.message} of the inflated data`, at, { cause: err });
  }
}
