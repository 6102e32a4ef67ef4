import { Atom } from './atom.js';
import { BitBinary, ErlFloat, flattenList, ImproperList, Tuple } from './containers.js';
import { ErlExport, ErlFun } from './fun.js';
import { Pid, Port, Ref } from './identifiers.js';
import { ErlMap } from './map.js';
import type { Term } from './term.js';

/**
 * A string that is equal for two terms exactly when they are equal under Erlang's `=:=`
 * (so it can key a JS Map). Integers compare by value whether number or bigint; floats are
 * distinct from integers (and `-0.0` from `0.0`, as in OTP 27+); `true`/`false`/`null`/`undefined`
 * equal the atoms they encode as; strings (STRING_EXT) equal the list of their character codes;
 * `[1 | [2]]` equals `[1, 2]`; maps are order-independent.
 *
 * The key is a prefix-free code (no key is a prefix of another), so keys of the parts can be
 * concatenated without ambiguity. Containers are walked with an explicit stack: any depth is fine.
 */
export function termKey(t: Term): string {
  const leaf = leafKey(t);
  if (leaf !== undefined) return leaf;
  const stack: Frame[] = [open(t)];
  for (;;) {
    const f = stack[stack.length - 1] as Frame;
    if (f.next < f.children.length) {
      const child = f.children[f.next++];
      const k = leafKey(child);
      if (k === undefined) stack.push(open(child));
      else f.parts.push(k);
      continue;
    }
    const key = f.finish(f.parts);
    stack.pop();
    const parent = stack[stack.length - 1];
    if (parent === undefined) return key;
    parent.parts.push(key);
  }
}

/** Erlang exact equality (`=:=`) of two terms. */
export function termEquals(a: Term, b: Term): boolean {
  if (a === b) return true;
  return termKey(a) === termKey(b);
}

interface Frame {
  readonly children: readonly Term[];
  next: number;
  readonly parts: string[];
  readonly finish: (parts: string[]) => string;
}

function frame(children: readonly Term[], finish: (parts: string[]) => string): Frame {
  return { children, next: 0, parts: [], finish };
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

function binaryKey(bytes: Uint8Array): string {
  return `b${hex(bytes)};`;
}

/** The key of a term that contains no other terms, or undefined for a container. */
function leafKey(t: Term): string | undefined {
  switch (typeof t) {
    case 'number':
      return Number.isInteger(t) ? `i${t};` : `f${t};`;
    case 'bigint':
      return `i${t};`;
    case 'boolean':
      return t ? 'a4:true;' : 'a5:false;';
    case 'undefined':
      return 'a9:undefined;';
    case 'string': {
      // A charlist: equal to the list of its codes. "" is [].
      let s = 'l';
      for (const ch of t) s += `i${ch.codePointAt(0)};`;
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

/** A frame for a container term. */
function open(t: Term): Frame {
  if (Array.isArray(t)) return frame(t, (parts) => `l${parts.join('')}n;`);
  if (t instanceof Tuple) return frame(t.elements, (parts) => `t${parts.length}{${parts.join('')}}`);
  if (t instanceof ImproperList) return improper(t);
  if (t instanceof ErlMap) {
    const flat: Term[] = [];
    for (const [k, v] of t) flat.push(k, v);
    return frame(flat, (parts) =>
      mapKey(
        parts,
        (i) => parts[2 * i] as string,
        (i) => parts[2 * i + 1] as string,
        t.size,
      ),
    );
  }
  if (t instanceof ErlFun) {
    const head = `F${atomKey(t.module.name)}${t.arity}.${t.index}.${hex(t.uniq)}.${t.oldIndex}.${t.oldUniq}.${leafKey(t.pid)}`;
    return frame(t.freeVars, (parts) => `${head}[${parts.join('')}]`);
  }
  // A plain object: a map with atom keys.
  const obj = t as { readonly [key: string]: Term };
  const keys = Object.keys(obj);
  return frame(
    keys.map((k) => obj[k]),
    (parts) =>
      mapKey(
        parts,
        (i) => atomKey(keys[i] as string),
        (i) => parts[i] as string,
        keys.length,
      ),
  );
}

function mapKey(parts: string[], key: (i: number) => string, value: (i: number) => string, size: number): string {
  const entries = new Array<string>(size);
  for (let i = 0; i < size; i++) entries[i] = `${key(i)}=>${value(i)}`;
  return `m${size}{${entries.sort().join(',')}}`;
}

/** `[a, b | Tail]`, flattened as Erlang sees it; `[ | X]` with no items is just X. */
function improper(l: ImproperList): Frame {
  const { items, tail, proper } = flattenList(l);
  if (proper) return frame(items, (parts) => `l${parts.join('')}n;`);
  if (items.length === 0) return frame([tail], (parts) => parts[0] as string);
  items.push(tail);
  return frame(items, (parts) => `l${parts.slice(0, -1).join('')}|${parts[parts.length - 1]}`);
}
