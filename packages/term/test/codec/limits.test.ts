import { describe, expect, it } from 'vitest';
import { decode, DEFAULT_MAX_DEPTH, encode, EtfErrorCode, termEquals, type Term } from '@courier/term';
import { bytes, protocolError } from '../support/bytes.js';

const MAX32 = [0xff, 0xff, 0xff, 0xff];

/** Run `fn`, returning how long it took and how much the heap and array buffers grew. */
function measure(fn: () => void): { ms: number; heap: number; buffers: number } {
  const before = process.memoryUsage();
  const t0 = performance.now();
  fn();
  const ms = performance.now() - t0;
  const after = process.memoryUsage();
  return { ms, heap: after.heapUsed - before.heapUsed, buffers: after.arrayBuffers - before.arrayBuffers };
}

describe('hostile lengths fail fast, before allocating', () => {
  const claims: [string, Uint8Array][] = [
    ['LIST_EXT', bytes(131, 108, MAX32, 97, 1)],
    ['LARGE_TUPLE_EXT', bytes(131, 105, MAX32, 97, 1)],
    ['MAP_EXT', bytes(131, 116, MAX32, 97, 1, 97, 2)],
    ['BINARY_EXT', bytes(131, 109, MAX32, 1, 2, 3)],
    ['BIT_BINARY_EXT', bytes(131, 77, MAX32, 3, 1, 2, 3)],
    ['STRING_EXT', bytes(131, 107, 0xff, 0xff, 1, 2)],
    ['ATOM_UTF8_EXT', bytes(131, 118, 0x03, 0xfc, 0x61)],
    ['NEWER_REFERENCE_EXT', bytes(131, 90, 0, 5, 119, 1, 0x6e, 0, 0, 0, 1, 0, 0, 0, 1)],
    ['list tail LIST_EXT', bytes(131, 108, 0, 0, 0, 1, 97, 1, 108, MAX32, 97, 1)],
    ['nested LIST_EXT headers', bytes(131, ...Array.from({ length: 1000 }, () => [108, 0, 0, 0x0f, 0xff]).flat())],
    ['NEW_FUN_EXT free variables', bytes(131, 112, 0, 0, 0, 60, 0, new Uint8Array(16), 0, 0, 0, 0, MAX32, 119, 1, 0x6d, 97, 0, 97, 0, 88, 119, 1, 0x6e, new Uint8Array(12))],
  ];
  it.each(claims)('%s claiming more elements than bytes left', (_, input) => {
    let code = '';
    const m = measure(() => {
      code = protocolError(() => decode(input)).code;
    });
    expect(code).toBe(EtfErrorCode.TRUNCATED);
    expect(m.ms).toBeLessThan(50);
    expect(m.buffers).toBeLessThan(1 << 20);
    expect(m.heap).toBeLessThan(16 << 20);
  });

  it('LARGE_BIG_EXT past maxBigBytes is ETF_LIMIT, even when the digits are there', () => {
    expect(protocolError(() => decode(bytes(131, 111, MAX32, 0, 1))).code).toBe(EtfErrorCode.LIMIT);
    const digits = new Uint8Array(2000).fill(0xff);
    const input = bytes(131, 111, 0, 0, 0x07, 0xd0, 0, digits);
    expect(protocolError(() => decode(input, { maxBigBytes: 1000 })).code).toBe(EtfErrorCode.LIMIT);
    expect(decode(input)).toBe(2n ** 16000n - 1n);
  });
});

describe('maxDepth', () => {
  function nested(depth: number): Term {
    let t: Term = [];
    for (let i = 0; i < depth; i++) t = [t];
    return t;
  }
  it(`defaults to ${DEFAULT_MAX_DEPTH} open containers`, () => {
    expect(termEquals(decode(encode(nested(DEFAULT_MAX_DEPTH))), nested(DEFAULT_MAX_DEPTH))).toBe(true);
    const err = protocolError(() => decode(encode(nested(DEFAULT_MAX_DEPTH + 1))));
    expect(err.code).toBe(EtfErrorCode.LIMIT);
    expect(err.offset).toBe(1 + DEFAULT_MAX_DEPTH * 5);
  });
  it('can be raised: the decoder has no recursion, so depth costs heap only', () => {
    const deep = encode(nested(200_000), { maxDepth: 200_001 });
    const t = decode(deep, { maxDepth: 300_000 });
    let depth = 0;
    for (let x = t as Term[]; x.length > 0; x = x[0] as Term[]) depth++;
    expect(depth).toBe(200_000);
  });
  it('a list tail that is a list does not add depth', () => {
    const chain: number[] = [131];
    for (let i = 0; i < 5000; i++) chain.push(108, 0, 0, 0, 1, 97, i & 0xff);
    chain.push(106);
    expect((decode(new Uint8Array(chain), { maxDepth: 2 }) as Term[]).length).toBe(5000);
  });
});

describe('maxTermBytes', () => {
  it('bounds the input of decode and decodeTerm', () => {
    const input = encode(new Uint8Array(1000));
    expect(protocolError(() => decode(input, { maxTermBytes: 999 })).code).toBe(EtfErrorCode.LIMIT);
    expect(decode(input, { maxTermBytes: 1005 })).toBeInstanceOf(Uint8Array);
  });
});
