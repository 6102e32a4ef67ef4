import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decode, decodeTerm, encode, ProtocolError, type DecodeOptions } from '@courier/term';
import { termArb } from '../support/arbitraries.js';
import { atomCache, compressedFrame, retainedBytes, SHAPES } from '../support/hostile.js';

/**
 * Any bytes under any options: decoding returns a term or throws ProtocolError — never a
 * RangeError or a stack overflow — and a term it returns holds no more heap than the budget. COURIER_HOSTILE_RUNS sets the
 * number of generated cases (default 500; `npm run fuzz:hostile` runs 10,000).
 */
const RUNS = Number(process.env.COURIER_HOSTILE_RUNS ?? 500);
const MiB = 1024 * 1024;

const optionsArb: fc.Arbitrary<DecodeOptions> = fc.record(
  {
    maxDepth: fc.integer({ min: 0, max: 4096 }),
    maxTermBytes: fc.oneof(fc.integer({ min: 0, max: 64 }), fc.integer({ min: 0, max: 4 * MiB })),
    maxHeapBytes: fc.oneof(fc.integer({ min: 0, max: 4096 }), fc.integer({ min: 0, max: 16 * MiB })),
    maxBigBytes: fc.integer({ min: 0, max: 70_000 }),
    copyBinaries: fc.boolean(),
    atomCache: fc.constant(atomCache),
  },
  { requiredKeys: [] },
);

function u32(n: number): number[] {
  return [n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
}

const COUNTS = fc.oneof(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 0, max: 200_000 }), fc.constantFrom(0xffff_ffff, 0x7fff_ffff, 1 << 24, 1 << 26));
const SHAPE_NAMES = Object.keys(SHAPES);

/**
 * A list, tuple or map of `count` copies of one shape (map keys are distinct integers), nested
 * `depth` lists deep; its header usually tells the truth, else claims `claim` elements. Maybe
 * wrapped in a compressed term whose declared size may lie.
 */
interface Bomb {
  shape: string;
  container: number;
  count: number;
  claim: number | null;
  depth: number;
  compressed: boolean;
  lie: number;
}

/** Bombs are generated as their description (what a failure prints) and built in the property. */
const bombArb: fc.Arbitrary<Bomb> = fc.record({
  shape: fc.constantFrom(...SHAPE_NAMES),
  container: fc.constantFrom(108, 104, 105, 116),
  count: fc.oneof(fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 0, max: 100_000 })),
  claim: fc.option(COUNTS, { freq: 4 }),
  depth: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 3000 })),
  compressed: fc.boolean(),
  lie: fc.oneof(fc.constant(0), fc.integer({ min: -10, max: 10 }), fc.constantFrom(1 << 26, 0xffff_ffff)),
});

function build({ shape, container, count, claim, depth, compressed, lie }: Bomb): Uint8Array {
  const elem = SHAPES[shape] as (i: number) => number[];
  const n = container === 104 ? Math.min(count, 255) : count;
  const entry = container === 116 ? (i: number): number[] => [98, ...u32(i), ...elem(i)] : elem;
  const head: number[] = [131];
  for (let i = 0; i < depth; i++) head.push(108, 0, 0, 0, 1);
  const announced = claim ?? n;
  if (container === 104) head.push(104, announced & 0xff);
  else head.push(container, ...u32(announced));
  const size = entry(0).length;
  const out = new Uint8Array(head.length + n * size + depth + (container === 108 ? 1 : 0));
  out.set(head);
  for (let i = 0; i < n; i++) out.set(entry(i), head.length + i * size);
  out.fill(106, head.length + n * size);
  if (!compressed) return out;
  return compressedFrame(out, Math.max(0, Math.min(0xffff_ffff, out.length - 1 + lie)));
}

/** Encoded terms, cut or with bytes overwritten. */
const mutatedArb: fc.Arbitrary<Uint8Array> = fc
  .tuple(termArb, fc.boolean(), fc.nat(), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }))
  .map(([t, compress, cut, edits]) => {
    const b = encode(t, compress ? { compressed: true } : {}).slice();
    for (const [at, v] of edits) if (b.length > 1) b[1 + (at % (b.length - 1))] = v;
    return cut % 3 === 0 ? b.subarray(0, cut % (b.length + 1)) : b;
  });

const inputArb: fc.Arbitrary<Uint8Array | Bomb> = fc.oneof(
  fc.uint8Array({ maxLength: 300 }).map((b) => (b.length > 0 ? b.fill(131, 0, 1) : b)),
  fc.uint8Array({ maxLength: 300 }),
  bombArb,
  mutatedArb,
);

describe(`hostile input under any options (${RUNS} runs)`, () => {
  it('decodes or throws ProtocolError', () => {
    fc.assert(
      fc.property(inputArb, optionsArb, fc.boolean(), (generated, opts, atOffset) => {
        const input = generated instanceof Uint8Array ? generated : build(generated);
        try {
          if (atOffset && input.length > 0) decodeTerm(input, 1, opts);
          else decode(input, opts);
        } catch (err) {
          if (!(err instanceof ProtocolError)) throw err;
        }
      }),
      { numRuns: RUNS },
    );
  }, 600_000);

  const WEIGHED = Math.max(10, Math.ceil(RUNS / 25));
  it(`a term it lets through holds no more heap than maxHeapBytes (${WEIGHED} runs, each weighed)`, () => {
    // Truthful headers, 20,000 to 100,000 elements, budgets up to 4 MiB: most of these are refused.
    const truthful = bombArb.map((b) => ({ ...b, claim: null, compressed: false, count: 20_000 + (b.count % 80_000), depth: b.depth % 100 }));
    fc.assert(
      fc.property(truthful, fc.integer({ min: 0, max: 4 * MiB }), (bomb, maxHeapBytes) => {
        const input = build(bomb);
        let thrown: unknown;
        const { bytes } = retainedBytes(() => {
          try {
            return decode(input, { atomCache, maxHeapBytes });
          } catch (err) {
            thrown = err;
            return undefined;
          }
        });
        if (thrown !== undefined) expect(thrown).toBeInstanceOf(ProtocolError);
        // 5% and 1 MiB for the noise of a heap measurement.
        if (thrown === undefined) expect(bytes).toBeLessThan(1.05 * maxHeapBytes + MiB);
      }),
      { numRuns: WEIGHED },
    );
  }, 600_000);
});
