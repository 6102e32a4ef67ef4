import { Atom, BitBinary, ErlFloat, ErlMap, ImproperList, Pid, Port, Ref, Tuple, EncodeError, POOLED_MAX, atom, copyOut, pins, type Term } from '@courier/term';
import { put } from './own-key.js';
import { Tag } from 'cbor-x';
import { latin1, smallInt, unsendableText } from './natural.js';
import { SEND_BY_REFERENCE_MIN, largeBinaries } from '../framing/spliced.js';

/**
 * The extended mapping, spoken only between Courier nodes (both greetings carry `courier=1`): the
 * natural one plus tagged values for what JSON and CBOR lack, so that every term arrives equal.
 * In JSON a tagged value is an object with one key from {@link JSON_TAGS}; in CBOR it is a
 * Courier-private CBOR tag ({@link CBOR_TAGS}), and byte strings are binaries. See docs/aemp.md.
 */
export const JSON_TAGS = {
  atom: '~a',
  tuple: '~t',
  pid: '~p',
  ref: '~r',
  port: '~o',
  float: '~f',
  list: '~l',
  map: '~m',
  bits: '~bits',
  binary: '~b',
  bigint: '~i',
  /** A plain object whose only key happens to be one of these. */
  object: '~j',
} as const;

/**
 * The CBOR tags Courier gives the Erlang types JSON and CBOR lack (atom, tuple, pid, …) when it talks CBOR
 * to another Courier node.
 */
export const CBOR_TAGS = {
  atom: 49_600,
  tuple: 49_601,
  pid: 49_602,
  ref: 49_603,
  port: 49_604,
  float: 49_605,
  list: 49_606,
  map: 49_607,
  bits: 49_608,
} as const;

type Kind = keyof typeof CBOR_TAGS;
const JSON_KIND = new Map<string, keyof typeof JSON_TAGS>(Object.entries(JSON_TAGS).map(([k, v]) => [v, k as keyof typeof JSON_TAGS]));
const CBOR_KIND = new Map<number, Kind>(Object.entries(CBOR_TAGS).map(([k, v]) => [v, k as Kind]));
const UINT32 = 0xffffffff;

export type Style = 'json' | 'cbor';

/** A Courier term as a lossless JSON-able (style json) or cbor-x-encodable (style cbor) value. */
export function toCourier(t: Term, style: Style): unknown {
  switch (typeof t) {
    case 'string':
    case 'boolean':
      return t;
    case 'number':
      if (!Number.isFinite(t)) throw new EncodeError(`${t} has no JSON/CBOR form`);
      // An integral number past 2^53 is a float in the term model: it stays one.
      if (Number.isInteger(t) && !Number.isSafeInteger(t)) return style === 'cbor' ? new Tag(t, CBOR_TAGS.float) : { [JSON_TAGS.float]: t };
      return style === 'cbor' && Number.isInteger(t) && (t > UINT32 || t < -UINT32) ? BigInt(t) : t;
    case 'bigint':
      return style === 'cbor' ? t : { [JSON_TAGS.bigint]: t.toString() };
    case 'undefined':
      return null;
    case 'object':
      break;
    default:
      throw new EncodeError(`a ${typeof t} has no JSON/CBOR form`);
  }
  if (t === null) return null;
  if (Array.isArray(t)) return mapArray(t, style);
  const tag = (kind: Kind, value: unknown): unknown => (style === 'cbor' ? new Tag(value, CBOR_TAGS[kind]) : { [JSON_TAGS[kind]]: value });
  if (t instanceof Atom) return tag('atom', t.name);
  if (t instanceof Tuple) return tag('tuple', mapArray(t.elements, style));
  if (t instanceof Uint8Array) {
    if (style === 'json') return { [JSON_TAGS.binary]: Buffer.from(t.buffer, t.byteOffset, t.length).toString('base64') };
    if (t.length >= SEND_BY_REFERENCE_MIN) largeBinaries.count++;
    return t;
  }
  if (t instanceof Pid) return tag('pid', [t.node.name, t.id, t.serial, t.creation]);
  if (t instanceof Ref) return tag('ref', [t.node.name, t.creation, ...t.ids]);
  if (t instanceof Port) return tag('port', [t.node.name, toCourier(t.id, style), t.creation]);
  if (t instanceof ErlFloat) return tag('float', t.value);
  if (t instanceof ImproperList) return tag('list', [mapArray(t.items, style), toCourier(t.tail, style)]);
  if (t instanceof ErlMap) {
    const kv: unknown[] = [];
    for (const [k, v] of t) kv.push(toCourier(k, style), toCourier(v, style));
    return tag('map', kv);
  }
  if (t instanceof BitBinary) return tag('bits', [toCourier(t.bytes, style), t.bits]);
  if (Object.getPrototypeOf(t) !== Object.prototype) throw new EncodeError(`${unsendableText(t)} has no JSON/CBOR form`);
  const src = t as Record<string, Term>;
  const o: Record<string, unknown> = {};
  let keys = 0;
  let only = '';
  for (const k in src) {
    put(o, k, toCourier(src[k], style));
    only = k;
    keys++;
  }
  return style === 'json' && keys === 1 && JSON_KIND.has(only) ? { [JSON_TAGS.object]: o } : o;
}

function mapArray(a: readonly Term[], style: Style): unknown[] {
  const out = new Array<unknown>(a.length);
  for (let i = 0; i < a.length; i++) out[i] = toCourier(a[i], style);
  return out;
}

/** The term a Courier peer's JSON value stands for (inverse of {@link toCourier} 'json'). */
export function fromCourierJson(v: unknown): Term {
  if (typeof v !== 'object' || v === null) return v as Term;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const x = v[i] as unknown;
      if (typeof x === 'object' && x !== null) v[i] = fromCourierJson(x);
    }
    return v as Term[];
  }
  const o = v as Record<string, unknown>;
  let keys = 0;
  let only = '';
  for (const k in o) {
    only = k;
    if (++keys > 1) break;
  }
  const kind = keys === 1 ? JSON_KIND.get(only) : undefined;
  if (kind === undefined) {
    for (const k in o) put(o, k, fromCourierJson(o[k]));
    return o as Term;
  }
  const x = o[only];
  switch (kind) {
    case 'binary':
      return Buffer.from(String(x), 'base64');
    case 'bigint':
      return BigInt(String(x));
    case 'object': {
      const inner = x as Record<string, unknown>;
      for (const k in inner) put(inner, k, fromCourierJson(inner[k]));
      return inner as Term;
    }
    default:
      return tagged(kind, fromCourierJson(x));
  }
}

/** The term a Courier peer's CBOR value (as cbor-x decodes it) stands for. */
export function fromCourierCbor(v: unknown): Term {
  if (typeof v !== 'object' || v === null) return v === undefined ? null : typeof v === 'bigint' ? smallInt(v) : (v as Term);
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const x = v[i] as unknown;
      if (typeof x === 'object' && x !== null) v[i] = fromCourierCbor(x);
      else if (x === undefined) v[i] = null;
      else if (typeof x === 'bigint') v[i] = smallInt(x);
    }
    return v as Term[];
  }
  if (v instanceof Uint8Array) return keepable(v);
  if (v instanceof Tag) {
    const kind = CBOR_KIND.get(v.tag);
    return kind === undefined ? fromCourierCbor(v.value) : tagged(kind, fromCourierCbor(v.value));
  }
  if (v instanceof Map) {
    const o: Record<string, Term> = {};
    for (const [k, x] of v) put(o, typeof k === 'string' ? k : k instanceof Uint8Array ? latin1(k) : String(k), fromCourierCbor(x));
    return o;
  }
  return v as Term;
}

/**
 * A byte string cbor-x decoded is a view of the packet's bytes, which lie in a socket chunk (or
 * the one copy of a packet that spanned chunks). A view pins that whole buffer, so a binary of at
 * most a quarter of it is copied out, as the erl-dist receive path does (Erlang's rule; see
 * @courier/term's binary-copy); a larger one stays a view.
 */
function keepable(b: Uint8Array): Uint8Array {
  return pins(b, b.length) ? copyOut(b, 0, b.length, b.length <= POOLED_MAX) : b;
}

const bad = (kind: string): never => {
  throw new TypeError(`a malformed ${kind} value`);
};

/** Build the Courier value of a tag from its (already converted) content. Throws TypeError on a malformed one. */
function tagged(kind: keyof typeof JSON_TAGS, x: Term): Term {
  const arr = (n: number): Term[] => (Array.isArray(x) && x.length >= n ? x : bad(kind));
  switch (kind) {
    case 'atom':
      return typeof x === 'string' ? atom(x) : bad(kind);
    case 'tuple':
      return new Tuple(arr(0));
    case 'pid': {
      const [n, id, serial, creation] = arr(4);
      return new Pid(atom(String(n)), Number(id), Number(serial), Number(creation));
    }
    case 'ref': {
      const [n, creation, ...ids] = arr(3);
      return new Ref(atom(String(n)), Number(creation), ids.map(Number));
    }
    case 'port': {
      const [n, id, creation] = arr(3);
      return new Port(atom(String(n)), typeof id === 'bigint' ? id : Number(id), Number(creation));
    }
    case 'float':
      return typeof x === 'number' || typeof x === 'bigint' ? new ErlFloat(Number(x)) : bad(kind);
    case 'list': {
      const [items, tail] = arr(2);
      return new ImproperList(Array.isArray(items) ? items : bad(kind), tail);
    }
    case 'map': {
      const kv = arr(0);
      const m = new ErlMap();
      for (let i = 0; i + 1 < kv.length; i += 2) m.set(kv[i], kv[i + 1]);
      return m;
    }
    case 'bits': {
      const [bytes, bits] = arr(2);
      return new BitBinary(bytes instanceof Uint8Array ? bytes : typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bad(kind), Number(bits));
    }
    default:
      return bad(kind);
  }
}
