import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { BYTES, UsageError, termToValue, valueToTerm, type KeyEncoding, type Value } from '@courier/core';
import { EncodeError, ErlFloat, ErlMap, ImproperList, Pid, Ref, Tuple, atom, atoms, decode, encode, formatErlang, parseErlang, termEquals, type Term } from '@courier/term';

/** value → term → ETF bytes → term → value: what a typed message goes through between nodes. */
const overTheWire = (v: Value, keys: KeyEncoding = 'binary'): Value => termToValue(decode(encode(valueToTerm(v, keys))), keys);
/** The Erlang text of a value's term. */
const erl = (v: Value, keys: KeyEncoding = 'binary'): string => formatErlang(valueToTerm(v, keys));
const bin = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('typed mapping: value → term (docs/typed.md)', () => {
  it('strings are UTF-8 binaries, null is undefined, booleans atoms, arrays lists, objects binary-keyed maps', () => {
    expect(erl('héllo')).toBe('<<"héllo"/utf8>>');
    expect(erl(null)).toBe('undefined');
    expect(erl(true)).toBe('true');
    expect(erl([1, 'a', [false]])).toBe('[1,<<"a">>,[false]]');
    expect(erl({ name: 'x', n: 2, skip: undefined })).toBe('#{<<"name">> => <<"x">>,<<"n">> => 2}');
    expect(erl({ name: 'x' }, 'atom')).toBe('#{name => <<"x">>}');
  });

  it('numbers: safe integers are integers, others floats (so -0, 1e20 and 1.5 come back); bigint is an integer', () => {
    expect(valueToTerm(42)).toBe(42);
    expect(valueToTerm(1.5)).toBeInstanceOf(ErlFloat);
    expect(valueToTerm(-0)).toEqual(new ErlFloat(-0));
    expect(valueToTerm(1e20)).toEqual(new ErlFloat(1e20));
    expect(valueToTerm(2n ** 70n)).toBe(2n ** 70n);
    expect(Object.is(overTheWire(-0), -0)).toBe(true);
    expect(overTheWire(1e20)).toBe(1e20);
  });

  it('a Uint8Array is {bytes, Binary}: a binary alone is a string', () => {
    const t = valueToTerm(new Uint8Array([0xff, 0])) as Tuple;
    expect(t.elements[0]).toBe(BYTES);
    expect(formatErlang(t)).toBe('{bytes,<<255,0>>}');
  });

  it('atoms, tuples, pids, refs pass through with their contents mapped', () => {
    const p = new Pid(atom('a@b'), 1, 0, 1);
    const t = valueToTerm(new Tuple([atoms.ok, 'v', p])) as Tuple;
    expect(t.elements[0]).toBe(atoms.ok);
    expect(t.elements[1]).toEqual(bin('v'));
    expect(t.elements[2]).toBe(p);
  });

  it.each([
    ['a function', { f: () => 1 }, /a function at \$\.f has no Erlang form/],
    ['a symbol', [Symbol('x')], /a symbol at \$\[0\]/],
    ['a Date', { at: { when: new Date(0) } }, /a Date at \$\.at\.when/],
    ['a Map', new Map(), /a Map at \$ /],
    ['NaN', { n: Number.NaN }, /NaN at \$\.n/],
    ['undefined in an array', [1, undefined], /undefined at \$\[1\]/],
    ['a lone surrogate', 'a\uD800', /lone surrogate/],
    ['a Uint16Array', new Uint16Array(1), /a Uint16Array/],
    ['a class instance', new (class Point {})(), /a Point at/],
    ['an over-long atom key', { ['k'.repeat(300)]: 1 }, /key/],
  ])('refuses %s with UsageError BADARG (cause EncodeError ETF_UNENCODABLE)', (_what, v, msg) => {
    const keys: KeyEncoding = _what.includes('atom') ? 'atom' : 'binary';
    let err: unknown;
    try {
      valueToTerm(v, keys);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UsageError);
    expect((err as UsageError).code).toBe('BADARG');
    expect((err as UsageError).message).toMatch(msg);
    expect((err as Error).cause).toBeInstanceOf(EncodeError);
  });

  it('refuses a cycle instead of overflowing the stack', () => {
    const a: unknown[] = [];
    a.push(a);
    expect(() => valueToTerm(a as Value)).toThrow(/deeper than 1000/);
  });
});

describe('typed mapping: term → value (what Erlang sends)', () => {
  const read = (text: string, keys: KeyEncoding = 'binary'): Value => termToValue(decode(encode(parseErlang(text))), keys);

  it('a charlist is an array of code points; a proper list an array; an improper list stays one', () => {
    expect(read('"abc"')).toEqual([97, 98, 99]);
    expect(read('[1024, 2]')).toEqual([1024, 2]);
    expect(read('[]')).toEqual([]);
    const il = read('[1, <<"x">> | tail]') as ImproperList;
    expect(il).toBeInstanceOf(ImproperList);
    expect(il.items).toEqual([1, 'x']);
    expect(il.tail).toBe(atom('tail'));
  });

  it('binaries: UTF-8 ones are strings, others Uint8Array copies', () => {
    expect(read('<<"héllo"/utf8>>')).toBe('héllo');
    const b = read('<<255, 0>>');
    expect(b).toBeInstanceOf(Uint8Array);
    expect([...(b as Uint8Array)]).toEqual([255, 0]);
    expect(read('{bytes, <<"abc">>}')).toEqual(bin('abc'));
  });

  it('true/false/undefined are boolean/null; other atoms stay atoms; integral floats are numbers', () => {
    expect(read('[true, false, undefined, ok]')).toEqual([true, false, null, atom('ok')]);
    expect(read('1.0')).toBe(1);
    expect(read('18446744073709551616')).toBe(2n ** 64n);
  });

  it('maps: binary keys make an object (atom keys with keys: atom); any other key keeps an ErlMap', () => {
    expect(read('#{<<"a">> => <<"x">>, <<"b">> => [1]}')).toEqual({ a: 'x', b: [1] });
    expect(read('#{a => 1, true => 2}', 'atom')).toEqual({ a: 1, true: 2 });
    const m = read('#{a => <<"x">>}') as ErlMap;
    expect(m).toBeInstanceOf(ErlMap);
    expect(m.get(atom('a'))).toBe('x');
    const mixed = read('#{<<"ab">> => 1, "ab" => 2}') as ErlMap;
    expect(mixed.size).toBe(2);
    // Its keys are terms: back to Erlang unchanged.
    expect(termEquals(valueToTerm(mixed), parseErlang('#{<<"ab">> => 1, "ab" => 2}'))).toBe(true);
    const proto = read('#{<<"__proto__">> => 1}') as Record<string, unknown>;
    expect(Object.getPrototypeOf(proto)).toBe(Object.prototype);
    expect(Object.keys(proto)).toEqual(['__proto__']);
  });

  it('a term-level local sender is read as the codec would send it (a JS string is a charlist)', () => {
    expect(termToValue({ name: 'ab' }, 'atom')).toEqual({ name: [97, 98] });
    expect(termToValue(null)).toBe(null);
    expect(termToValue(5n)).toBe(5);
  });
});

describe('typed mapping: round trip (property)', () => {
  const key = fc.string({ maxLength: 6 });
  const leaf: fc.Arbitrary<Value> = fc.oneof(
    fc.string({ unit: 'grapheme', maxLength: 8 }),
    fc.string({ maxLength: 8 }).filter((s) => !/[\uD800-\uDFFF]/.test(s)),
    fc.integer(),
    fc.maxSafeInteger(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.boolean(),
    fc.constant(null),
    fc.bigInt().filter((b) => b > BigInt(Number.MAX_SAFE_INTEGER) || b < BigInt(Number.MIN_SAFE_INTEGER)),
    fc.uint8Array({ maxLength: 8 }),
    fc.constantFrom(atom('ok'), atom('error'), new Pid(atom('n@h'), 7, 0, 3), new Ref(atom('n@h'), 3, [1, 2, 3])),
  );
  const value = fc.letrec<{ v: Value }>((tie) => ({
    v: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      leaf,
      fc.array(tie('v'), { maxLength: 4 }),
      fc.dictionary(key, tie('v'), { maxKeys: 4 }),
      fc.array(tie('v'), { maxLength: 3 }).map((els) => new Tuple(els as Term[])),
    ),
  })).v;

  /** Equality of values as the mapping defines it: Atom/Pid/Ref by Erlang equality, the rest deeply. */
  const same = (a: unknown, b: unknown): boolean => {
    if (a instanceof Tuple) return b instanceof Tuple && a.elements.length === b.elements.length && a.elements.every((x, i) => same(x, b.elements[i]));
    if (a instanceof Pid || a instanceof Ref) return termEquals(a, b as Term);
    if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => same(x, b[i]));
    if (a instanceof Uint8Array) return b instanceof Uint8Array && a.length === b.length && a.every((x, i) => x === b[i]);
    if (typeof a === 'number') return Object.is(a, b);
    if (a !== null && typeof a === 'object' && !(a instanceof ErlMap)) {
      if (b === null || typeof b !== 'object' || Array.isArray(b)) return false;
      const ka = Object.keys(a);
      const kb = Object.keys(b);
      return ka.length === kb.length && ka.every((k) => Object.hasOwn(b, k) && same((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
    }
    return a === b;
  };

  it.each<KeyEncoding>(['binary', 'atom'])('value → term → bytes → term → value is the identity (keys: %s)', (keys) => {
    fc.assert(
      fc.property(value, (v) => same(v, overTheWire(v, keys))),
      { numRuns: 500 },
    );
  });

  it('the one exception: a bigint in the safe range comes back as a number (Erlang has one integer type)', () => {
    expect(overTheWire(5n)).toBe(5);
  });
});
