import { Atom } from '../model/atom.js';
import { BitBinary, ErlFloat, ImproperList, Tuple } from '../model/containers.js';
import { ErlExport, ErlFun } from '../model/fun.js';
import { Pid, Port, Ref } from '../model/identifiers.js';
import { ErlMap } from '../model/map.js';
import type { Term } from '../model/term.js';

/**
 * Term → Erlang syntax on one line, as `io:format("~0p")` would print it, so the CLI prints what
 * an Erlang user reads: `{ok,[1,<<"x">>,#{a => 1}]}`. Pids, refs and ports print as
 * `#Pid<node.id.serial>`, `#Ref<node.w1.w2.w3>`, `#Port<node.id>` (they carry their node).
 */
export function formatErlang(t: Term): string {
  const out: string[] = [];
  put(t, out);
  return out.join('');
}

const RESERVED = new Set([
  'after',
  'and',
  'andalso',
  'band',
  'begin',
  'bnot',
  'bor',
  'bsl',
  'bsr',
  'bxor',
  'case',
  'catch',
  'cond',
  'div',
  'end',
  'fun',
  'if',
  'let',
  'not',
  'of',
  'or',
  'orelse',
  'receive',
  'rem',
  'try',
  'when',
  'xor',
  'maybe',
  'else',
]);

/** An atom's name as Erlang source writes it: bare when it can be, otherwise in single quotes with escapes. */
export function formatAtom(name: string): string {
  if (/^[a-z][a-zA-Z0-9_@]*$/.test(name) && !RESERVED.has(name)) return name;
  return `'${escape(name, "'")}'`;
}

function escape(s: string, q: string): string {
  let o = '';
  for (const ch of s) {
    const c = ch.codePointAt(0) as number;
    if (ch === q || ch === '\\') o += '\\' + ch;
    else if (ch === '\n') o += '\\n';
    else if (ch === '\t') o += '\\t';
    else if (ch === '\r') o += '\\r';
    else if (c < 32 || c === 127) o += `\\x{${c.toString(16).toUpperCase()}}`;
    else o += ch;
  }
  return o;
}

/** A float as Erlang prints it, always with a `.` or an exponent (`1.0`, `-0.0`, `1.0e21`). */
export function formatFloat(v: number): string {
  if (Object.is(v, -0)) return '-0.0';
  let s = String(v);
  if (!/[.e]/.test(s)) s += '.0';
  s = s.replace(/^(-?\d+)e/, '$1.0e').replace('e+', 'e');
  return s;
}

const printable = (c: number) => (c >= 32 && c < 127) || c === 10 || c === 9 || c === 13 || (c >= 160 && c <= 255);

function put(t: Term, out: string[]): void {
  switch (typeof t) {
    case 'number':
      out.push(Number.isInteger(t) ? String(t) : formatFloat(t));
      return;
    case 'bigint':
      out.push(t.toString());
      return;
    case 'boolean':
      out.push(String(t));
      return;
    case 'undefined':
      out.push('undefined');
      return;
    case 'string': {
      const codes = Array.from(t, (ch) => ch.codePointAt(0) as number);
      if (t.length > 0 && codes.every(printable)) out.push(`"${escape(t, '"')}"`);
      else out.push(`[${codes.join(',')}]`);
      return;
    }
  }
  if (t === null) out.push('undefined');
  else if (t instanceof Atom) out.push(formatAtom(t.name));
  else if (t instanceof ErlFloat) out.push(formatFloat(t.value));
  else if (Array.isArray(t)) list(t, undefined, out);
  else if (t instanceof ImproperList) list(t.items, t.tail, out);
  else if (t instanceof Tuple) seq('{', t.elements, '}', out);
  else if (t instanceof Uint8Array) binary(t, out);
  else if (t instanceof BitBinary) {
    const whole = t.bytes.subarray(0, t.bytes.length - 1);
    const last = (t.bytes[t.bytes.length - 1] ?? 0) >> (8 - t.bits);
    out.push(`<<${[...whole, `${last}:${t.bits}`].join(',')}>>`);
  } else if (t instanceof ErlMap) {
    out.push('#{');
    let first = true;
    for (const [k, v] of t) {
      if (!first) out.push(',');
      first = false;
      put(k, out);
      out.push(' => ');
      put(v, out);
    }
    out.push('}');
  } else if (t instanceof Pid) out.push(`#Pid<${t.node.name}.${t.id}.${t.serial}>`);
  else if (t instanceof Ref) out.push(`#Ref<${t.node.name}.${[...t.ids].reverse().join('.')}>`);
  else if (t instanceof Port) out.push(`#Port<${t.node.name}.${t.id}>`);
  else if (t instanceof ErlExport) out.push(`fun ${formatAtom(t.module.name)}:${formatAtom(t.fun.name)}/${t.arity}`);
  else if (t instanceof ErlFun) out.push(`#Fun<${t.module.name}.${t.index}.${t.oldUniq}>`);
  else {
    out.push('#{');
    let first = true;
    for (const [k, v] of Object.entries(t as Record<string, Term>)) {
      if (!first) out.push(',');
      first = false;
      out.push(formatAtom(k), ' => ');
      put(v, out);
    }
    out.push('}');
  }
}

function seq(open: string, items: readonly Term[], close: string, out: string[]): void {
  out.push(open);
  items.forEach((x, i) => {
    if (i > 0) out.push(',');
    put(x, out);
  });
  out.push(close);
}

function list(items: readonly Term[], tail: Term | undefined, out: string[]): void {
  if (tail === undefined && items.length > 0 && items.every((x) => typeof x === 'number' && Number.isInteger(x) && printable(x))) {
    // Character by character: a spread of a long list would overflow the call stack.
    let text = '';
    for (const c of items as number[]) text += String.fromCodePoint(c);
    out.push(`"${escape(text, '"')}"`);
    return;
  }
  out.push('[');
  items.forEach((x, i) => {
    if (i > 0) out.push(',');
    put(x, out);
  });
  if (tail !== undefined) {
    out.push('|');
    put(tail, out);
  }
  out.push(']');
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function binary(b: Uint8Array, out: string[]): void {
  if (b.length === 0) {
    out.push('<<>>');
    return;
  }
  // A fatal decoder throws on bytes that are not UTF-8: such a binary prints as bytes. (No Buffer:
  // the term classes print through here, in a browser build too.)
  let text: string;
  try {
    text = strictUtf8.decode(b);
  } catch {
    text = '\uFFFD';
  }
  const roundTrips = !text.includes('\uFFFD');
  if (roundTrips && Array.from(text).every((ch) => printable(ch.codePointAt(0) as number) || (ch.codePointAt(0) as number) > 255)) {
    const ascii = Array.from(text).every((ch) => (ch.codePointAt(0) as number) < 128);
    out.push(`<<"${escape(text, '"')}"${ascii ? '' : '/utf8'}>>`);
  } else {
    out.push(`<<${Array.from(b).join(',')}>>`);
  }
}
