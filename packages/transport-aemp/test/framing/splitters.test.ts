import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Encoder } from 'cbor-x';
import { ProtocolError } from '@courier/core';
import { CborSplitter, JsonSplitter, parseJsonExact, type StreamSplitter } from '@courier/transport-aemp';

/** Feed `stream` cut at `cuts` (sorted offsets) and collect every item. */
function splitAll(s: StreamSplitter, stream: Uint8Array, cuts: number[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  let at = 0;
  for (const c of [...cuts, stream.length]) {
    if (c > at) s.push(stream.subarray(at, c));
    at = Math.max(at, c);
    for (let x = s.next(); x !== undefined; x = s.next()) out.push(x);
  }
  return out;
}

const cutsOf = (len: number) => fc.uniqueArray(fc.integer({ min: 0, max: Math.max(0, len) }), { maxLength: 12 }).map((a) => a.sort((x, y) => x - y));
const jsonValue = fc.jsonValue({ maxDepth: 4 });
const packet = fc.array(jsonValue, { maxLength: 6 });
const cbor = new Encoder({ useRecords: false, tagUint8Array: false, mapsAsObjects: true, variableMapSize: true });
const cborValue = fc.letrec((tie) => ({
  v: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.string(),
    fc.integer(),
    fc.double({ noNaN: true }),
    fc.boolean(),
    fc.constant(null),
    fc.uint8Array({ maxLength: 40 }),
    fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }),
    fc.array(tie('v'), { maxLength: 4 }),
    fc.dictionary(fc.string({ maxLength: 5 }), tie('v'), { maxKeys: 3 }),
  ),
})).v;

describe('JsonSplitter', () => {
  it('splits back-to-back arrays (with whitespace between, UTF-8 cut anywhere) into exactly the arrays sent', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(packet, fc.constantFrom('', '\n', ' \r\n\t')), { minLength: 1, maxLength: 8 }), fc.nat(), (pkts, seed) => {
        const text = pkts.map(([p, ws]) => JSON.stringify(p) + ws).join('');
        const stream = Buffer.from(text, 'utf8');
        return fc.assert(
          fc.property(cutsOf(stream.length), (cuts) => {
            const items = splitAll(new JsonSplitter(1 << 20), stream, cuts).map((b) => JSON.parse(Buffer.from(b).toString('utf8')) as unknown);
            expect(items).toEqual(pkts.map(([p]) => JSON.parse(JSON.stringify(p)) as unknown));
          }),
          { numRuns: 5, seed },
        );
      }),
      { numRuns: 150 },
    );
  });

  it('returns views of the chunk for items inside one chunk (no copy)', () => {
    const chunk = Buffer.from('["a",1]["b",2]');
    const s = new JsonSplitter(1000);
    s.push(chunk);
    const a = s.next() as Uint8Array;
    expect(a.buffer).toBe(chunk.buffer);
    expect(Buffer.from(s.next() as Uint8Array).toString()).toBe('["b",2]');
  });

  it('reports garbage with a ProtocolError and never throws anything else', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        const s = new JsonSplitter(100);
        try {
          s.push(bytes);
          while (s.next() !== undefined);
        } catch (e) {
          expect(e).toBeInstanceOf(ProtocolError);
        }
      }),
      { numRuns: 500 },
    );
    expect(() => {
      const s = new JsonSplitter(1000);
      s.push(Buffer.from('{"a":1}'));
      s.next();
    }).toThrow(ProtocolError);
  });

  it('enforces the size limit while the item is still open, and the depth limit', () => {
    const s = new JsonSplitter(64);
    s.push(Buffer.from(`["${'x'.repeat(40)}`));
    expect(s.next()).toBeUndefined();
    s.push(Buffer.from('x'.repeat(40)));
    expect(() => s.next()).toThrow(/exceeds the limit/);
    const d = new JsonSplitter(1 << 20, 10);
    d.push(Buffer.from('['.repeat(11)));
    expect(() => d.next()).toThrow(/deeper/);
  });

  it('flags long integers, which decode exactly', () => {
    const s = new JsonSplitter(1000);
    s.push(Buffer.from('["x",18446744073709551615,-9007199254740993,1.5,"12345678901234567890"]'));
    const item = Buffer.from(s.next() as Uint8Array).toString();
    expect(s.longNumber).toBe(true);
    expect(parseJsonExact(item)).toEqual(['x', 18446744073709551615n, -9007199254740993n, 1.5, '12345678901234567890']);
  });
});

describe('CborSplitter', () => {
  it('splits back-to-back CBOR arrays, cut anywhere, into exactly the items sent', () => {
    fc.assert(
      fc.property(fc.array(fc.array(cborValue, { maxLength: 5 }), { minLength: 1, maxLength: 6 }), fc.nat(), (pkts, seed) => {
        const encoded = pkts.map((p) => Buffer.from(cbor.encode(p)));
        const stream = Buffer.concat(encoded);
        return fc.assert(
          fc.property(cutsOf(stream.length), (cuts) => {
            const items = splitAll(new CborSplitter(1 << 20), stream, cuts).map((b) => Buffer.from(b).toString('hex'));
            expect(items).toEqual(encoded.map((b) => b.toString('hex')));
          }),
          { numRuns: 5, seed },
        );
      }),
      { numRuns: 150 },
    );
  });

  it('handles indefinite-length arrays, maps and strings, and tags', () => {
    // [_ "ab", (_ h'01' h'02'), {_ "k": 1}, 55799("x")] then [1]
    const hex = '9f626162 5f41014102ff bf616b01ff d9d9f76178 ff 8101'.replace(/ /g, '');
    const stream = Buffer.from(hex, 'hex');
    for (let size = 1; size <= stream.length; size++) {
      const cuts = [];
      for (let i = size; i < stream.length; i += size) cuts.push(i);
      const items = splitAll(new CborSplitter(1000), stream, cuts).map((b) => Buffer.from(b).toString('hex'));
      expect(items).toEqual([hex.slice(0, -4), '8101']);
    }
  });

  it('rejects a declared length past the limit before the payload arrives, non-arrays, reserved heads', () => {
    const s = new CborSplitter(1000);
    s.push(Buffer.from('815a7fffffff', 'hex'));
    expect(() => s.next()).toThrow(/exceeds the limit/);
    for (const hex of ['a0', '1c', '9c']) {
      const t = new CborSplitter(1000);
      t.push(Buffer.from(hex, 'hex'));
      expect(() => t.next()).toThrow(ProtocolError);
    }
  });

  it('reports garbage with a ProtocolError and never throws anything else', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        const s = new CborSplitter(100, 8);
        try {
          s.push(bytes);
          while (s.next() !== undefined);
        } catch (e) {
          expect(e).toBeInstanceOf(ProtocolError);
        }
      }),
      { numRuns: 500 },
    );
  });
});
