import { deflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { atom, decode, decodeTerm, encode, EtfErrorCode, termEquals, tuple } from '@courier/term';
import { bytes, fromHex, protocolError } from '../support/bytes.js';

/** 131, 80, UncompressedSize:32, zlib stream. */
function compressed(inner: Uint8Array, declared = inner.length, trailer: number[] = []): Uint8Array {
  const size = [declared >>> 24, (declared >>> 16) & 0xff, (declared >>> 8) & 0xff, declared & 0xff];
  return bytes(131, 80, size, deflateSync(inner), trailer);
}

describe('compressed terms (tag 80)', () => {
  const big = Array.from({ length: 100 }, (_, i) => tuple(atom('row'), i, 'some text'));

  it('encode compresses like term_to_binary(T, [compressed]) when that is smaller', () => {
    const plain = encode(big);
    const small = encode(big, { compressed: true });
    expect([...small.subarray(0, 2)]).toEqual([131, 80]);
    expect(new DataView(small.buffer, small.byteOffset).getUint32(2)).toBe(plain.length - 1);
    expect(small.length).toBeLessThan(plain.length);
    expect(termEquals(decode(small), big)).toBe(true);
    expect(termEquals(decode(encode(big, { compressed: 9 })), big)).toBe(true);
  });

  it('returns the plain encoding when compression does not pay, and for level 0', () => {
    expect([...encode(atom('ok'), { compressed: true })]).toEqual([...encode(atom('ok'))]);
    expect([...encode(big, { compressed: 0 })]).toEqual([...encode(big)]);
    expect(() => encode(1, { compressed: 10 })).toThrow(RangeError);
  });

  it('decodes OTP output (zlib bytes differ between builds, so only the term is compared)', () => {
    // term_to_binary(lists:duplicate(100, $a) ++ [256], [compressed]) on OTP 25.
    const otp = fromHex('8350000000d3789ccb616060484d1c262089818191210b0036cf4d67');
    expect(termEquals(decode(otp), [...'a'.repeat(100)].map((c) => c.charCodeAt(0)).concat([256]))).toBe(true);
  });

  it('decodeTerm accepts a compressed term and ends where its zlib stream ends', () => {
    const buf = compressed(bytes(97, 7), 2, [0xaa, 0xbb]).subarray(1);
    expect(decodeTerm(buf, 0)).toEqual({ term: 7, end: buf.length - 2 });
  });

  it('checks the declared size against maxTermBytes before inflating', () => {
    const bomb = compressed(new Uint8Array(1 << 20), 1 << 20);
    const err = protocolError(() => decode(bomb, { maxTermBytes: 1 << 16 }));
    expect(err.code).toBe(EtfErrorCode.LIMIT);
    expect(err.offset).toBe(1);
  });

  it('rejects a stream that inflates to more or fewer bytes than declared', () => {
    expect(protocolError(() => decode(compressed(bytes(97, 7), 1))).code).toBe(EtfErrorCode.BAD_COMPRESSED);
    expect(protocolError(() => decode(compressed(bytes(97, 7), 3))).code).toBe(EtfErrorCode.BAD_COMPRESSED);
    expect(protocolError(() => decode(compressed(bytes(97, 7), 0))).code).toBe(EtfErrorCode.BAD_COMPRESSED);
  });

  it('rejects corrupt zlib data, and trailing bytes inside or after the stream', () => {
    const good = compressed(bytes(97, 7));
    const corrupt = good.slice();
    corrupt[8] = (corrupt[8] as number) ^ 0xff;
    expect(protocolError(() => decode(corrupt)).code).toBe(EtfErrorCode.BAD_COMPRESSED);
    expect(protocolError(() => decode(bytes(131, 80, 0, 0, 0, 2, 1, 2, 3, 4))).code).toBe(EtfErrorCode.BAD_COMPRESSED);
    expect(protocolError(() => decode(compressed(bytes(97, 7, 0)))).code).toBe(EtfErrorCode.TRAILING_BYTES);
    expect(protocolError(() => decode(compressed(bytes(97, 7), 2, [0]))).code).toBe(EtfErrorCode.TRAILING_BYTES);
  });

  it('reports errors inside the compressed data at the offset of tag 80', () => {
    const err = protocolError(() => decode(compressed(bytes(104, 1, 7))));
    expect(err.code).toBe(EtfErrorCode.UNKNOWN_TAG);
    expect(err.offset).toBe(1);
    expect(err.message).toMatch(/inside compressed term: unknown tag 7 at byte 2/);
  });

  it('allows no compressed term inside a compressed term', () => {
    const inner = encode(big, { compressed: true }).subarray(1);
    expect(protocolError(() => decode(compressed(inner))).code).toBe(EtfErrorCode.UNSUPPORTED_TAG);
  });
});
