import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Decoder, Encoder, Tag } from 'cbor-x';
import { ProtocolError, type Term } from '@courier/term';
import { CBOR_TAGS, PacketReader, PacketWriter, toCourier } from '@courier/transport-aemp';
import { encodeSpliced, SEND_BY_REFERENCE_MIN } from '../../src/framing/spliced.js';
import { adjoin } from '../../src/framing/codec.js';

const CBOR_OPTIONS = { useRecords: false, mapsAsObjects: false, tagUint8Array: false, variableMapSize: true, pack: false } as const;

/** Feed `stream` cut at `cuts` (sorted offsets) to a reader and collect every packet. */
function readAll(r: PacketReader, stream: Uint8Array, cuts: readonly number[]): Term[][] {
  const out: Term[][] = [];
  let at = 0;
  for (const c of [...cuts, stream.length]) {
    if (c > at) r.push(stream.subarray(at, c));
    at = Math.max(at, c);
    for (let p = r.next(); p !== undefined; p = r.next()) out.push(p);
  }
  return out;
}

/** Packets as Perl writes JSON: strings (some non-ASCII), numbers (some past 2^53), nesting, whitespace between. */
const jsonPacket = fc.array(
  fc.oneof(
    fc.string(),
    fc.string({ unit: 'grapheme' }),
    fc.integer(),
    fc.bigInt({ min: -(2n ** 64n), max: 2n ** 64n }).map((b) => ({ big: b })),
    fc.array(fc.oneof(fc.string(), fc.integer(), fc.constant(null)), { maxLength: 3 }),
  ),
  { maxLength: 5 },
);
type Big = { big: bigint };
const isBig = (x: unknown): x is Big => typeof x === 'object' && x !== null && 'big' in x;
const jsonText = (p: unknown[]): string => `[${p.map((x) => (isBig(x) ? String(x.big) : JSON.stringify(x))).join(',')}]`;
const jsonValue = (p: unknown[]): unknown[] => p.map((x) => (isBig(x) ? (x.big >= -(2n ** 53n) && x.big <= 2n ** 53n ? Number(x.big) : x.big) : x));

describe('PacketReader (json): the items of one chunk decoded with one call', () => {
  it('reads exactly the packets sent, the stream cut anywhere', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(jsonPacket, fc.constantFrom('', ' ', '\n')), { minLength: 1, maxLength: 8 }), fc.array(fc.nat(), { maxLength: 10 }), (pkts, rawCuts) => {
        const stream = Buffer.from(pkts.map(([p, ws]) => jsonText(p) + ws).join(''), 'utf8');
        const cuts = [...new Set(rawCuts.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b);
        expect(readAll(new PacketReader('json', 'perl', 1 << 20), stream, cuts)).toEqual(pkts.map(([p]) => jsonValue(p)));
      }),
      { numRuns: 300 },
    );
  });

  it('reads them with the stream split in two at every byte boundary, and fed byte by byte', () => {
    const text = '["a",1]  ["é€𝄞",[2,"x\\"]["]]\n["b",18446744073709551615]["c",{"k":"ü"}]["d"]';
    const want = [['a', 1], ['é€𝄞', [2, 'x"][']], ['b', 18446744073709551615n], ['c', { k: 'ü' }], ['d']];
    const stream = Buffer.from(text, 'utf8');
    for (let i = 0; i <= stream.length; i++) expect(readAll(new PacketReader('json', 'perl', 1000), stream, [i])).toEqual(want);
    expect(
      readAll(
        new PacketReader('json', 'perl', 1000),
        stream,
        Array.from({ length: stream.length }, (_, i) => i),
      ),
    ).toEqual(want);
  });

  it('returns the packets before a malformed one, then fails with a ProtocolError (bad text, or a non-array between packets)', () => {
    const bad = new PacketReader('json', 'perl', 1000);
    bad.push(Buffer.from('["a"]["b"][1,,2]["c"]'));
    expect(bad.next()).toEqual(['a']);
    expect(bad.next()).toEqual(['b']);
    expect(() => bad.next()).toThrow(expect.objectContaining({ code: 'JSON_BAD_PACKET' }) as Error);
    const between = new PacketReader('json', 'perl', 1000);
    between.push(Buffer.from('["a"]["b"]{"c":1}'));
    expect(between.next()).toEqual(['a']);
    expect(between.next()).toEqual(['b']);
    expect(() => between.next()).toThrow(ProtocolError);
    expect(() => between.next()).toThrow(ProtocolError);
  });
});

describe('PacketReader (cbor, Courier peer): received binaries', () => {
  const enc = new Encoder(CBOR_OPTIONS);

  it('copies out a binary of at most a quarter of the received buffer, keeps a larger one a view', () => {
    const small = Buffer.alloc(100, 1);
    const large = Buffer.alloc(20_000, 2);
    const chunk = Buffer.concat([enc.encode(['p', small]), enc.encode(['p', large]), Buffer.alloc(30_000)]).subarray(0, 20_200);
    const r = new PacketReader('cbor', 'courier', 1 << 20);
    r.push(chunk);
    const a = r.next() as Term[];
    const b = r.next() as Term[];
    expect(Buffer.from(a[1] as Uint8Array).equals(small)).toBe(true);
    expect((a[1] as Uint8Array).buffer).not.toBe(chunk.buffer);
    expect(Buffer.from(b[1] as Uint8Array).equals(large)).toBe(true);
    expect((b[1] as Uint8Array).buffer).toBe(chunk.buffer);
  });

  it('copies a packet that spans reads once: its large binary is a view of that one copy, not of a read', () => {
    const large = Buffer.alloc(50_000, 3);
    const bytes = Buffer.from(enc.encode(['p', large]));
    const r = new PacketReader('cbor', 'courier', 1 << 20);
    const parts = [bytes.subarray(0, 10_000), bytes.subarray(10_000, 30_000), bytes.subarray(30_000)].map((p) => Buffer.from(p));
    for (const p of parts.slice(0, 2)) {
      r.push(p);
      expect(r.next()).toBeUndefined();
    }
    r.push(parts[2] as Buffer);
    const got = (r.next() as Term[])[1] as Uint8Array;
    expect(Buffer.from(got).equals(large)).toBe(true);
    for (const p of parts) expect(got.buffer).not.toBe(p.buffer);
    // A view of the reassembled packet: the binary is most of its buffer.
    expect(got.length).toBeGreaterThan(got.buffer.byteLength * 0.25);
  });
});

describe('PacketWriter (cbor): large binaries by reference', () => {
  const dec = new Decoder(CBOR_OPTIONS);

  it('writes a binary of SEND_BY_REFERENCE_MIN+ bytes as its own chunk, the same bytes as one encoding', () => {
    const big = Buffer.alloc(SEND_BY_REFERENCE_MIN, 7);
    const small = Buffer.alloc(SEND_BY_REFERENCE_MIN - 1, 8);
    for (const dialect of ['courier', 'perl'] as const) {
      const w = new PacketWriter('cbor', dialect);
      const msg: Term = [small, { k: big }, [big, 1, 'x']];
      w.packet(['port', w.value(msg)]);
      const chunks = w.take();
      expect(chunks.filter((c) => c === big)).toHaveLength(2);
      expect(chunks.some((c) => c === small)).toBe(false);
      const once = new Encoder(CBOR_OPTIONS).encode(['port', w.value(msg)]);
      expect(Buffer.concat(chunks).equals(once)).toBe(true);
    }
  });

  it('encodes any value with large binaries to the bytes cbor-x writes for it whole', () => {
    const min = 16;
    const bin = fc.oneof(fc.uint8Array({ maxLength: 8 }), fc.uint8Array({ minLength: min, maxLength: 300 }));
    const value = fc.letrec((tie) => ({
      v: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        bin,
        fc.string(),
        fc.integer(),
        fc.double({ noNaN: true }),
        fc.constant(null),
        fc.array(tie('v'), { maxLength: 30 }),
        fc.tuple(fc.constantFrom(...Object.values(CBOR_TAGS)), tie('v')).map(([t, v]) => new Tag(v, t)),
        fc.dictionary(fc.string({ maxLength: 4 }), tie('v'), { maxKeys: 3 }),
      ),
    })).v;
    fc.assert(
      fc.property(value, (v) => {
        const enc = new Encoder(CBOR_OPTIONS);
        const chunks = encodeSpliced(enc, v, min);
        expect(Buffer.concat(chunks).equals(new Encoder(CBOR_OPTIONS).encode(v))).toBe(true);
        expect(dec.decode(Buffer.concat(chunks))).toEqual(dec.decode(new Encoder(CBOR_OPTIONS).encode(v)));
      }),
      { numRuns: 500 },
    );
  });

  it('leaves the mapping of binaries to Courier values unchanged (JSON still base64)', () => {
    const big = Buffer.alloc(SEND_BY_REFERENCE_MIN, 1);
    expect(toCourier(big, 'cbor')).toBe(big);
    expect(toCourier(big, 'json')).toEqual({ '~b': big.toString('base64') });
  });
});

describe('PacketWriter (cbor): one flush, few chunks', () => {
  it('writes the packets of a flush as one chunk (adjacent in the encoder buffer), a large binary apart', () => {
    const w = new PacketWriter('cbor', 'courier');
    for (let i = 0; i < 100; i++) w.packet(['p', i]);
    const one = w.take();
    expect(one).toHaveLength(1);
    expect(new Decoder(CBOR_OPTIONS).decodeMultiple(one[0] as Uint8Array)).toHaveLength(100);
    const big = Buffer.alloc(SEND_BY_REFERENCE_MIN, 9);
    w.packet(['p', 1]);
    w.packet(['p', w.value(big)]);
    w.packet(['p', 2]);
    const chunks = w.take();
    // [p 1 + the big packet's heads] [big] [p 2]: the heads are written apart, so 4 at most.
    expect(chunks.length).toBeLessThanOrEqual(4);
    expect(chunks.filter((c) => c === big)).toHaveLength(1);
    expect(new Decoder(CBOR_OPTIONS).decodeMultiple(Buffer.concat(chunks))).toHaveLength(3);
  });

  it('adjoin keeps the bytes and their order, whatever the views', () => {
    const base = Buffer.from(Array.from({ length: 64 }, (_, i) => i));
    const other = Buffer.from(base);
    const view = fc.tuple(fc.boolean(), fc.nat(63), fc.nat(8)).map(([o, at, n]) => (o ? other : base).subarray(at, Math.min(64, at + n)));
    fc.assert(
      fc.property(fc.array(view, { maxLength: 12 }), fc.nat(40), (views, from) => {
        // Runs of adjacent views too: consecutive slices of base.
        const runs = [base.subarray(from, from + 3), base.subarray(from + 3, from + 7), ...views];
        const got = adjoin(runs);
        expect(Buffer.concat(got).equals(Buffer.concat(runs))).toBe(true);
        expect(got.length).toBeLessThan(runs.length);
      }),
      { numRuns: 300 },
    );
  });
});
