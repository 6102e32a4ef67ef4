import { Atom, BitBinary, EncodeError, ErlExport, ErlFloat, ErlFun, ErlMap, ImproperList, Pid, Port, Ref, Tuple, atom, atoms, flattenList, type Term } from '@courier/term';
import { UsageError } from '../errors.js';
import type { KeyEncoding, Value } from './value.js';

/**
 * The typed mapping, both ways (docs/typed.md has the table):
 *
 *   string      ⇄ UTF-8 binary                    null        ⇄ atom `undefined`
 *   boolean     ⇄ atom `true` / `false`           number      ⇄ integer (safe integers), else float
 *   bigint      → integer (back as number when safe)
 *   Uint8Array  ⇄ `{bytes, Binary}`               array       ⇄ proper list
 *   plain object ⇄ map with binary keys (or atom keys, per actor)
 *   Atom, Tuple, Pid, Ref, Port, ErlMap, ImproperList, … pass through, their contents mapped.
 *
 * Coming back, what the forward direction never makes: a charlist (or any list) → array (so
 * `"abc"` is `[97, 98, 99]`), a binary that is not UTF-8 → Uint8Array, an integral float → number,
 * a map whose keys are not all of the actor's key kind → ErlMap (its keys left as terms), an
 * improper list → ImproperList.
 */

/** The atom tagging raw bytes: `{bytes, <<...>>}` is a Uint8Array. */
export const BYTES = atom('bytes');

/** Containers deeper than this are refused (a cycle ends here too). */
export const MAX_VALUE_DEPTH = 1000;

const MIN_SAFE = BigInt(Number.MIN_SAFE_INTEGER);
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Thrown inside the walk; turned into a UsageError BADARG with the value's path at the top. */
class Refused extends Error {
  readonly path: string[] = [];
  constructor(readonly what: string) {
    super(what);
  }
}

/**
 * The Erlang term for a typed value. Throws UsageError BADARG (cause: EncodeError
 * ETF_UNENCODABLE, as for any send of a term with no Erlang form) naming the part that has no
 * form in the typed mapping and where it is (`at $.user.tags[2]`).
 */
export function valueToTerm(v: unknown, keys: KeyEncoding = 'binary', to = 'an Erlang process'): Term {
  try {
    return toTerm(v, keys, 0);
  } catch (e) {
    if (!(e instanceof Refused)) throw e;
    const at = '$' + e.path.reverse().join('');
    const cause = new EncodeError(`${e.what} at ${at} has no Erlang form in the typed mapping`);
    throw new UsageError(
      'BADARG',
      `cannot send this message to ${to} (badarg): ${cause.message}. Send strings, numbers, booleans, null, arrays, plain objects, Uint8Array, bigint, pids, refs, atoms and tuples (docs/typed.md)`,
      { cause },
    );
  }
}

function describe(v: unknown): string {
  if (v === undefined) return 'undefined';
  if (typeof v === 'function') return 'a function';
  if (typeof v === 'symbol') return 'a symbol';
  if (typeof v === 'number') return String(v);
  const name = (Object.getPrototypeOf(v) as { constructor?: { name?: string } } | null)?.constructor?.name;
  return name === undefined ? 'an object' : `a ${name}`;
}

function toTerm(v: unknown, keys: KeyEncoding, depth: number): Term {
  switch (typeof v) {
    case 'string':
      if (LONE_SURROGATE.test(v)) throw new Refused('a string with a lone surrogate (not valid UTF-16)');
      return utf8.encode(v);
    case 'number':
      if (!Number.isFinite(v)) throw new Refused(String(v));
      // Safe integers are integers; any other number (1.5, -0, 1e20) is a float, so it comes back.
      return Number.isSafeInteger(v) && !Object.is(v, -0) ? v : new ErlFloat(v);
    case 'boolean':
    case 'bigint':
      return v;
    case 'object':
      break;
    default:
      throw new Refused(describe(v));
  }
  if (v === null) return atoms.undefined;
  if (depth >= MAX_VALUE_DEPTH) throw new Refused(`a value nested deeper than ${MAX_VALUE_DEPTH} (a cycle?)`);
  const d = depth + 1;
  if (Array.isArray(v)) return mapItems(v, keys, d);
  if (v instanceof Uint8Array) return new Tuple([BYTES, v]);
  if (v instanceof Atom || v instanceof Pid || v instanceof Ref || v instanceof Port || v instanceof ErlFloat) return v;
  if (v instanceof BitBinary || v instanceof ErlFun || v instanceof ErlExport) return v;
  if (v instanceof Tuple) return new Tuple(mapItems(v.elements, keys, d));
  if (v instanceof ImproperList) {
    const items = mapItems(v.items, keys, d);
    return new ImproperList(
      items,
      at('|', () => toTerm(v.tail, keys, d)),
    );
  }
  if (v instanceof ErlMap) {
    // Keys are terms (docs/terms.md), values typed values.
    const out = new ErlMap();
    for (const [k, x] of v)
      out.set(
        k,
        at(`[${String(k)}]`, () => toTerm(x, keys, d)),
      );
    return out;
  }
  const proto: unknown = Object.getPrototypeOf(v);
  if (proto !== Object.prototype && proto !== null) throw new Refused(describe(v));
  if (Object.getOwnPropertySymbols(v).length > 0) throw new Refused('an object with symbol keys');
  const out = new ErlMap();
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    const x = o[k];
    if (x === undefined) continue;
    const key: Term = keys === 'atom' ? atomKey(k) : utf8.encode(k);
    out.set(
      key,
      at(`.${k}`, () => toTerm(x, keys, d)),
    );
  }
  return out;
}

function atomKey(k: string): Atom {
  try {
    return atom(k);
  } catch (e) {
    throw new Refused(`the key ${JSON.stringify(k.slice(0, 40))} (${e instanceof Error ? e.message : 'not an atom'})`);
  }
}

function mapItems(items: readonly unknown[], keys: KeyEncoding, depth: number): Term[] {
  const out = new Array<Term>(items.length);
  for (let i = 0; i < items.length; i++) {
    const x = items[i];
    out[i] = at(`[${i}]`, () => toTerm(x, keys, depth));
  }
  return out;
}

function at<T>(step: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof Refused) e.path.push(step);
    throw e;
  }
}

// ---- term → value ----------------------------------------------------------------------------

/**
 * The typed value for a term (as the codec decodes it, or as a local term-level process sent it,
 * which is read as the codec would read it after the wire). Never throws: every term has a value.
 */
export function termToValue(t: Term, keys: KeyEncoding = 'binary'): Value {
  switch (typeof t) {
    case 'number':
    case 'boolean':
      return t;
    case 'bigint':
      return t >= MIN_SAFE && t <= MAX_SAFE ? Number(t) : t;
    // A JS string in a term is a charlist (docs/terms.md): its code points.
    case 'string':
      return codePoints(t);
    case 'undefined':
      return null;
    default:
      break;
  }
  if (t === null) return null;
  if (t instanceof Atom) return t === atoms.true ? true : t === atoms.false ? false : t === atoms.undefined ? null : t;
  if (Array.isArray(t)) return t.map((x) => termToValue(x, keys));
  if (t instanceof Uint8Array) return fromBinary(t);
  if (t instanceof Tuple) {
    const e = t.elements;
    if (e.length === 2 && e[0] === BYTES && e[1] instanceof Uint8Array) return new Uint8Array(e[1]);
    return new Tuple(e.map((x) => termToValue(x, keys) as Term));
  }
  if (t instanceof ErlFloat) return t.value;
  if (t instanceof ErlMap) return fromMap(t, keys);
  if (t instanceof ImproperList) {
    const f = flattenList(t);
    const items = f.items.map((x) => termToValue(x, keys) as Term);
    return f.proper ? (items as Value) : new ImproperList(items, termToValue(f.tail, keys) as Term);
  }
  if (t instanceof Pid || t instanceof Ref || t instanceof Port || t instanceof BitBinary || t instanceof ErlFun || t instanceof ErlExport) return t;
  // A plain object from a local term-level sender: the codec sends it as a map with atom keys.
  const m = new ErlMap();
  for (const [k, x] of Object.entries(t)) m.set(atom(k), x);
  return fromMap(m, keys);
}

function codePoints(s: string): number[] {
  const out: number[] = [];
  for (const ch of s) out.push(ch.codePointAt(0) as number);
  return out;
}

function fromBinary(b: Uint8Array): string | Uint8Array {
  try {
    return strictUtf8.decode(b);
  } catch {
    // Not UTF-8, so not a string: raw bytes, as a plain Uint8Array copy (decoded binaries are
    // Buffer views into a frame; Buffer's slice would be another view).
    return new Uint8Array(b);
  }
}

function fromMap(m: ErlMap, keys: KeyEncoding): Value {
  const names: string[] = [];
  for (const k of m.keys()) {
    const name = keyName(k, keys);
    if (name === undefined) {
      const out = new ErlMap();
      for (const [key, x] of m) out.set(key, termToValue(x, keys) as Term);
      return out;
    }
    names.push(name);
  }
  const o: Record<string, Value> = {};
  let i = 0;
  for (const [, x] of m) {
    const name = names[i++] as string;
    const value = termToValue(x, keys);
    // `__proto__` is an own property like any other, never the prototype.
    if (name === '__proto__') Object.defineProperty(o, name, { value, enumerable: true, writable: true, configurable: true });
    else o[name] = value;
  }
  return o;
}

function keyName(k: Term, keys: KeyEncoding): string | undefined {
  if (keys === 'atom') {
    if (k instanceof Atom) return k.name;
    return typeof k === 'boolean' ? String(k) : undefined;
  }
  if (!(k instanceof Uint8Array)) return undefined;
  try {
    return strictUtf8.decode(k);
  } catch {
    return undefined;
  }
}
