import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { atom, BitBinary, ErlFloat, ErlMap, float, ImproperList, Pid, Port, Ref, termEquals, termKey, tuple, type Term } from '@courier/term';
import { keyCost } from '../../src/model/key.js';
import { termArb } from '../support/arbitraries.js';

describe('termKey / termEquals follow Erlang =:=', () => {
  it('integers compare by value across number and bigint; floats differ from integers', () => {
    expect(termEquals(5, 5n)).toBe(true);
    expect(termEquals(2 ** 53, 2n ** 53n)).toBe(true);
    expect(termEquals(1, float(1))).toBe(false);
    expect(termEquals(1.5, float(1.5))).toBe(true);
    expect(termEquals(-0, 0)).toBe(true); // a JS -0 is the integer 0
    expect(termEquals(1e21, 10n ** 21n)).toBe(true); // an integral double past 2^53 is that integer
    expect(termEquals(-(2 ** 70), -(2n ** 70n))).toBe(true);
    expect(termEquals(float(-0), float(0))).toBe(false); // as OTP 27 (OTP 25 said true)
  });

  it('booleans and null/undefined equal the atoms they encode as', () => {
    expect(termEquals(true, atom('true'))).toBe(true);
    expect(termEquals(false, atom('false'))).toBe(true);
    expect(termEquals(null, atom('undefined'))).toBe(true);
    expect(termEquals(undefined, atom('undefined'))).toBe(true);
    expect(termEquals(true, false)).toBe(false);
    const m = new ErlMap([[atom('true'), 1]]);
    expect(m.get(true)).toBe(1);
  });

  it('strings are the lists of their character codes', () => {
    expect(termEquals('ab', [97, 98])).toBe(true);
    expect(termEquals('', [])).toBe(true);
    expect(termEquals('😀', [0x1f600])).toBe(true);
  });

  it('a list tail that is a list continues the list; an empty prefix is just the tail', () => {
    expect(termEquals(new ImproperList([1], [2, 3]), [1, 2, 3])).toBe(true);
    expect(termEquals(new ImproperList([1], 'ab'), [1, 97, 98])).toBe(true);
    expect(termEquals(new ImproperList([1], new ImproperList([2], 3)), new ImproperList([1, 2], 3))).toBe(true);
    expect(termEquals(new ImproperList([], atom('x')), atom('x'))).toBe(true);
    expect(termEquals(new ImproperList([1], 2), [1, 2])).toBe(false);
  });

  it('keys do not collide through separators inside node names', () => {
    expect(termEquals(new Ref(atom('a.1'), 2, [3]), new Ref(atom('a'), 1, [2, 3]))).toBe(false);
    expect(termEquals(new Pid(atom('n.1'), 2, 3, 4), new Pid(atom('n'), 1, 2, 3))).toBe(false);
    expect(termEquals([new ImproperList([1], 2), 3], [new ImproperList([1, 2], 3)])).toBe(false);
  });

  it('identifiers compare all fields; port ids by value', () => {
    expect(termEquals(new Port(atom('n'), 5, 1), new Port(atom('n'), 5n, 1))).toBe(true);
    expect(termEquals(new Pid(atom('n'), 1, 2, 3), new Pid(atom('n'), 1, 2, 4))).toBe(false);
  });

  it('bitstrings ignore the unused bits of the last byte; 8 bits is a binary', () => {
    expect(termEquals(new BitBinary(new Uint8Array([0xff]), 1), new BitBinary(new Uint8Array([0x80]), 1))).toBe(true);
    expect(termEquals(new BitBinary(new Uint8Array([1, 2]), 8), new Uint8Array([1, 2]))).toBe(true);
    expect(termEquals(new BitBinary(new Uint8Array([0x80]), 1), new BitBinary(new Uint8Array([0x80]), 2))).toBe(false);
  });

  it('maps are order-independent and equal plain objects with atom keys', () => {
    const a = new ErlMap([
      [atom('x'), 1],
      [atom('y'), [2]],
    ]);
    const b = new ErlMap([
      [atom('y'), [2]],
      [atom('x'), 1],
    ]);
    expect(termEquals(a, b)).toBe(true);
    expect(termEquals(a, { y: [2], x: 1 })).toBe(true);
    expect(termEquals(a, { x: 1 })).toBe(false);
    expect(new ErlMap([[tuple(atom('a'), 1), 'v']]).get(tuple(atom('a'), 1))).toBe('v');
  });

  it('is a prefix-free code: concatenated keys stay unambiguous', () => {
    const terms: Term[] = [
      [],
      [[]],
      tuple(),
      tuple([]),
      'a',
      atom('a'),
      new ImproperList([1], 2),
      new ImproperList([1], [2]),
      new ErlMap(),
      {},
      float(1),
      1,
      new Uint8Array(0),
      new ErlFloat(0.5),
    ];
    const keys = terms.map(termKey);
    for (let i = 0; i < keys.length; i++) {
      for (let j = 0; j < keys.length; j++) {
        if (i !== j && keys[i] !== keys[j]) expect((keys[j] as string).startsWith(keys[i] as string), `${keys[i]} / ${keys[j]}`).toBe(false);
      }
    }
  });

  it('walks any depth without recursion', () => {
    let deep: Term = atom('leaf');
    for (let i = 0; i < 100_000; i++) deep = i % 3 === 0 ? [deep] : i % 3 === 1 ? tuple(deep) : new ErlMap([[i, deep]]);
    expect(termKey(deep).length).toBeGreaterThan(100_000);
  });

  it('writes a key in time linear in its length, however the text nests', () => {
    // [[…[A × 20000, 1]…, 1], 1] 2,000 lists deep: the key used to be copied once per level.
    let t: Term = Array.from({ length: 20_000 }, () => atom('a'.repeat(255)));
    for (let i = 0; i < 2000; i++) t = [t, 1];
    const t0 = performance.now();
    expect(termKey(t).length).toBeGreaterThan(20_000 * 255);
    expect(performance.now() - t0).toBeLessThan(2000);
    // A 64 KiB bignum: hex, not decimal text (50 ms each).
    const big = 2n ** (8n * 65536n) - 1n;
    const t1 = performance.now();
    expect(termKey(big)).toBe(termKey(big));
    expect(performance.now() - t1).toBeLessThan(20);
  });

  it('keyCost is an upper bound of the key text, and stops at its limit', () => {
    fc.assert(
      fc.property(termArb, (t) => {
        expect(keyCost(t, Infinity)).toBeGreaterThanOrEqual(termKey(t).length);
      }),
      { numRuns: 500 },
    );
    const huge = Array.from({ length: 100_000 }, () => atom('a'.repeat(255)));
    const cost = keyCost(huge, 1000);
    expect(cost).toBeGreaterThan(1000);
    expect(cost).toBeLessThan(2000);
  });
});
