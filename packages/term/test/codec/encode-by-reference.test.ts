import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { atom, decode, encode, Encoder, ErlFun, Pid, termEquals, Tuple, type Term } from '@courier/term';
import { termArb } from '../support/arbitraries.js';

const runs = process.env.CI === 'true' ? 1000 : 300;

function concat(chunks: readonly Uint8Array[]): Uint8Array {
  return Buffer.concat(chunks.map((c) => Buffer.from(c.buffer, c.byteOffset, c.length)));
}

function encoder(referenceMin: number): Encoder {
  const e = new Encoder({ referenceMin });
  e.writeVersion();
  return e;
}

describe('Encoder: binaries by reference (referenceMin)', () => {
  it('the chunks of takeChunks() are the bytes of encode(), whatever the threshold', () => {
    fc.assert(
      fc.property(termArb, fc.integer({ min: 1, max: 48 }), (t, min) => {
        const e = encoder(min);
        e.writeTerm(t);
        const total = e.length + e.referencedBytes;
        const { head, tail } = e.takeChunks();
        expect(head).toEqual([]);
        const bytes = concat(tail);
        expect(bytes.length).toBe(total);
        expect(Buffer.from(bytes).equals(Buffer.from(encode(t)))).toBe(true);
        expect(e.length + e.referencedBytes).toBe(0);
      }),
      { numRuns: runs },
    );
  });

  it('a large binary is not copied: its chunk is the very array', () => {
    const big = new Uint8Array(1000).fill(3);
    const e = encoder(100);
    e.writeTerm(new Tuple([atom('data'), big, new Uint8Array(10)]));
    expect(e.referencedBytes).toBe(1000);
    const { tail } = e.takeChunks();
    expect(tail).toHaveLength(3);
    expect(tail[1]).toBe(big);
  });

  it('takeChunks(split): the buffer bytes before `split` with their binaries, then the rest', () => {
    fc.assert(
      fc.property(fc.array(termArb, { minLength: 1, maxLength: 4 }), fc.integer({ min: 1, max: 48 }), (terms: Term[], min) => {
        const e = encoder(min);
        e.writeTerm(terms[0]);
        const split = e.length;
        const firstBytes = encode(terms[0]);
        for (const t of terms.slice(1)) e.writeTerm(t);
        const whole = Buffer.concat(terms.map((t, i) => Buffer.from(encode(t)).subarray(i === 0 ? 0 : 1)));
        const { head, tail } = e.takeChunks(split);
        expect(Buffer.from(concat(head)).equals(Buffer.from(firstBytes))).toBe(true);
        expect(Buffer.from(concat([...head, ...tail])).equals(whole)).toBe(true);
      }),
      { numRuns: runs },
    );
  });

  it('takeChunksFrom(start) and takeFrom(start) give the bytes from `start` and leave those before', () => {
    const a = new Uint8Array(64).fill(1);
    const b = new Uint8Array(64).fill(2);
    for (const take of ['chunks', 'one'] as const) {
      const e = encoder(32);
      e.writeTerm(a); // ends with the referenced binary: it belongs to the bytes before `start`
      const start = e.length;
      e.writeTerm(new Tuple([b, 5]));
      const got = take === 'chunks' ? concat(e.takeChunksFrom(start)) : e.takeFrom(start);
      expect(termEquals(decode(Buffer.concat([Buffer.from([131]), got])), new Tuple([b, 5]))).toBe(true);
      expect(e.referencedBytes).toBe(64);
      expect(termEquals(decode(concat(e.takeChunks().tail)), a)).toBe(true);
    }
  });

  it('a term that fails halfway leaves no reference behind', () => {
    const e = encoder(16);
    e.writeTerm(new Uint8Array(20));
    const start = e.length;
    expect(() => e.writeTerm([new Uint8Array(30), Symbol('no') as unknown as Term])).toThrow();
    expect(e.length).toBe(start);
    expect(e.referencedBytes).toBe(20);
    e.truncate(1);
    expect(e.referencedBytes).toBe(0);
  });

  it("a binary in a fun's environment is copied (the fun's Size counts buffer bytes)", () => {
    const f = new ErlFun(1, new Uint8Array(16), 3, atom('m'), 3, 1, new Pid(atom('n@h'), 1, 0, 0), [new Uint8Array(100).fill(9)]);
    const e = encoder(10);
    e.writeTerm(new Tuple([new Uint8Array(50), f]));
    expect(e.referencedBytes).toBe(50);
    expect(Buffer.from(concat(e.takeChunks().tail)).equals(Buffer.from(encode(new Tuple([new Uint8Array(50), f]))))).toBe(true);
  });

  it('take(), finish() and subarray() still return one array with the binaries in it', () => {
    const t = new Tuple([new Uint8Array(100).fill(4), atom('x'), new Uint8Array(200).fill(5)]);
    for (const how of ['take', 'finish', 'subarray'] as const) {
      const e = encoder(50);
      e.writeTerm(t);
      expect(Buffer.from(e[how]()).equals(Buffer.from(encode(t)))).toBe(true);
    }
  });
});

describe('WriteBuffer sizing from recent messages', () => {
  it('settles on a buffer the size of recent messages, instead of cutting it back to a constant', () => {
    const e = new Encoder();
    const msg = new Uint8Array(600 * 1024);
    // 1.2 MiB once (the buffer grows past 1 MiB), then 600 KiB messages in it: copied out, not handed over.
    e.writeTerm([msg, msg]);
    e.take();
    const caps: number[] = [];
    for (let i = 0; i < 5; i++) {
      e.writeTerm(msg);
      caps.push(e.capacity);
      e.take();
    }
    expect(caps[1]).toBeGreaterThanOrEqual(600 * 1024);
    expect(new Set(caps.slice(1)).size).toBe(1);
  });
});
