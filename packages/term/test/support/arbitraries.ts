import fc from 'fast-check';
import { atom, BitBinary, ErlExport, ErlFun, ErlMap, float, ImproperList, Pid, Port, Ref, Tuple, type Atom, type Term } from '@courier/term';

/** fast-check generators of Courier terms, covering every member of the Term union. */

const u32 = fc.integer({ min: 0, max: 0xffff_ffff });

export const atomArb: fc.Arbitrary<Atom> = fc
  .oneof(
    fc.constantFrom('ok', 'error', 'true', 'false', 'undefined', '', 'nonode@nohost', '\ufeffbom'),
    fc.string({ unit: 'grapheme', maxLength: 12 }),
    fc.string({ unit: 'grapheme-ascii', minLength: 250, maxLength: 255 }),
  )
  .map((name) => atom(name));

const nodeArb = fc.constantFrom('a@127.0.0.1', 'gen@host', 'こ@h', 'n').map((n) => atom(n));

export const integerArb: fc.Arbitrary<Term> = fc.oneof(
  fc.integer({ min: -300, max: 300 }),
  fc.integer(),
  fc.maxSafeInteger(),
  fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }),
  fc.bigInt({ min: -(2n ** 4100n), max: 2n ** 4100n }),
  fc.constantFrom(2 ** 31, -(2 ** 31) - 1, 2 ** 53, 2n ** 64n, -(2n ** 2040n), 2n ** 2040n - 1n),
);

export const floatArb: fc.Arbitrary<Term> = fc.oneof(
  fc.double({ noNaN: true, noDefaultInfinity: true }).filter((d) => !Number.isInteger(d)),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((d) => float(d)),
  fc.constantFrom(float(-0), float(0), float(1e308), 5e-324),
);

export const stringArb: fc.Arbitrary<Term> = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.string({ unit: fc.integer({ min: 0, max: 255 }).map((c) => String.fromCharCode(c)), maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 10 }),
);

export const binaryArb: fc.Arbitrary<Term> = fc.oneof(
  fc.uint8Array({ maxLength: 40 }),
  fc.tuple(fc.uint8Array({ minLength: 1, maxLength: 10 }), fc.integer({ min: 1, max: 8 })).map(([b, bits]) => new BitBinary(b, bits)),
);

const pidArb = fc.tuple(nodeArb, u32, u32, u32).map(([n, id, serial, creation]) => new Pid(n, id, serial, creation));

export const identifierArb: fc.Arbitrary<Term> = fc.oneof(
  pidArb,
  fc.tuple(nodeArb, u32, fc.array(u32, { minLength: 1, maxLength: 5 })).map(([n, c, ids]) => new Ref(n, c, ids)),
  fc.tuple(nodeArb, fc.oneof(u32, fc.bigInt({ min: 0n, max: 2n ** 64n - 1n })), u32).map(([n, id, c]) => new Port(n, id, c)),
  fc.tuple(atomArb, atomArb, fc.integer({ min: 0, max: 255 })).map(([m, f, a]) => new ErlExport(m, f, a)),
);

export const leafArb: fc.Arbitrary<Term> = fc.oneof(integerArb, floatArb, atomArb, stringArb, binaryArb, identifierArb, fc.constantFrom<Term>(true, false, null, undefined));

/** Any term, nested up to a few levels. */
export const termArb: fc.Arbitrary<Term> = fc.letrec<{ term: Term }>((tie) => {
  const term = tie('term');
  const small = { maxLength: 5 };
  return {
    term: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      leafArb,
      fc.array(term, small),
      fc.array(term, small).map((elements) => new Tuple(elements)),
      fc.tuple(fc.array(term, small), term).map(([items, tail]) => new ImproperList(items, tail)),
      fc.array(fc.tuple(term, term), small).map((entries) => new ErlMap(entries)),
      fc.dictionary(fc.string({ unit: 'grapheme', maxLength: 8 }), term, { maxKeys: 5 }),
      fc
        .tuple(
          fc.integer({ min: 0, max: 255 }),
          fc.uint8Array({ minLength: 16, maxLength: 16 }),
          u32,
          atomArb,
          fc.integer({ min: 0, max: 2 ** 31 - 1 }),
          pidArb,
          fc.array(term, small),
        )
        .map(([arity, uniq, index, module, oldUniq, pid, env]) => new ErlFun(arity, uniq, index, module, index & 0xff, oldUniq, pid, env)),
    ),
  };
}).term;
