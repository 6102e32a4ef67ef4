import { deflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { atom, decode, decodeTerm, encode, EtfErrorCode, MAX_INFLATE_RATIO, termEquals, tuple } from '@courier/term';
import { bytes, fromHex, protocolError } from '../support/bytes.js';
import { compressedFrame, listFrameOfSize, refusal, SHAPES } from '../support/hostile.js';

const MiB = 1024 * 1024;

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

  it(`refuses a declared size past ${MAX_INFLATE_RATIO}:1 of the bytes that follow, before inflating`, () => {
    // 100 bytes cannot inflate to 1 MiB: the input is short (truncated), and no 1 MiB buffer is made.
    const lie = bytes(131, 80, 0, 0x10, 0, 0, deflateSync(new Uint8Array(90)), new Uint8Array(100));
    const { err, growth } = refusal(() => decode(lie));
    expect(err.code).toBe(EtfErrorCode.TRUNCATED);
    expect(err.message).toMatch(/1048576 bytes need at least 1017 deflated bytes/);
    expect(growth).toBeLessThan(MiB / 2);
  });

  it('accepts what zlib really reaches: 64 MiB of zeros at level 9 (1029:1)', () => {
    const plain = new Uint8Array(64 * MiB - 64);
    plain.set([131, 109]);
    new DataView(plain.buffer).setUint32(2, plain.length - 6);
    const z = compressedFrame(plain);
    expect(z.length).toBeLessThan(66_000);
    expect((decode(z) as Uint8Array).length).toBe(plain.length - 6);
  });

  it('never inflates past the declared size: a 64 MiB stream declared as 1 MiB stops at 1 MiB', () => {
    const plain = new Uint8Array(64 * MiB);
    plain[0] = 131;
    plain[1] = 109;
    const z = compressedFrame(plain, MiB);
    const { err, growth } = refusal(() => decode(z));
    expect(err.code).toBe(EtfErrorCode.BAD_COMPRESSED);
    expect(err.message).toMatch(/inflates past its declared 1048576 bytes/);
    expect(growth).toBeLessThan(4 * MiB);
  });

  it('charges the inflated bytes and the terms inside to the heap budget: 64 MiB bombs in 65 KB', () => {
    // 64M NILs: the inflated 64 MiB, then the list's 512 MiB of slots refused before its array exists.
    const nils = compressedFrame(listFrameOfSize(SHAPES.NIL_EXT as (i: number) => number[], 64 * MiB));
    expect(nils.length).toBeLessThan(70_000);
    const t0 = performance.now();
    const { err, growth } = refusal(() => decode(nils));
    expect(err.code).toBe(EtfErrorCode.LIMIT);
    expect(err.message).toMatch(/inside compressed term: .*maxHeapBytes/);
    expect(growth).toBeLessThan(64 * MiB + 16 * MiB);
    expect(performance.now() - t0).toBeLessThan(5000);
    // 13M empty maps (3 GB of heap): refused once the budget is spent, the heap held to it.
    const maps = compressedFrame(listFrameOfSize(SHAPES['empty map'] as (i: number) => number[], 64 * MiB));
    const budget = 160 * MiB;
    const refused = refusal(() => decode(maps, { maxHeapBytes: budget }));
    expect(refused.err.code).toBe(EtfErrorCode.LIMIT);
    expect(refused.growth).toBeLessThan(budget + 16 * MiB);
    // A smaller budget refuses the inflated size itself, before inflating.
    const early = protocolError(() => decode(maps, { maxHeapBytes: 32 * MiB }));
    expect(early.code).toBe(EtfErrorCode.LIMIT);
    expect(early.message).not.toMatch(/inside compressed term/);
  });
});
