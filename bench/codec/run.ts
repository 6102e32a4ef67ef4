/**
 * `npm run bench:codec`: Courier's term codec (@courier/term) against erlpack, Discord's native
 * ETF addon (what a Node.js user would pick instead), in the same process and the same run:
 * decode and encode of the shapes in shapes.ts and of the OTP corpus packages/term's tests use.
 * Decode rows give both libraries the same bytes; encode rows give each library the same logical
 * value in its own representation and check that both write the same bytes. Rows erlpack cannot
 * do say so ("not handled by erlpack") instead of a ratio. Target: Courier/erlpack ≥ 1.0× on
 * every row erlpack handles. `--quick` shortens the rounds. Not a test; not in CI.
 */
import { decode, encode, type Term } from '@courier/term';
import { runInfo } from '../run-info.js';
import { loadErlpack, probe, type Erlpack, type Probe } from './erlpack.js';
import { compare, ROUNDS, type Timing } from './measure.js';
import { corpus, shapes, type Shape } from './shapes.js';

const quick = process.argv.includes('--quick');
const TIMING: Timing = quick ? { warmupMs: 100, roundMs: 100 } : { warmupMs: 300, roundMs: 400 };
const TARGET = 1.0;

interface Row {
  readonly shape: string;
  readonly op: 'decode (same bytes)' | 'encode (same term)';
  readonly bytes: number;
  readonly courier: number;
  /** erlpack's ops/s, or the footnote saying why there is none. */
  readonly erlpack: number | string;
  /** A row beside the target (Courier's copyBinaries mode). */
  readonly informative?: boolean;
}

const loaded = loadErlpack();
const erlpack: Erlpack | undefined = 'erlpack' in loaded ? loaded.erlpack : undefined;
const notes: string[] = [];

/** A footnote's mark, the same text getting the same mark. */
function note(text: string): string {
  let i = notes.indexOf(text);
  if (i < 0) i = notes.push(text) - 1;
  return `not handled by erlpack [${i + 1}]`;
}

const sum = (bs: readonly Uint8Array[]): number => bs.reduce((n, b) => n + b.length, 0);

/** Why erlpack cannot decode the bytes of `s` (its probes say), or undefined when it can. */
function whyNotDecode(s: Shape, probes: readonly Probe[] | undefined): string | undefined {
  if (erlpack === undefined || probes === undefined) return 'erlpack not available';
  const failed = probes.find((p) => !p.decodes);
  return failed === undefined ? undefined : (s.whyNotDecode ?? `erlpack.unpack throws "${failed.error ?? ''}"`);
}

function decodeRow(s: Shape, why: string | undefined): Row {
  const bufs = s.bytes.map((b) => Buffer.from(b));
  const opts = s.copyBinaries === true ? { copyBinaries: true } : undefined;
  const courierOp = (): unknown => {
    let t: Term | undefined;
    for (const b of bufs) t = decode(b, opts);
    return t;
  };
  const erlpackOp =
    erlpack === undefined || why !== undefined
      ? undefined
      : (): unknown => {
          let v: unknown;
          for (const b of bufs) v = erlpack.unpack(b);
          return v;
        };
  const r = compare(courierOp, erlpackOp, TIMING);
  return { shape: s.name, op: 'decode (same bytes)', bytes: sum(bufs), courier: r.a, erlpack: r.b ?? note(why ?? 'erlpack not available'), informative: s.copyBinaries === true };
}

function encodeRow(s: Shape, courierValues: readonly Term[]): Row {
  const out = courierValues.map((v) => encode(v));
  const courierOp = (): unknown => {
    let b: Uint8Array | undefined;
    for (const v of courierValues) b = encode(v);
    return b;
  };
  let erlpackOp: (() => unknown) | undefined;
  let why = erlpack === undefined ? 'erlpack not available' : typeof s.erlpack === 'string' ? s.erlpack : undefined;
  if (erlpack !== undefined && Array.isArray(s.erlpack)) {
    const values = s.erlpack as unknown[];
    const differs = values.findIndex((v, i) => Buffer.compare(erlpack.pack(v), out[i] as Uint8Array) !== 0);
    if (differs >= 0) throw new Error(`${s.name}: erlpack and Courier encode item ${differs} differently; the values are not the same term`);
    erlpackOp = (): unknown => {
      let b: Buffer | undefined;
      for (const v of values) b = erlpack.pack(v);
      return b;
    };
  } else why ??= 'no erlpack value for this shape';
  const r = compare(courierOp, erlpackOp, TIMING);
  return { shape: s.name, op: 'encode (same term)', bytes: sum(out), courier: r.a, erlpack: r.b ?? note(why ?? '') };
}

/** The corpus shapes: the terms erlpack decodes, those it round-trips byte for byte, and all of them. */
function corpusShapes(probes: readonly Probe[] | undefined): { shapes: Shape[]; rejected: string } {
  const { otp, terms } = corpus();
  const label = `OTP ${otp} corpus`;
  const all: Shape = {
    name: `${label}, all ${terms.length} terms`,
    bytes: terms.map((t) => t.bytes),
    courier: terms.map((t) => decode(t.bytes)),
    erlpack: 'erlpack cannot represent atoms, tuples, pids, … (it has no types for them)',
    whyNotDecode: 'some of these terms erlpack cannot decode (counted below)',
  };
  if (erlpack === undefined || probes === undefined) return { shapes: [all], rejected: '' };
  const decodable = terms.filter((_, i) => probes[i]?.decodes === true);
  // Encode: the terms both libraries write back exactly as OTP did, so the value is the same term.
  const exact = terms.filter((t, i) => probes[i]?.roundTrips === true && Buffer.compare(encode(decode(t.bytes)), t.bytes) === 0);
  const byCategory = new Map<string, number>();
  terms.forEach((t, i) => {
    if (probes[i]?.decodes !== true) byCategory.set(t.category, (byCategory.get(t.category) ?? 0) + 1);
  });
  const rejected = [...byCategory].map(([c, n]) => `${c} ${n}`).join(', ');
  return {
    shapes: [
      { name: `${label}, the ${decodable.length} terms erlpack decodes`, bytes: decodable.map((t) => t.bytes) },
      {
        name: `${label}, the ${exact.length} terms both re-encode as OTP did`,
        bytes: exact.map((t) => t.bytes),
        courier: exact.map((t) => decode(t.bytes)),
        erlpack: exact.map((t) => erlpack.unpack(t.bytes)),
      },
      all,
    ],
    rejected: `erlpack rejects ${terms.length - decodable.length} of the ${terms.length} corpus terms (${rejected})`,
  };
}

function table(rows: readonly Row[]): string {
  const num = (x: number): string => Math.round(x).toLocaleString('en-US');
  const mbs = (ops: number, bytes: number): string => ((ops * bytes) / 1e6).toFixed(1);
  const cells = rows.map((r) => {
    const e = typeof r.erlpack === 'number' ? r.erlpack : undefined;
    const verdict = (x: number): string => (r.informative === true ? '(copy mode: no target)' : x >= TARGET ? 'met' : 'MISSED');
    const ratio = e === undefined ? (r.erlpack as string) : `${(r.courier / e).toFixed(2)}× ${verdict(r.courier / e)}`;
    return [r.shape, r.op, num(r.bytes), num(r.courier), mbs(r.courier, r.bytes), e === undefined ? '-' : num(e), e === undefined ? '-' : mbs(e, r.bytes), ratio];
  });
  const head = ['shape', 'op', 'bytes/op', 'Courier ops/s', 'Courier MB/s', 'erlpack ops/s', 'erlpack MB/s', `Courier/erlpack (target ≥ ${TARGET.toFixed(1)}×)`];
  const all = [head, ...cells];
  const widths = head.map((_, i) => Math.max(...all.map((r) => (r[i] as string).length)));
  const right = [false, false, true, true, true, true, true, false];
  const line = (r: string[]): string => `| ${r.map((c, i) => (right[i] ? c.padStart(widths[i] as number) : c.padEnd(widths[i] as number))).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (right[i] ? `${'-'.repeat(w + 1)}:` : '-'.repeat(w + 2))).join('|')}|`;
  return [line(head), rule, ...cells.map(line)].join('\n');
}

function main(): void {
  const plain = shapes();
  const { terms } = corpus();
  const path = 'path' in loaded ? loaded.path : undefined;
  const probes = path === undefined ? undefined : probe(path, [...plain.flatMap((s) => s.bytes), ...terms.map((t) => t.bytes)]);
  let at = 0;
  const cases = plain.map((s) => ({ s, why: whyNotDecode(s, probes?.slice(at, (at += s.bytes.length))) }));
  const { shapes: corpusRows, rejected } = corpusShapes(probes?.slice(at));
  for (const s of corpusRows) cases.push({ s, why: erlpack === undefined ? 'erlpack not available' : s.whyNotDecode });

  const rows: Row[] = [];
  for (const { s, why } of cases) {
    rows.push(decodeRow(s, why));
    if (s.courier !== undefined) rows.push(encodeRow(s, s.courier));
  }

  console.log('Term codec: Courier (@courier/term) against erlpack, the same shapes in one process.');
  console.log(
    'decode: the same bytes to both (Courier returns Term classes, binaries as views of the input unless copyBinaries;\n' +
      'erlpack returns plain JS: binaries and atoms as strings, tuples as arrays). encode: the same term from each\n' +
      "library's own representation (Courier: Uint8Array binaries, ErlMap; erlpack: strings for binaries, objects for\n" +
      'maps), checked to give identical bytes, each call returning a new buffer. One op = every item of the shape.',
  );
  console.log(
    runInfo({
      courier: '@courier/term from source through tsx',
      runtimes: ['erlpack' in loaded ? `erlpack ${loaded.version} (native addon, built here by node-gyp)` : `erlpack not available: ${loaded.missing}`],
      statistic: `best of ${ROUNDS} rounds of ~${TIMING.roundMs} ms after a ${TIMING.warmupMs} ms warm-up, Courier and erlpack interleaved, same process`,
    }),
  );
  console.log(`\n${table(rows)}\n`);
  notes.forEach((n, i) => console.log(`[${i + 1}] ${n}`));
  if (rejected !== '') console.log(rejected);
}

main();
