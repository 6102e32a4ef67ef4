import { describe, expect, it } from 'vitest';
import { atom, decode, DEFAULT_MAX_TERM_BYTES, encode, EtfErrorCode, HEAP_FLOOR, HEAP_PER_TERM_BYTE, tuple, type DecodeOptions, type Term } from '@courier/term';
import { Decoder } from '../../src/codec/decoder.js';
import { resolveLimits } from '../../src/codec/limits.js';
import { protocolError } from '../support/bytes.js';
import { atomCache, BOMB_SHAPES, listFrame, listFrameOfSize, refusal, retainedBytes, SHAPES } from '../support/hostile.js';

const MiB = 1024 * 1024;

/** What the cost model charges for decoding `buf` (a standalone term), and the term. */
function charged(buf: Uint8Array, opts: DecodeOptions): { bytes: number; term: Term } {
  const limits = resolveLimits({ ...opts, maxHeapBytes: Number.MAX_SAFE_INTEGER });
  const d = new Decoder(buf, 1, buf.length, limits);
  const term = d.term();
  return { bytes: limits.maxHeapBytes - d.heapLeft, term };
}

describe('the decode cost model against what V8 really takes', () => {
  const N = 100_000;
  it.each(Object.keys(SHAPES))('%s: the model is an upper bound, and not far above', (name) => {
    const frame = listFrame(SHAPES[name] as (i: number) => number[], N);
    const model = charged(frame, { atomCache }).bytes / N;
    decode(listFrame(SHAPES[name] as (i: number) => number[], 1000), { atomCache }); // warm up the JIT
    // The least of three measurements: code the JIT makes or a GC running late only ever adds.
    let bytes = Infinity;
    for (let i = 0; i < 3; i++) bytes = Math.min(bytes, retainedBytes(() => decode(frame, { atomCache, maxHeapBytes: Infinity })).bytes);
    const measured = bytes / N;
    // Per element, with 5% and 2 bytes of slack for the noise of a heap measurement (code the JIT makes meanwhile).
    expect(measured).toBeLessThanOrEqual(1.05 * model + 2);
    expect(model).toBeLessThanOrEqual(2.5 * Math.max(measured, 8));
  });
});

describe('the heap budget (maxHeapBytes)', () => {
  it(`defaults to ${HEAP_PER_TERM_BYTE} × maxTermBytes + 1 MiB, and must be a number ≥ 0`, () => {
    expect(resolveLimits(undefined).maxHeapBytes).toBe(HEAP_PER_TERM_BYTE * DEFAULT_MAX_TERM_BYTES + HEAP_FLOOR);
    expect(resolveLimits({ maxTermBytes: MiB }).maxHeapBytes).toBe(HEAP_PER_TERM_BYTE * MiB + HEAP_FLOOR);
    expect(resolveLimits({ maxTermBytes: MiB, maxHeapBytes: 5 }).maxHeapBytes).toBe(5);
    expect(() => decode(encode(1), { maxHeapBytes: -1 })).toThrow(RangeError);
    expect(() => decode(encode(1), { maxHeapBytes: Number.NaN })).toThrow(RangeError);
    expect(() => decode(encode(1), { maxDepth: '3' as unknown as number })).toThrow(RangeError);
  });

  it.each(BOMB_SHAPES)('a 2 MiB frame of %s trips it, naming the option, and the heap stays within it', (name) => {
    const frame = listFrameOfSize(SHAPES[name] as (i: number) => number[], 2 * MiB);
    const maxHeapBytes = 12 * MiB;
    const { err: pe, growth } = refusal(() => decode(frame, { atomCache, maxTermBytes: 2 * MiB, maxHeapBytes }));
    expect(pe.code).toBe(EtfErrorCode.LIMIT);
    expect(pe.message).toMatch(/maxHeapBytes \(12582912\).*raise DecodeOptions\.maxHeapBytes/);
    expect(growth).toBeLessThan(maxHeapBytes + 8 * MiB);
    // The budget, not the input, refused it: the whole frame is charged more.
    expect(charged(frame, { atomCache }).bytes).toBeGreaterThan(maxHeapBytes);
  });

  it('refuses a list announcing more slots than the budget before making its array', () => {
    const frame = listFrameOfSize(SHAPES.NIL_EXT as (i: number) => number[], DEFAULT_MAX_TERM_BYTES);
    const t0 = performance.now();
    const { err, growth } = refusal(() => decode(frame));
    expect(err.code).toBe(EtfErrorCode.LIMIT);
    expect(performance.now() - t0).toBeLessThan(500);
    expect(growth).toBeLessThan(8 * MiB);
  });

  it('charges map keys for their text: a key of 20,000 long atoms in 2,000 nested lists is linear, and a bigger one refused', () => {
    // #{[[…[A, A, …]…], 1]] => []}: building its key used to copy the atoms once per level.
    const key = (depth: number, atomsIn: number): number[] => {
      const p: number[] = [];
      for (let i = 0; i < depth; i++) p.push(108, 0, 0, 0, 2);
      p.push(108, atomsIn >>> 24, (atomsIn >>> 16) & 0xff, (atomsIn >>> 8) & 0xff, atomsIn & 0xff);
      for (let i = 0; i < atomsIn; i++) p.push(82, 0);
      p.push(106);
      for (let i = 0; i < depth; i++) p.push(97, 1, 106);
      return p;
    };
    const map = (k: number[]): Uint8Array => new Uint8Array([131, 116, 0, 0, 0, 1, ...k, 106]);
    const t0 = performance.now();
    expect(decode(map(key(2000, 20_000)), { atomCache })).toBeDefined();
    expect(performance.now() - t0).toBeLessThan(3000);
    // 1.1M atoms of 255 characters: a key of 290M characters, past the budget, and past what a
    // V8 string holds when the budget is raised.
    const huge = map(key(0, 1_100_000));
    expect(protocolError(() => decode(huge, { atomCache })).message).toMatch(/maxHeapBytes/);
    const err = protocolError(() => decode(huge, { atomCache, maxHeapBytes: 2 ** 31 }));
    expect(err.code).toBe(EtfErrorCode.LIMIT);
    expect(err.message).toMatch(/map key/);
  });

  it('bounds maps nested as keys of maps, whose key text is kept at every level', () => {
    // #{#{…#{[A × 1000] => []}… => []} => []}: every level keeps a key of 260,000 characters.
    const nested = (levels: number): Uint8Array => {
      const p: number[] = [131];
      for (let i = 0; i < levels; i++) p.push(116, 0, 0, 0, 1);
      p.push(108, 0, 0, 0x03, 0xe8);
      for (let i = 0; i < 1000; i++) p.push(82, 0);
      p.push(106);
      for (let i = 0; i < levels; i++) p.push(106);
      return new Uint8Array(p);
    };
    expect(decode(nested(50), { atomCache })).toBeDefined();
    const { err, growth } = refusal(() => decode(nested(2000), { atomCache, maxHeapBytes: 64 * MiB }));
    expect(err.code).toBe(EtfErrorCode.LIMIT);
    expect(growth).toBeLessThan(64 * MiB + 16 * MiB);
  });
});

describe('ordinary large terms still decode under the defaults', () => {
  it('a binary filling the whole 64 MiB frame, as a view', () => {
    const frame = new Uint8Array(DEFAULT_MAX_TERM_BYTES);
    frame.set([131, 109]);
    new DataView(frame.buffer).setUint32(2, DEFAULT_MAX_TERM_BYTES - 6);
    const b = decode(frame) as Uint8Array;
    expect(b.length).toBe(DEFAULT_MAX_TERM_BYTES - 6);
    expect(b.buffer).toBe(frame.buffer);
  });

  it('a list of a million integers, and a 32 MiB frame of small integers (16.7 million); 64 MiB of them is refused at once', () => {
    const million = Array.from({ length: 1_000_000 }, (_, i) => i * 7);
    expect((decode(encode(million)) as number[])[999_999]).toBe(6_999_993);
    const smallInt = SHAPES.SMALL_INTEGER_EXT as (i: number) => number[];
    const half = listFrameOfSize(smallInt, DEFAULT_MAX_TERM_BYTES / 2);
    expect((decode(half) as number[]).length).toBe(Math.floor((DEFAULT_MAX_TERM_BYTES / 2 - 7) / 2));
    // 33.5M slots of 8 bytes: 256 MiB, over the default 129 MiB before the array is made.
    const full = listFrameOfSize(smallInt, DEFAULT_MAX_TERM_BYTES);
    const t0 = performance.now();
    const err = protocolError(() => decode(full));
    expect(err.message).toMatch(/raise DecodeOptions\.maxHeapBytes/);
    expect(performance.now() - t0).toBeLessThan(1000);
  });

  it('100,000 records with binaries and 20,000 small maps', () => {
    const rows = Array.from({ length: 100_000 }, (_, i) => tuple(atom('row'), i, new Uint8Array([i & 0xff, 1, 2]), 'name'));
    expect((decode(encode(rows)) as Term[]).length).toBe(100_000);
    const maps = Array.from({ length: 20_000 }, (_, i) => ({ id: i, name: new Uint8Array([1, 2, 3]), tags: [atom('a'), atom('b')] }));
    expect((decode(encode(maps)) as Term[]).length).toBe(20_000);
  });
});
