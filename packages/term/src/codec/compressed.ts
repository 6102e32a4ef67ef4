import { deflateSync, inflateSync, type ZlibOptions } from 'node:zlib';
import { EtfErrorCode, ProtocolError } from '../errors.js';
import { Tag, VERSION } from './tags.js';

/**
 * Tag 80: `term_to_binary(T, [compressed])`. Layout after the tag: UncompressedSize:32, then a
 * zlib stream of the tag and data of the term.
 *
 * In a browser build `node:zlib` is a stub that throws (transport-ws `browser/zlib-stub.ts`), so
 * a compressed term there is a ProtocolError (ETF_BAD_COMPRESSED) like any other bad input.
 */

/**
 * The most bytes one byte of a deflate stream can inflate to: a length/distance pair codes at most
 * 258 bytes in no fewer than 2 bits. A declared size past this many times the bytes that follow it
 * cannot be honest, and is refused before the output buffer exists.
 */
export const MAX_INFLATE_RATIO = 1032;

interface InflateResult {
  buffer: Buffer;
  engine: { bytesWritten: number };
}

/**
 * Inflate the zlib stream at the start of `src` into exactly `size` bytes. Returns the output and
 * how many bytes of `src` the stream occupied (anything after it belongs to the caller).
 *
 * zlib writes into one output buffer of `size + 1` bytes (`chunkSize`), allocated once: a stream
 * that would inflate past `size` fills the spare byte and stops there (`maxOutputLength`), one
 * that ends short leaves the output smaller; both are errors. Nothing beyond `size + 1` bytes is
 * ever allocated for the output, and it is not copied once inflated.
 */
export function inflateTerm(src: Uint8Array, size: number, at: number): { data: Uint8Array; consumed: number } {
  let result: InflateResult;
  try {
    const options: ZlibOptions & { info: true } = { chunkSize: Math.max(64, size + 1), maxOutputLength: size, info: true };
    result = inflateSync(src, options) as unknown as InflateResult;
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (code === 'Z_BUF_ERROR') throw new ProtocolError(EtfErrorCode.TRUNCATED, 'input ends inside compressed term', at, { cause: err });
    if (code === 'ERR_BUFFER_TOO_LARGE') {
      throw new ProtocolError(EtfErrorCode.BAD_COMPRESSED, `compressed term inflates past its declared ${size} bytes`, at, { cause: err });
    }
    throw new ProtocolError(EtfErrorCode.BAD_COMPRESSED, `compressed term is not a valid zlib stream: ${(err as Error).message}`, at, { cause: err });
  }
  const data = result.buffer;
  if (data.length !== size) {
    throw new ProtocolError(EtfErrorCode.BAD_COMPRESSED, `compressed term inflates to ${data.length} bytes, declared ${size}`, at);
  }
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), consumed: result.engine.bytesWritten };
}

/** zlib level OTP uses for `[compressed]`. */
export const DEFAULT_COMPRESSION_LEVEL = 6;

/**
 * Compress an encoded term (`plain` starts with the version byte 131). Like OTP, returns `plain`
 * itself when the compressed form would not be smaller.
 */
export function compressTerm(plain: Uint8Array, level: number): Uint8Array {
  const body = plain.subarray(1);
  const deflated = deflateSync(body, { level });
  const total = 6 + deflated.length;
  if (total >= plain.length) return plain;
  const out = new Uint8Array(total);
  out[0] = VERSION;
  out[1] = Tag.COMPRESSED;
  new DataView(out.buffer).setUint32(2, body.length);
  out.set(deflated, 6);
  return out;
}
