import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { BitBinary, ErlMap, ImproperList, Pid, Port, Ref, Tuple, atom, float, termKey, type Term } from '@courier/term';
import { PacketReader, PacketWriter, pidOfPortName, portIdOfPid, type Dialect, type Framing } from '@courier/transport-aemp';

function roundTrip(t: Term, framing: Framing, dialect: Dialect): Term {
  const w = new PacketWriter(framing, dialect);
  w.packet(['port', w.value(t)]);
  const r = new PacketReader(framing, dialect, 1 << 24);
  for (const c of w.take()) r.push(c);
  return (r.next() as Term[])[1];
}

const pid = new Pid(atom('n1'), 7, 1, 99);
const rich: Term = new Tuple([
  atom('hello'),
  pid,
  [1, -1, 2 ** 40, 2n ** 100n, -(2n ** 64n), 1.5, float(2), 'chars', 'ünïcödé ☃'],
  Buffer.from('binary\u0000bytes'),
  new ErlMap([
    [atom('k'), new Tuple([])],
    ['str', []],
  ]),
  new ImproperList([atom('alias')], atom('tail')),
  true,
  null,
  new Ref(atom('n1'), 5, [1, 2, 3]),
  new Port(atom('n1'), 12, 3),
  new BitBinary(Buffer.from([0xff, 0x80]), 1),
  { '~a': 'a plain object whose key looks like a tag' },
  { plain: { nested: [atom('x')] } },
]);

describe('value mappings', () => {
  for (const framing of ['json', 'cbor'] as const) {
    it(`extended (Courier ⇄ Courier, ${framing}): every term arrives equal`, () => {
      expect(termKey(roundTrip(rich, framing, 'courier'))).toBe(termKey(rich));
    });

    it(`a peer's "__proto__" key stays a key and changes no prototype (${framing})`, () => {
      const t = JSON.parse('{"__proto__": {"polluted": true}, "x": 1}') as Term;
      for (const dialect of ['courier', 'perl'] as const) {
        const back = roundTrip(t, framing, dialect) as Record<string, unknown>;
        expect(Object.getPrototypeOf(back)).toBe(Object.prototype);
        expect(Object.keys(back).sort()).toEqual(['__proto__', 'x']);
        expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
      }
    });

    it(`extended (${framing}): arbitrary JSON-like data round-trips`, () => {
      fc.assert(
        fc.property(fc.jsonValue({ maxDepth: 3 }), (v) => {
          // Integral numbers past 2^53 are floats in the term model (and arrive as ErlFloat).
          const t = JSON.parse(JSON.stringify(v), (_k, x: unknown) => (typeof x === 'number' && Number.isInteger(x) && !Number.isSafeInteger(x) ? 0.5 : x)) as Term;
          expect(roundTrip(t, framing, 'courier')).toEqual(t);
        }),
        { numRuns: 200 },
      );
    });
  }

  it('natural (Perl): what Perl has no word for becomes the nearest Perl value', () => {
    const json = roundTrip(rich, 'json', 'perl') as Term[];
    expect(json[0]).toBe('hello');
    expect(json[1]).toBe('n1#~7.1.99');
    expect(json[2]).toEqual([1, -1, 2 ** 40, '1267650600228229401496703205376', '-18446744073709551616', 1.5, 2, 'chars', 'ünïcödé ☃']);
    expect(json[3]).toBe('binary\u0000bytes');
    expect(json[4]).toEqual({ k: [], str: [] });
    expect(json[5]).toEqual(['alias', 'tail']);
    expect(json.slice(6, 8)).toEqual([true, null]);
    expect(termKey(roundTrip(2 ** 60, 'json', 'courier'))).toBe(termKey(float(2 ** 60)));
    const cbor = roundTrip(rich, 'cbor', 'perl') as Term[];
    expect(cbor[2]).toEqual([1, -1, 2 ** 40, 2n ** 100n, -(2n ** 64n), 1.5, 2, 'chars', 'ünïcödé ☃']);
    expect(cbor[3]).toBe('binary\u0000bytes'); // a byte string reads as a Latin-1 string, as Perl's do
  });

  it('a pid is the port `~id.serial.creation` of its node, and back', () => {
    expect(portIdOfPid(pid)).toBe('n1#~7.1.99');
    const back = pidOfPortName(atom('n1'), '~7.1.99');
    expect(back && termKey(back)).toBe(termKey(pid));
    for (const name of ['echo', '~', '~1', '~1.2', '~a.b.c', '~1.2.-3']) expect(pidOfPortName(atom('n1'), name)).toBeUndefined();
  });
});
