import { Atom } from './atom.js';
import { BitBinary, ErlFloat, flattenList, ImproperList, Tuple } from './containers.js';
import { ErlExport, ErlFun } from './fun.js';
import { Pid, Port, Ref } from './identifiers.js';
import { ErlMap } from './map.js';
import type { Term } from './term.js';
import { latin1 } from '../codec/text.js';
import { FNV_OFFSET, fnv1a } from '../codec/fnv.js';

/**
 * A string that is equal for two terms exactly when they are equal under Erlang's `=:=`
 * (so it can key a JS Map). Integers compare by value whether number or bigint; floats are
 * distinct from integers (and `-0.0` from `0.0`, as in OTP 27+); `true`/`false`/`null`/`undefined`
 * equal the atoms they encode as; strings (STRING_EXT) equal the list of their character codes;
 * `[1 | [2]]` equals `[1, 2]`; maps are order-independent.
 *
 * The key is a prefix-free code (no key is a prefix of another), so keys of the parts can be
 * concatenated without ambiguity. It is written in one pass (pre-order, with an explicit stack:
 * any depth is fine), so its cost is linear in its length; only a map builds its entries as
 * strings of their own, to sort them. Integers are written in hex: linear for bignums too.
 */
export function termKey(t: Term): string {
  const leaf = leafKey(t);
  return leaf !== undefined ? leaf : containerKey(t);
}

/** Erlang exact equality (`=:=`) of two terms. */
export function termEquals(a: Term, b: Term): boolean {
  if (a === b) return true;
  return termKey(a) === termKey(b);
}

/** Text written as is, between the keys of the parts of a container. */
class Text {
  constructor(readonly s: string) {}
}
/** The end of a map: its entries' keys are all built; sort and write them. */
class MapEnd {
  readonly entries: string[] = [];
  constructor(readonly size: number) {}
}
/** The end of one map entry: its text goes to its map. */
class EntryEnd {
  constructor(readonly map: MapEnd) {}
}
/** The start of one map entry: a new output. */
const ENTRY_START = new Text('');
const LIST_END = new Text('n;');
const TUPLE_END = new Text('}');
const FUN_END = new Text(']');
const TAIL = new Text('|');
const ARROW = new Text('=>');

type Job = Term | Text | MapEnd | EntryEnd;

function containerKey(root: Term): string {
  const jobs: Job[] = [root];
  // The output being written, and below it those of the map entries it is inside.
  const outs: string[] = [''];
  for (;;) {
    const j = jobs.pop();
    const top = outs.length - 1;
    if (j === ENTRY_START) outs.push('');
    else if (j instanceof Text) outs[top] += j.s;
    else if (j instanceof EntryEnd) j.map.entries.push(outs.pop() as string);
    else if (j instanceof MapEnd) outs[top] += `m${j.size}{${j.entries.sort().join(',')}}`;
    else {
      const leaf = leafKey(j);
      outs[top] += leaf !== undefined ? leaf : expand(j, jobs);
    }
    if (jobs.length === 0) return outs[0] as string;
  }
}

function pushReversed(jobs: Job[], items: readonly Term[]): void {
  for (let i = items.length - 1; i >= 0; i--) jobs.push(items[i]);
}

/** Queue the parts of a container (last first); returns the text that opens it. */
function expand(t: Term, jobs: Job[]): string {
  if (Array.isArray(t)) {
    jobs.push(LIST_END);
    pushReversed(jobs, t);
    return 'l';
  }
  if (t instanceof Tuple) {
    jobs.push(TUPLE_END);
    pushReversed(jobs, t.elements);
    return `t${t.elements.length}{`;
  }
  if (t instanceof ImproperList) {
    // `[a, b | Tail]`, flattened as Erlang sees it; `[ | X]` with no items is just X.
    const { items, tail, proper } = flattenList(t);
    if (proper) {
      jobs.push(LIST_END);
      pushReversed(jobs, items);
      return 'l';
    }
    if (items.length === 0) {
      jobs.push(tail);
      return '';
    }
    jobs.push(tail, TAIL);
    pushReversed(jobs, items);
    return 'l';
  }
  if (t instanceof ErlMap) {
    const end = new MapEnd(t.size);
    jobs.push(end);
    for (const [k, v] of t) jobs.push(new EntryEnd(end), v, ARROW, k, ENTRY_START);
    return '';
  }
  if (t instanceof ErlFun) {
    jobs.push(FUN_END);
    pushReversed(jobs, t.freeVars);
    return `${funHead(t)}[`;
  }
  // A plain object: a map with atom keys.
  const obj = t as { readonly [key: string]: Term };
  const keys = Object.keys(obj);
  const end = new MapEnd(keys.length);
  jobs.push(end);
  for (const k of keys) jobs.push(new EntryEnd(end), obj[k], new Text(`${atomKey(k)}=>`), ENTRY_START);
  return '';
}

function funHead(t: ErlFun): string {
  return `F${atomKey(t.module.name)}${t.arity}.${t.index}.${hex(t.uniq)}.${t.oldIndex}.${t.oldUniq}.${leafKey(t.pid)}`;
}

function atomKey(name: string): string {
  return `a${name.length}:${name};`;
}

// Atoms are interned and key every map that comes off the wire: remember their keys.
const atomKeys = new Map<Atom, string>();

function internedAtomKey(a: Atom): string {
  let k = atomKeys.get(a);
  if (k === undefined) {
    k = atomKey(a.name);
    atomKeys.set(a, k);
  }
  return k;
}

function hex(bytes: Uint8Array): string {
  // Node's Buffer is the fast path; a browser node (no Buffer) formats byte by byte.
  if (typeof Buffer === 'function') return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += ((bytes[i] as number) < 16 ? '0' : '') + (bytes[i] as number).toString(16);
  return s;
}

/**
 * A binary: its length, then its bytes one char each (Latin-1): prefix-free by the length, and
 * half the text of hex and quicker to write — binary keys are what maps from Elixir and JSON-like
 * payloads are keyed by (map decode measured ≈1.7× faster than with hex).
 */
function binaryKey(bytes: Uint8Array): string {
  const n = bytes.length;
  if (n > CACHED_KEY_MAX) return `b${n}:${latin1(bytes, 0, n)}`;
  // A hit is checked byte by byte, so a collision only costs a miss.
  const h = fnv1a(bytes, 0, n, FNV_OFFSET ^ n);
  const hit = binaryKeys.get(h);
  if (hit !== undefined && sameBytes(hit, bytes)) return hit;
  const k = `b${n}:${latin1(bytes, 0, n)}`;
  if (binaryKeys.size >= CACHED_KEYS) binaryKeys.clear();
  binaryKeys.set(h, k);
  return k;
}

/**
 * The keys of short binaries, by a hash of their bytes: maps off the wire are keyed by the same few
 * field names message after message (JSON-like payloads, Elixir structs), and a key found here is
 * neither built nor hashed again by the Map it goes into (V8 keeps a string's hash in the string),
 * as V8 itself keeps one string per property name. Bounded: cleared when full.
 */
const binaryKeys = new Map<number, string>();
const CACHED_KEY_MAX = 64;
const CACHED_KEYS = 4096;

/**
 * Whether `key`, a key made by binaryKey for at most CACHED_KEY_MAX bytes, is that of `bytes`:
 * its length fixes the binary's length (`b`, the length's digits, `:`, one char per byte).
 */
function sameBytes(key: string, bytes: Uint8Array): boolean {
  const n = bytes.length;
  const at = n < 10 ? 3 : 4;
  if (key.length !== at + n) return false;
  for (let i = 0; i < n; i++) if (key.charCodeAt(at + i) !== bytes[i]) return false;
  return true;
}

/** Keys of the integers 0 ≤ n < SMALL_INT_KEYS, made once (an integer-keyed map's keys are mostly these). */
const SMALL_INT_KEYS = 1024;
const smallIntKeys: (string | undefined)[] = new Array<string | undefined>(SMALL_INT_KEYS).fill(undefined);

function smallIntKey(n: number): string {
  return (smallIntKeys[n] ??= `i${n.toString(16)};`);
}

/** The key of a term that contains no other terms, or undefined for a container. */
function leafKey(t: Term): string | undefined {
  switch (typeof t) {
    case 'number':
      if (!Number.isInteger(t)) return `f${t};`;
      return t >= 0 && t < SMALL_INT_KEYS ? smallIntKey(t) : `i${t.toString(16)};`;
    case 'bigint':
      return `i${t.toString(16)};`;
    case 'boolean':
      return t ? 'a4:true;' : 'a5:false;';
    case 'undefined':
      return 'a9:undefined;';
    case 'string': {
      // A charlist: equal to the list of its codes. "" is [].
      let s = 'l';
      for (const ch of t) s += `i${(ch.codePointAt(0) as number).toString(16)};`;
      return s + 'n;';
    }
  }
  if (t === null) return 'a9:undefined;';
  if (t instanceof Atom) return internedAtomKey(t);
  if (t instanceof Uint8Array) return binaryKey(t);
  if (t instanceof ErlFloat) return Object.is(t.value, -0) ? 'f-0;' : `f${t.value};`;
  if (t instanceof Pid) return `p${atomKey(t.node.name)}${t.id}.${t.serial}.${t.creation};`;
  if (t instanceof Ref) return `r${atomKey(t.node.name)}${t.creation}.${t.ids.length}:${t.ids.join('.')};`;
  if (t instanceof Port) return `o${atomKey(t.node.name)}${t.id}.${t.creation};`;
  if (t instanceof ErlExport) return `e${atomKey(t.module.name)}${atomKey(t.fun.name)}${t.arity};`;
  if (t instanceof BitBinary) {
    const { bytes, bits } = t;
    // Whole bytes are a binary; otherwise the unused low bits of the last byte do not count.
    if (bits === 8 || bytes.length === 0) return binaryKey(bytes);
    const masked = bytes.slice();
    masked[masked.length - 1] = (bytes[bytes.length - 1] as number) & (0xff << (8 - bits));
    return `B${hex(masked)}/${bits};`;
  }
  return undefined;
}

/** The most characters of the key of a number: `f-2.2250738585072014e-308;`. */
const NUMBER_KEY_CHARS = 26;

/**
 * An upper bound of the characters {@link termKey} writes for `t`, counting every copy: each
 * leaf's text once, and twice more for each map around it within `t` (a map's entries are built
 * as strings of their own, then sorted, which flattens them, and joined). For budgets: the walk
 * stops as soon as the bound passes `limit`, so a hostile key costs no more than the budget left.
 */
export function keyCost(t: Term, limit: number): number {
  // A leaf (most map keys: binaries, integers) without the walk's two arrays.
  const own = leafChars(t);
  if (own >= 0) return own;
  const stack: Term[] = [t];
  // How many maps enclose each stacked term within `t`.
  const maps: number[] = [0];
  let cost = 0;
  while (stack.length > 0 && cost <= limit) {
    const x = stack.pop();
    const m = maps.pop() as number;
    const weight = 1 + 2 * m;
    const leaf = leafChars(x);
    if (leaf >= 0) {
      cost += leaf * weight;
      continue;
    }
    let children: readonly Term[];
    let inner = m;
    if (Array.isArray(x)) {
      cost += 3 * weight;
      children = x;
    } else if (x instanceof Tuple) {
      cost += 13 * weight;
      children = x.elements;
    } else if (x instanceof ImproperList) {
      const { items, tail, proper } = flattenList(x);
      cost += (3 + items.length) * weight;
      children = proper ? items : [...items, tail];
    } else if (x instanceof ErlFun) {
      cost += (funHead(x).length + 2) * weight;
      children = x.freeVars;
    } else {
      // A map: `m<size>{k=>v,…}`. With two entries or more, its entries are written twice more
      // (flattened to be sorted, then joined); a single entry is passed on as it is.
      const flat: Term[] = [];
      if (x instanceof ErlMap) for (const [k, v] of x) flat.push(k, v);
      else {
        const obj = x as { readonly [key: string]: Term };
        for (const k of Object.keys(obj)) flat.push(atomKeyText(k), obj[k]);
      }
      if (flat.length > 2) inner = m + 1;
      cost += (13 + 3 * flat.length) * (1 + 2 * inner);
      children = flat;
    }
    for (const c of children) {
      stack.push(c);
      maps.push(inner);
    }
  }
  return cost;
}

/** A plain object's key, counted as the atom it stands for. */
class AtomKeyText {
  constructor(readonly chars: number) {}
}
function atomKeyText(name: string): Term {
  return new AtomKeyText(atomKey(name).length) as unknown as Term;
}

/** Characters of the key of a leaf (an upper bound for numbers and strings), or -1 for a container. */
function leafChars(t: Term): number {
  switch (typeof t) {
    case 'number':
      return NUMBER_KEY_CHARS;
    case 'bigint':
      return t.toString(16).length + 3;
    case 'boolean':
    case 'undefined':
      return 13;
    case 'string':
      // Each UTF-16 unit: `i` and at most 6 hex digits and `;` (a surrogate pair gives one code point).
      return 3 + 8 * t.length;
  }
  if (t === null) return 13;
  if (t instanceof Atom) return internedAtomKey(t).length;
  if (t instanceof AtomKeyText) return t.chars;
  if (t instanceof Uint8Array) return t.length + String(t.length).length + 2;
  if (t instanceof BitBinary) return 2 * t.bytes.length + 4;
  if (t instanceof ErlFloat) return NUMBER_KEY_CHARS;
  if (t instanceof Pid || t instanceof Ref || t instanceof Port || t instanceof ErlExport) return (leafKey(t) as string).length;
  return -1;
}
