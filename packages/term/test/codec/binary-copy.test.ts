import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BitBinary, Tuple, atom, decodeTerm, encode, termEquals, type Term } from '@courier/term';
import { POOLED_MAX, SLAB } from '../../src/codec/binary-copy.js';
import { termArb } from '../support/arbitraries.js';

/**
 * copySmallBinaries: a binary that is at most a quarter of the input's buffer is copied out (into
 * a shared slab up to POOLED_MAX bytes, else a buffer of its own), so keeping it does not keep
 * the buffer alive; a larger one stays a view. The term is the same either way.
 */
const CHUNK = 64 * 1024;

/** `term` encoded (no version byte) at offset 100 of a fresh 64 KiB chunk, as a socket read holds it. */
function inChunk(term: Term, size = CHUNK): { chunk: Uint8Array; at: number } {
  const e = encode(term).subarray(1);
  const chunk = new Uint8Array(Math.max(size, e.length + 200));
  chunk.set(e, 100);
  return { chunk, at: 100 };
}

function binaryOf(n: number, size = CHUNK): { chunk: Uint8Array; bin: Uint8Array } {
  const src = Uint8Array.from({ length: n }, (_, i) => (i * 7 + 1) & 0xff);
  const { chunk, at } = inChunk(new Tuple([atom('msg'), src]), size);
  const t = decodeTerm(chunk, at, { copySmallBinaries: true }).term as Tuple;
  return { chunk, bin: t.elements[1] as Uint8Array };
}

describe('copySmallBinaries', () => {
  it('a small binary of a large buffer is a copy: later changes to the buffer do not show, and it pins no part of it', () => {
    for (const n of [0, 1, 40, 64, 65, POOLED_MAX, POOLED_MAX + 1, CHUNK / 4 - 100]) {
      const { chunk, bin } = binaryOf(n);
      expect(bin.length).toBe(n);
      expect(bin.buffer).not.toBe(chunk.buffer);
      const before = [...bin];
      chunk.fill(0xee);
      expect([...bin]).toEqual(before);
      // Pooled copies share a slab; larger ones are buffers of their own.
      expect(bin.buffer.byteLength).toBe(n === 0 ? 0 : n <= POOLED_MAX ? SLAB : n);
    }
  });

  it('a binary over a quarter of its buffer stays a view', () => {
    const { chunk, bin } = binaryOf(CHUNK / 4 + 1);
    expect(bin.buffer).toBe(chunk.buffer);
    const whole = binaryOf(1000, 1200);
    expect(whole.bin.buffer).toBe(whole.chunk.buffer);
  });

  it('a copy never shows bytes outside its binary, and writes to it stay inside it', () => {
    const a = binaryOf(10).bin;
    const b = binaryOf(20).bin;
    expect(a.length).toBe(10);
    expect(b.length).toBe(20);
    const bBefore = [...b];
    a.fill(0xaa);
    expect([...b]).toEqual(bBefore);
    expect(() => a.set([1], 10)).toThrow(RangeError);
  });

  it('bitstrings too, with their unused bits cleared', () => {
    const { chunk, at } = inChunk(new BitBinary(Uint8Array.from([1, 2, 0xff]), 4));
    const t = decodeTerm(chunk, at, { copySmallBinaries: true }).term as BitBinary;
    expect(t).toBeInstanceOf(BitBinary);
    expect(t.bytes.buffer).not.toBe(chunk.buffer);
    expect([...t.bytes]).toEqual([1, 2, 0xf0]);
  });

  it('copyBinaries copies every binary into a buffer of its own, even from a Buffer (whose slice is a view)', () => {
    const e = Buffer.concat([Buffer.alloc(10), encode(new Tuple([Buffer.from('abc'), Buffer.alloc(50_000, 1)])).subarray(1)]);
    const t = decodeTerm(e, 10, { copyBinaries: true }).term as Tuple;
    for (const b of t.elements as Uint8Array[]) {
      expect(b.buffer).not.toBe(e.buffer);
      expect(b.buffer.byteLength).toBe(b.length);
    }
  });

  it('the same term as without it, for any term (fast-check)', () => {
    fc.assert(
      fc.property(termArb, (term) => {
        const { chunk, at } = inChunk(term);
        const views = decodeTerm(chunk, at).term;
        const copies = decodeTerm(chunk, at, { copySmallBinaries: true }).term;
        expect(termEquals(views, copies)).toBe(true);
        expect(termEquals(copies, term)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('the heap budget counts the copies: a term of small binaries within maxHeapBytes with views is refused past it with copies', () => {
    const term = Array.from({ length: 1000 }, () => new Uint8Array(500));
    const { chunk, at } = inChunk(term, 1 << 20);
    // Views cost 96 + 8 bytes each; pooled copies their 500 bytes more.
    const opts = { maxHeapBytes: 1000 * (96 + 8) + 48 + 1000 };
    expect(() => decodeTerm(chunk, at, opts)).not.toThrow();
    expect(() => decodeTerm(chunk, at, { ...opts, copySmallBinaries: true })).toThrow(/maxHeapBytes/);
    expect(() => decodeTerm(chunk, at, { maxHeapBytes: opts.maxHeapBytes + 1000 * 500, copySmallBinaries: true })).not.toThrow();
  });
});
