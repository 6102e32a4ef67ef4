import { EtfErrorCode } from '../errors.js';
import { AtomTableFull, atom, MAX_ATOM_CHARS, type Atom } from '../model/atom.js';
import { ErlFloat } from '../model/containers.js';
import { Pid, Port, Ref } from '../model/identifiers.js';
import { cacheAtom, cachedAtom } from './atom-cache.js';
import { intFromLittleEndian } from './bigint.js';
import type { Cursor } from './cursor.js';
import { HeapCost } from './heap-cost.js';
import { MAX_BIGINT_BYTES } from './limits.js';
import { FLOAT_EXT_BYTES, MAX_REF_WORDS, Tag, tagName } from './tags.js';
import { latin1, utf8, utf8CodePoints } from './text.js';

/** Readers for the terms that contain no other terms except atoms (node names, modules). */

const { BAD_VALUE, LIMIT, ATOM_CACHE_MISS } = EtfErrorCode;
const MAX_UTF8_ATOM_BYTES = MAX_ATOM_CHARS * 4;

/** A float as Courier represents it: integral values stay floats as ErlFloat. */
export function floatTerm(v: number): number | ErlFloat {
  return Number.isInteger(v) ? new ErlFloat(v) : v;
}

/** The body of an atom whose tag (at `at`) has been read. */
export function readAtomBody(c: Cursor, tag: number, at: number): Atom {
  let len: number;
  let isUtf8: boolean;
  switch (tag) {
    case Tag.ATOM_CACHE_REF: {
      // ATOM_CACHE_REF: Index:8, into the atom cache of the distribution header.
      const index = c.u8('ATOM_CACHE_REF');
      const resolved = c.limits.atomCache?.(index);
      if (resolved === undefined) c.fail(ATOM_CACHE_MISS, `atom cache index ${index} is not set`, at);
      return resolved;
    }
    case Tag.SMALL_ATOM_UTF8_EXT: // Len:8, UTF-8
      len = c.u8('atom length');
      isUtf8 = true;
      break;
    case Tag.ATOM_UTF8_EXT: // Len:16, UTF-8
      len = c.u16('atom length');
      isUtf8 = true;
      break;
    case Tag.ATOM_EXT: // Len:16, Latin-1
      len = c.u16('atom length');
      isUtf8 = false;
      break;
    case Tag.SMALL_ATOM_EXT: // Len:8, Latin-1
      len = c.u8('atom length');
      isUtf8 = false;
      break;
    default:
      return c.fail(BAD_VALUE, `expected an atom, found ${tagName(tag)}`, at);
  }
  if (len > (isUtf8 ? MAX_UTF8_ATOM_BYTES : MAX_ATOM_CHARS)) {
    c.fail(LIMIT, `atom of ${len} bytes is longer than ${MAX_ATOM_CHARS} characters`, at);
  }
  c.need(len, 'atom text');
  const start = c.pos;
  const end = start + len;
  const cached = cachedAtom(c.buf, start, len, isUtf8);
  if (cached !== undefined) {
    c.pos = end;
    return cached;
  }
  // The name's text is made before the atom table is asked (and kept if the atom is new).
  c.charge(HeapCost.STRING + len, at);
  let name: string;
  if (isUtf8) {
    const text = utf8(c.buf, start, end);
    if (text === undefined) c.fail(BAD_VALUE, 'atom text is not valid UTF-8', start);
    if (len > MAX_ATOM_CHARS && utf8CodePoints(c.buf, start, end) > MAX_ATOM_CHARS) {
      c.fail(LIMIT, `atom is longer than ${MAX_ATOM_CHARS} characters`, at);
    }
    name = text;
  } else {
    name = latin1(c.buf, start, end);
  }
  c.pos = end;
  let a: Atom;
  try {
    a = atom(name);
  } catch (err) {
    if (err instanceof AtomTableFull) return c.fail(LIMIT, err.message, at);
    throw err;
  }
  cacheAtom(c.buf, start, len, isUtf8, a);
  return a;
}

/** An atom in a position that must hold one (a node name, a module). */
export function readAtom(c: Cursor): Atom {
  const at = c.pos;
  return readAtomBody(c, c.u8('atom tag'), at);
}

/** SMALL_BIG_EXT (n:8) / LARGE_BIG_EXT (n:32), then Sign:8 and n little-endian magnitude bytes. */
export function readBig(c: Cursor, tag: number, at: number): number | bigint {
  const n = tag === Tag.SMALL_BIG_EXT ? c.u8('bignum length') : c.u32('bignum length');
  if (n > c.limits.maxBigBytes) c.fail(LIMIT, `bignum of ${n} bytes exceeds maxBigBytes ${c.limits.maxBigBytes}`, at);
  if (n > MAX_BIGINT_BYTES) c.fail(LIMIT, `bignum of ${n} bytes is more than a JS BigInt holds (${MAX_BIGINT_BYTES} bytes)`, at);
  const sign = c.u8('bignum sign');
  if (sign > 1) c.fail(BAD_VALUE, `bignum sign byte ${sign} is neither 0 nor 1`, c.pos - 1);
  c.need(n, 'bignum digits');
  // Past 6 bytes: a bigint, and its hex text on the way.
  if (n > 6) c.charge(HeapCost.BIGINT + 3 * n + 8, at);
  const v = intFromLittleEndian(c.buf, c.pos, n, sign === 1);
  c.pos += n;
  return v;
}

/** NEW_FLOAT_EXT: IEEE 754 double, big-endian. Erlang has no NaN or infinities. */
export function readNewFloat(c: Cursor, at: number): number | ErlFloat {
  const v = c.f64('NEW_FLOAT_EXT');
  if (!Number.isFinite(v)) c.fail(BAD_VALUE, `float ${v} is not an Erlang float`, at);
  c.charge(Number.isInteger(v) ? HeapCost.ERL_FLOAT : HeapCost.FLOAT, at);
  return floatTerm(v);
}

// What OTP 25 accepts in FLOAT_EXT text (checked against binary_to_term): digits on both sides of
// the point, an optional exponent, nothing else before the NUL.
const FLOAT_TEXT = /^[+-]?\d+\.\d+(?:[eE][+-]?\d+)?$/;

/** FLOAT_EXT: 31 bytes of `%.20e` text, NUL-terminated (the legacy encoding, minor_version 0). */
export function readOldFloat(c: Cursor, at: number): number | ErlFloat {
  c.need(FLOAT_EXT_BYTES, 'FLOAT_EXT');
  const start = c.pos;
  const nul = c.buf.subarray(start, start + FLOAT_EXT_BYTES).indexOf(0);
  const text = nul < 0 ? '' : latin1(c.buf, start, start + nul);
  const v = Number(text);
  if (!FLOAT_TEXT.test(text) || !Number.isFinite(v)) c.fail(BAD_VALUE, `FLOAT_EXT text ${JSON.stringify(text)} is not a float`, at);
  c.pos = start + FLOAT_EXT_BYTES;
  c.charge(Number.isInteger(v) ? HeapCost.ERL_FLOAT : HeapCost.FLOAT, at);
  return floatTerm(v);
}

/** NEW_PID_EXT: Node, ID:32, Serial:32, Creation:32. PID_EXT: the same with Creation:8. */
export function readPid(c: Cursor, tag: number): Pid {
  c.charge(HeapCost.PID, c.pos - 1);
  const node = readAtom(c);
  const id = c.u32('pid id');
  const serial = c.u32('pid serial');
  const creation = tag === Tag.NEW_PID_EXT ? c.u32('pid creation') : c.u8('pid creation');
  return new Pid(node, id, serial, creation);
}

/** A pid in a position that must hold one (a fun's creator). */
export function readPidTerm(c: Cursor): Pid {
  const at = c.pos;
  const tag = c.u8('pid tag');
  if (tag !== Tag.NEW_PID_EXT && tag !== Tag.PID_EXT) c.fail(BAD_VALUE, `expected a pid, found ${tagName(tag)}`, at);
  return readPid(c, tag);
}

/** V4_PORT_EXT: Node, ID:64, Creation:32. NEW_PORT_EXT: ID:32, Creation:32. PORT_EXT: ID:32, Creation:8. */
export function readPort(c: Cursor, tag: number): Port {
  c.charge(HeapCost.PORT, c.pos - 1);
  const node = readAtom(c);
  if (tag === Tag.V4_PORT_EXT) return new Port(node, c.u64('port id'), c.u32('port creation'));
  const id = c.u32('port id');
  return new Port(node, id, tag === Tag.NEW_PORT_EXT ? c.u32('port creation') : c.u8('port creation'));
}

/**
 * NEWER_REFERENCE_EXT: Len:16, Node, Creation:32, ID:32 × Len. NEW_REFERENCE_EXT: the same with
 * Creation:8. REFERENCE_EXT: Node, ID:32, Creation:8.
 */
export function readRef(c: Cursor, tag: number, at: number): Ref {
  if (tag === Tag.REFERENCE_EXT) {
    c.charge(HeapCost.REF + HeapCost.SLOT, at);
    const node = readAtom(c);
    const id = c.u32('reference id');
    return new Ref(node, c.u8('reference creation'), [id]);
  }
  const len = c.u16('reference length');
  if (len < 1 || len > MAX_REF_WORDS) c.fail(BAD_VALUE, `reference with ${len} id words (1..${MAX_REF_WORDS} allowed)`, at);
  c.charge(HeapCost.REF + len * HeapCost.SLOT, at);
  const node = readAtom(c);
  const creation = tag === Tag.NEWER_REFERENCE_EXT ? c.u32('reference creation') : c.u8('reference creation');
  c.need(4 * len, 'reference ids');
  const ids = new Array<number>(len);
  for (let i = 0; i < len; i++) ids[i] = c.u32('reference id');
  return new Ref(node, creation, ids);
}

/** A SMALL_INTEGER_EXT or INTEGER_EXT in a position that must hold one (fun fields, arities). */
export function readSmallInt(c: Cursor, what: string): number {
  const at = c.pos;
  const tag = c.u8(what);
  if (tag === Tag.SMALL_INTEGER_EXT) return c.u8(what);
  if (tag === Tag.INTEGER_EXT) return c.i32(what);
  return c.fail(BAD_VALUE, `expected an integer for ${what}, found ${tagName(tag)}`, at);
}
