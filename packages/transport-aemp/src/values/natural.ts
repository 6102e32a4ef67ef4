import { Atom, BitBinary, ErlExport, ErlFloat, ErlFun, ErlMap, ImproperList, Pid, Port, Ref, Tuple, EncodeError, formatErlang, type Term } from '@courier/term';
import { put } from './own-key.js';
import { Tag } from 'cbor-x';
import { portIdOfPid } from './port-id.js';
import { SEND_BY_REFERENCE_MIN, largeBinaries } from '../framing/spliced.js';

/**
 * The natural mapping, spoken with Perl nodes: what a Perl program would write and read.
 * JSON/CBOR null, booleans, numbers, strings, arrays and maps are Courier's null, booleans,
 * numbers (bigint past 2^53), strings, arrays and plain objects. Courier values Perl has no
 * word for become the nearest Perl value: an atom its name, a tuple an array, a pid its port id
 * `node#~id.serial.creation` (so Perl can `snd` to it), a reference or port its printed form,
 * a binary a byte string (CBOR) or a Latin-1 string (JSON), a map an object keyed by strings.
 * See docs/aemp.md for the whole table.
 */
export type BinaryStyle = 'bytes' | 'latin1';

const MAX_SAFE = Number.MAX_SAFE_INTEGER;
const UINT32 = 0xffffffff;

/** A Courier term as a value JSON::XS / CBOR::XS reads naturally. Returns the input when it needs no change. */
export function toPerl(t: Term, binary: BinaryStyle): unknown {
  switch (typeof t) {
    case 'string':
    case 'boolean':
      return t;
    case 'number':
      if (!Number.isFinite(t)) throw new EncodeError(`${t} has no JSON/CBOR form a Perl node reads`);
      // cbor-x writes integers past 32 bits as floats; a bigint keeps them integers.
      return binary === 'bytes' && Number.isInteger(t) && (t > UINT32 || t < -UINT32) ? BigInt(t) : t;
    case 'bigint':
      if (binary === 'bytes') return t;
      return t >= -MAX_SAFE && t <= MAX_SAFE ? Number(t) : t.toString();
    case 'undefined':
      return null;
    case 'object':
      break;
    default:
      throw new EncodeError(`a ${typeof t} cannot be sent to a Perl node`);
  }
  if (t === null) return null;
  if (Array.isArray(t)) return arrayToPerl(t, binary);
  if (t instanceof Atom) return t.name;
  if (t instanceof Uint8Array) {
    if (binary === 'latin1') return Buffer.from(t.buffer, t.byteOffset, t.length).toString('latin1');
    if (t.length >= SEND_BY_REFERENCE_MIN) largeBinaries.count++;
    return t;
  }
  if (t instanceof Tuple) return arrayToPerl(t.elements, binary);
  if (t instanceof Pid) return portIdOfPid(t);
  if (t instanceof ErlFloat) return t.value;
  if (t instanceof Ref || t instanceof Port) return t.toString();
  if (t instanceof ImproperList) return arrayToPerl([...t.items, t.tail], binary);
  if (t instanceof BitBinary) return toPerl(t.bytes, binary);
  if (t instanceof ErlMap) {
    const o: Record<string, unknown> = {};
    for (const [k, v] of t) put(o, keyText(k), toPerl(v, binary));
    return o;
  }
  if (t instanceof Tag || Object.getPrototypeOf(t) !== Object.prototype) throw new EncodeError(`${unsendableText(t)} cannot be sent to a Perl node`);
  let out: Record<string, unknown> | undefined;
  const src = t as Record<string, Term>;
  for (const k in src) {
    const v = src[k];
    const w = toPerl(v, binary);
    if (w !== v && out === undefined) out = { ...src };
    if (out !== undefined) put(out, k, w);
  }
  return out ?? src;
}

function arrayToPerl(a: readonly Term[], binary: BinaryStyle): unknown[] {
  let out: unknown[] | undefined;
  for (let i = 0; i < a.length; i++) {
    const v = a[i];
    const w = toPerl(v, binary);
    if (w !== v && out === undefined) out = a.slice(0, i);
    if (out !== undefined) out.push(w);
  }
  return out ?? (a as unknown[]);
}

/** A term as the string Perl uses for it: a hash key, a port or family name (a string as is, an atom its name). */
export function keyText(k: Term): string {
  if (typeof k === 'string') return k;
  if (k instanceof Atom) return k.name;
  if (typeof k === 'number' || typeof k === 'bigint') return String(k);
  return formatErlang(k);
}

/**
 * A value CBOR::XS wrote, as a Courier term: byte strings (Perl's strings without the UTF-8 flag:
 * port names, tags, node ids, most data) are strings, one character per byte; tags Courier does
 * not know give their content; map keys are strings.
 */
export function fromPerlCbor(v: unknown): Term {
  if (typeof v !== 'object' || v === null) return v === undefined ? null : typeof v === 'bigint' ? smallInt(v) : (v as Term);
  if (v instanceof Uint8Array) return latin1(v);
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const x = v[i] as unknown;
      if (typeof x === 'object' && x !== null) v[i] = fromPerlCbor(x);
      else if (x === undefined) v[i] = null;
      else if (typeof x === 'bigint') v[i] = smallInt(x);
    }
    return v as Term[];
  }
  if (v instanceof Tag) return fromPerlCbor(v.value);
  if (v instanceof Map) {
    // Perl hash keys are strings (byte strings, mostly); anything else is printed.
    const o: Record<string, Term> = {};
    for (const [k, x] of v) put(o, typeof k === 'string' ? k : k instanceof Uint8Array ? latin1(k) : String(k), fromPerlCbor(x));
    return o;
  }
  const o = v as Record<string, unknown>;
  for (const k in o) {
    const x = o[k];
    if ((typeof x === 'object' && x !== null) || typeof x === 'bigint') put(o, k, fromPerlCbor(x));
    else if (x === undefined) put(o, k, null);
  }
  return o as Term;
}

/** What an encoding error names: a fun or a plain object in Erlang syntax, any other object by its class. */
export function unsendableText(t: object): string {
  const proto = Object.getPrototypeOf(t) as { constructor?: { name?: string } } | null;
  if (t instanceof ErlExport || t instanceof ErlFun || proto === Object.prototype) return formatErlang(t as Term);
  return `a ${proto?.constructor?.name ?? 'prototype-less object'}`;
}

export function latin1(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.length).toString('latin1');
}

const MAX_EXACT = 2n ** 53n;

/** CBOR::XS and cbor-x write 64-bit integers; those a number holds exactly are numbers (the term model). */
export function smallInt(b: bigint): number | bigint {
  return b >= -MAX_EXACT && b <= MAX_EXACT ? Number(b) : b;
}
