import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decode, decodeTerm, encode, Encoder, termEquals, termKey, type Term } from '@courier/term';
import { termArb } from '../support/arbitraries.js';

const runs = process.env.CI === 'true' ? 2000 : 500;

describe('round trips (fast-check)', () => {
  it('decode(encode(t)) =:= t', () => {
    fc.assert(
      fc.property(termArb, (t) => {
        expect(termKey(decode(encode(t)))).toBe(termKey(t));
      }),
      { numRuns: runs },
    );
  });

  it('the compressed form decodes to the same term', () => {
    fc.assert(
      fc.property(termArb, (t) => termEquals(decode(encode(t, { compressed: true })), t)),
      { numRuns: runs / 2 },
    );
  });

  it('decoded terms re-encode to the very bytes they came from (once canonical)', () => {
    // encode(t) itself may be non-canonical for degenerate JS values such as ImproperList([], 0)
    // (which is just 0) inside a byte list; one decode settles them.
    fc.assert(
      fc.property(termArb, (t) => {
        const canonical = encode(decode(encode(t)));
        expect(Buffer.from(encode(decode(canonical))).equals(Buffer.from(canonical))).toBe(true);
      }),
      { numRuns: runs },
    );
  });

  it('one Encoder writes a sequence of terms that decodeTerm reads back in order', () => {
    const enc = new Encoder();
    fc.assert(
      fc.property(fc.array(termArb, { minLength: 1, maxLength: 4 }), (terms: Term[]) => {
        enc.reset();
        for (const t of terms) enc.writeTerm(t);
        const buf = enc.finish();
        let offset = 0;
        for (const t of terms) {
          const { term, end } = decodeTerm(buf, offset);
          expect(termEquals(term, t)).toBe(true);
          offset = end;
        }
        expect(offset).toBe(buf.length);
      }),
      { numRuns: runs / 2 },
    );
  });

  it('termEquals agrees with the bytes of the canonical encoding', () => {
    fc.assert(
      fc.property(termArb, termArb, (a, b) => {
        if (termEquals(a, b)) expect(Buffer.from(encode(decode(encode(a)))).equals(Buffer.from(encode(decode(encode(b)))))).toBe(true);
      }),
      { numRuns: runs },
    );
  });
});
