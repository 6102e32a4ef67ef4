import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ErlMap, Pid, atom, encode, tuple, type Term } from '@courier/term';

/**
 * The term shapes of `npm run bench:codec`. One op decodes (or encodes) every item of a shape.
 *
 * - decode: both libraries get the same bytes.
 * - encode: each library encodes the same logical value from its own natural representation
 *   (Courier: Term with Uint8Array binaries and ErlMap; erlpack: plain JS, where a string is a
 *   binary and an object a map with binary keys); the run checks that both write the same bytes
 *   before timing them.
 */
export interface Shape {
  readonly name: string;
  /** The encodings both decoders are given. */
  readonly bytes: readonly Uint8Array[];
  /** Courier's values to encode; undefined when this shape has no encode row of its own. */
  readonly courier?: readonly Term[];
  /** The same values as erlpack represents them, or why it cannot. */
  readonly erlpack?: readonly unknown[] | string;
  /** Why erlpack cannot decode `bytes`, said in place of its error message. */
  readonly whyNotDecode?: string;
  /**
   * Courier decodes with `copyBinaries` (binaries copied out, as erlpack's strings are): a row for
   * the cost of that mode, beside the default one, not one the target is about.
   */
  readonly copyBinaries?: boolean;
}

const bin = (s: string): Uint8Array => Buffer.from(s, 'latin1');
const NO_TUPLES = 'erlpack.pack has no tuple, atom or pid (arrays become lists, strings binaries)';

/** {6, FromPid, '', net_kernel}: a REG_SEND control message. */
const node = atom('courier@127.0.0.1');
const control = tuple(6, new Pid(node, 94, 0, 1795305583), atom(''), atom('net_kernel'));

/**
 * The same control tuple with the tags erlpack reads, as OTP before 23 wrote it: PID_EXT (103,
 * 8-bit creation) and ATOM_EXT (100). OTP 23+ writes NEW_PID_EXT, OTP 26+ UTF-8 atoms.
 */
function legacyControl(): Uint8Array {
  const atomExt = (name: string): number[] => [100, 0, name.length, ...bin(name)];
  const u32 = (v: number): number[] => [v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
  const pid = [103, ...atomExt(node.name), ...u32(94), ...u32(0), 3];
  return Uint8Array.from([131, 104, 4, 97, 6, ...pid, ...atomExt(''), ...atomExt('net_kernel')]);
}

/** A Discord-gateway-like event: binary keys, integers, binaries and a nested map. */
const gatewayJs = { op: 0, t: 'MESSAGE_CREATE', s: 42, d: { id: '1234567890123456789', channel_id: '987654321098765432', content: 'hello, world', nonce: 987654321 } };

/** 50 binary keys with integers, floats, binaries and a small nested map (about 1 KiB). */
const map50Js: Record<string, unknown> = {};
for (let i = 0; i < 50; i++) {
  map50Js[`field_${i}`] = i % 4 === 0 ? i * 1000 : i % 4 === 1 ? i + 0.5 : i % 4 === 2 ? `value-${i}` : { tag: i };
}

/** erlpack's plain-JS value as Courier's Term: strings are binaries, objects maps with binary keys. */
function asCourier(v: unknown): Term {
  if (typeof v === 'string') return bin(v);
  if (Array.isArray(v)) return v.map(asCourier);
  if (typeof v === 'object' && v !== null) return new ErlMap(Object.entries(v).map(([k, x]) => [bin(k), asCourier(x)] as [Term, Term]));
  return v as Term;
}

/** 64 KiB of ASCII, so that erlpack's binary-as-string is lossless both ways. */
const KiB64 = 'abcdefghijklmnopqrstuvwxyz0123456789'.repeat(2000).slice(0, 65536);

/** [0, [1, [2, … [199, []]]]]: 200 levels, within erlpack's encoder limit of 256. */
function deepList(depth: number): Term[] {
  let t: Term[] = [];
  for (let i = depth - 1; i >= 0; i--) t = [i, t];
  return t;
}

/** 10,000 integers, most past 255 (INTEGER_EXT). */
const longList = Array.from({ length: 10_000 }, (_, i) => i * 7919);

function one(name: string, js: unknown, whyNotDecode?: string): Shape {
  const courier = asCourier(js);
  return { name, bytes: [encode(courier)], courier: [courier], erlpack: [js], ...(whyNotDecode === undefined ? {} : { whyNotDecode }) };
}

export function shapes(): Shape[] {
  return [
    {
      name: "control tuple {6, Pid, '', net_kernel}, OTP 26 tags",
      bytes: [encode(control)],
      courier: [control],
      erlpack: NO_TUPLES,
      whyNotDecode: 'NEW_PID_EXT (88, OTP 23+) and SMALL_ATOM_UTF8_EXT (119, OTP 26+) are unknown to erlpack',
    },
    { name: 'the same, pre-OTP-23 tags (PID_EXT, ATOM_EXT)', bytes: [legacyControl()] },
    one('gateway event map (binary keys, nested map)', gatewayJs),
    one('map of 50 binary keys', map50Js),
    one('64 KiB binary', KiB64),
    { name: '64 KiB binary, Courier with copyBinaries', bytes: [encode(bin(KiB64))], copyBinaries: true },
    one('deep list (200 levels)', deepList(200)),
    one('list of 10,000 integers', longList),
  ];
}

/** The corpus of OTP-produced terms that packages/term's tests use (a copy of shared/vectors/erlang). */
const CORPUS = fileURLToPath(new URL('../../packages/term/test/fixtures/etf-corpus.json', import.meta.url));

export interface CorpusTerm {
  readonly id: string;
  readonly category: string;
  readonly bytes: Uint8Array;
}

/** Every entry stored whole (term_to_binary/1 on OTP 25; three large ones are stored truncated). */
export function corpus(): { readonly otp: string; readonly terms: CorpusTerm[] } {
  const c = JSON.parse(readFileSync(CORPUS, 'utf8')) as {
    otp_release: string;
    entries: { id: string; category: string; t2b_hex?: string; t2b_truncated?: boolean }[];
  };
  const terms = c.entries.flatMap((e) => (e.t2b_hex === undefined || e.t2b_truncated === true ? [] : [{ id: e.id, category: e.category, bytes: Buffer.from(e.t2b_hex, 'hex') }]));
  return { otp: c.otp_release, terms };
}
