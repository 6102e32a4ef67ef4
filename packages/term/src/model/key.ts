import { Atom } from './atom.js';
import { BitBinary, ErlFloat, ImproperList, Tuple } from './containers.js';
import { ErlExport, ErlFun } from './fun.js';
import { Pid, Port, Ref } from './identifiers.js';
import { ErlMap } from './map.js';
import type { Term } from './term.js';

/**
 * A string that is equal for two terms exactly when they are equal under Erlang's `=:=`
 * (so it can key a JS Map). Integers compare by value whether number or bigint; floats are
 * distinct from integers; strings (STRING_EXT) equal the list of their character codes; maps
 * are order-independent.
 */
export function termKey(t: Term): string {
  const out: string[] = [];
  put(t, out);
  return out.join('');
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

function put(t: Term, out: string[]): void {
  switch (typeof t) {
    case 'number':
      if (Number.isInteger(t)) out.push('i', String(t), ';');
      else out.push('f', String(t), ';');
      return;
    case 'bigint':
      out.push('i', t.toString(), ';');
      return;
    case 'boolean':
      out.push('a', t ? 'true' : 'false', ';');
      return;
    case 'string':
      // A charlist: equal to the list of its codes. Empty string is [].
      out.push('l');
      for (const ch of t) out.push('i', String(ch.codePointAt(0)), ';');
      out.push('n;');
      return;
    case 'undefined':
      out.push('aundefined;');
      return;
  }
  if (t === null) {
    out.push('aundefined;');
  } else if (t instanceof Atom) {
    out.push('a', t.name.length.toString(), ':', t.name, ';');
  } else if (Array.isArray(t)) {
    out.push('l');
    for (const e of t) put(e, out);
    out.push('n;');
  } else if (t instanceof Uint8Array) {
    out.push('b', hex(t), ';');
  } else if (t instanceof Tuple) {
    out.push('t', String(t.elements.length), '{');
    for (const e of t.elements) put(e, out);
    out.push('}');
  } else if (t instanceof ErlFloat) {
    out.push('f', Object.is(t.value, -0) ? '-0' : String(t.value), ';');
  } else if (t instanceof ImproperList) {
    out.push('l');
    for (const e of t.items) put(e, out);
    put(t.tail, out);
  } else if (t instanceof Pid) {
    out.push('p', t.node.name, '.', String(t.id), '.', String(t.serial), '.', String(t.creation), ';');
  } else if (t instanceof Ref) {
    out.push('r', t.node.name, '.', String(t.creation), '.', t.ids.join('.'), ';');
  } else if (t instanceof Port) {
    out.push('o', t.node.name, '.', String(t.id), '.', String(t.creation), ';');
  } else if (t instanceof BitBinary) {
    out.push('B', hex(t.bytes), '/', String(t.bits), ';');
  } else if (t instanceof ErlMap) {
    const keys = [...t].map(([k, v]) => termKey(k) + '=>' + termKey(v)).sort();
    out.push('m', String(keys.length), '{', keys.join(','), '}');
  } else if (t instanceof ErlExport) {
    out.push('e', t.module.name, ':', t.fun.name, '/', String(t.arity), ';');
  } else if (t instanceof ErlFun) {
    out.push('F', t.module.name, '.', String(t.index), '.', hex(t.uniq), '.', String(t.oldIndex), '.');
    out.push(String(t.oldUniq), '.');
    put(t.pid, out);
    out.push('[');
    for (const v of t.freeVars) put(v, out);
    out.push(']');
  } else {
    // A plain object: a map with atom keys.
    const keys = Object.keys(t)
      .map((k) => termKey(new Atom(k)) + '=>' + termKey((t as Record<string, Term>)[k]))
      .sort();
    out.push('m', String(keys.length), '{', keys.join(','), '}');
  }
}

/** Erlang exact equality (`=:=`) of two terms. */
export function termEquals(a: Term, b: Term): boolean {
  if (a === b) return true;
  return termKey(a) === termKey(b);
}
