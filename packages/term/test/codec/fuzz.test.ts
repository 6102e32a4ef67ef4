import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { atom, decode, decodeTerm, encode, ProtocolError, type DecodeOptions } from '@courier/term';
import { termArb } from '../support/arbitraries.js';
import { fromHex } from '../support/bytes.js';
import { fullEncodings, loadCorpus } from '../support/corpus.js';

/**
 * Random and mutated input: decoding either returns a term or throws ProtocolError — no other
 * exception, no hang. 100 000 cases in CI, 20 000 locally; FUZZ_SEED replays a run.
 */
const CASES = process.env.CI === 'true' ? 100_000 : 20_000;
const SEED = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));

/** mulberry32: small, fast, seedable. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const TAGS = [70, 77, 80, 82, 88, 89, 90, 97, 98, 99, 100, 101, 102, 103, 104, 105, 106, 107, 108, 109, 110, 111, 112, 113, 114, 115, 116, 117, 118, 119, 120, 121];
const BIG = [[0xff, 0xff, 0xff, 0xff], [0x7f, 0xff, 0xff, 0xff], [0x00, 0x01, 0x00, 0x00], [0xff, 0xff], [0xff], [0x00, 0x00, 0x10, 0x00]];

function pool(): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const e of loadCorpus().entries) for (const { hex } of fullEncodings(e)) out.push(fromHex(hex));
  for (const t of fc.sample(termArb, { numRuns: 300, seed: SEED })) {
    out.push(encode(t));
    out.push(encode(t, { compressed: true }));
  }
  return out;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

function mutate(rand: () => number, inputs: Uint8Array[]): Uint8Array {
  const int = (n: number): number => Math.floor(rand() * n);
  const pick = (): Uint8Array => inputs[int(inputs.length)] as Uint8Array;
  const b = pick().slice();
  switch (int(8)) {
    case 0: {
      // random bytes, usually behind a version byte
      const r = new Uint8Array(int(64));
      for (let i = 0; i < r.length; i++) r[i] = int(256);
      if (r.length > 0 && rand() < 0.8) r[0] = 131;
      if (r.length > 1 && rand() < 0.5) r[1] = TAGS[int(TAGS.length)] as number;
      return r;
    }
    case 1: // bit flips
      for (let k = 1 + int(4); k > 0 && b.length > 1; k--) {
        const i = 1 + int(b.length - 1);
        b[i] = (b[i] as number) ^ (1 << int(8));
      }
      return b;
    case 2: // truncation
      return b.subarray(0, int(b.length));
    case 3: {
      // length-field inflation: a large value written over a random position
      const v = BIG[int(BIG.length)] as number[];
      const i = 1 + int(Math.max(1, b.length - 1));
      for (let k = 0; k < v.length && i + k < b.length; k++) b[i + k] = v[k] as number;
      return b;
    }
    case 4: {
      // splice: a prefix of one encoding, the suffix of another
      const other = pick();
      const out = new Uint8Array(int(b.length + 1) + int(other.length + 1));
      const head = out.length - Math.min(out.length, other.length);
      out.set(b.subarray(0, head));
      out.set(other.subarray(other.length - (out.length - head)), head);
      return out;
    }
    case 5: {
      // a random byte replaced by a tag
      if (b.length > 1) b[1 + int(b.length - 1)] = TAGS[int(TAGS.length)] as number;
      return b;
    }
    case 6: {
      // delete or duplicate a region
      const i = int(b.length);
      const n = 1 + int(8);
      if (rand() < 0.5) return concat(b.subarray(0, i), b.subarray(i + n));
      return concat(b.subarray(0, Math.min(b.length, i + n)), b.subarray(i));
    }
    default:
      // trailing garbage
      return concat(b, new Uint8Array([int(256), int(256)]));
  }
}

describe(`fuzz (seed ${SEED}, FUZZ_SEED=${SEED} to replay)`, () => {
  it(`${CASES} random and mutated inputs: a term or a ProtocolError, quickly`, () => {
    const rand = prng(SEED);
    const inputs = pool();
    const cache = (i: number) => (i < 8 ? atom(`cached_${i}`) : undefined);
    const options: DecodeOptions[] = [{}, { copyBinaries: true }, { atomCache: cache, maxDepth: 64 }];
    let decoded = 0;
    let rejected = 0;
    let slowest = 0;
    const t0 = performance.now();
    for (let n = 0; n < CASES; n++) {
      const input = mutate(rand, inputs);
      const opts = options[n % options.length] as DecodeOptions;
      const start = performance.now();
      try {
        if (n % 5 === 4) decodeTerm(input, Math.min(1, input.length), opts);
        else decode(input, opts);
        decoded++;
      } catch (err) {
        if (!(err instanceof ProtocolError)) {
          expect.fail(`case ${n} (seed ${SEED}) threw ${String(err)} for ${Buffer.from(input).toString('hex').slice(0, 400)}`);
        }
        rejected++;
      }
      slowest = Math.max(slowest, performance.now() - start);
    }
    const total = performance.now() - t0;
    expect(decoded + rejected).toBe(CASES);
    expect(rejected).toBeGreaterThan(CASES / 2);
    expect(decoded).toBeGreaterThan(0);
    expect(slowest).toBeLessThan(1000);
    expect(total).toBeLessThan(CASES * 2);
  }, 120_000);
});
