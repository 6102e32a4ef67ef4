import { ROOT, type ConfigProblem } from './error.js';
import { didYouMean, suggest } from './suggest.js';

/**
 * A small schema language for the configuration and the walker that checks a value against it.
 * A schema says, for every level, which keys exist and what their values are; the walker reports
 * every key it does not know (with the closest known one), every missing required key and every
 * value of the wrong type, each with its key path (`carriers[1].tls.certfile`).
 *
 * Kept here rather than taken from a library: none is a dependency of this package, the whole
 * language is the dozen shapes a node configuration uses, and the messages are the point.
 */
export type Schema = StringSchema | BooleanSchema | NumberSchema | EnumSchema | LiteralSchema | ListSchema | ObjectSchema | MapSchema | EitherSchema | TaggedSchema;

interface Described {
  /** How a right value reads in a message: `must be ${expect}`. */
  readonly expect: string;
}
/** A string value, optionally non-empty or matching a pattern. */
export interface StringSchema extends Described {
  readonly type: 'string';
  readonly pattern?: RegExp;
  readonly nonEmpty?: boolean;
}
/** `true` or `false`. */
export interface BooleanSchema extends Described {
  readonly type: 'boolean';
}
/** A number, optionally an integer within bounds. */
export interface NumberSchema extends Described {
  readonly type: 'number';
  readonly integer?: boolean;
  readonly min?: number;
  readonly max?: number;
  /** Strictly above `min`. */
  readonly exclusiveMin?: boolean;
}
/** One of a fixed set of strings. */
export interface EnumSchema extends Described {
  readonly type: 'enum';
  readonly values: readonly string[];
}
/** Exactly one value (e.g. `false` for "turned off"). */
export interface LiteralSchema extends Described {
  readonly type: 'literal';
  readonly value: boolean | string | number;
}
/** A list of items of one schema, optionally with a least length. */
export interface ListSchema extends Described {
  readonly type: 'list';
  readonly item: Schema;
  readonly minItems?: number;
  /** What to say when the list is shorter than minItems. */
  readonly tooFew?: string;
}
/** A key of an object schema: its value's schema, and whether (and with which hint) it is required. */
export interface Field {
  readonly schema: Schema;
  readonly required?: boolean;
  /** What to say when a required key is missing (after `missing: `). */
  readonly missing?: string;
}
/** A mapping whose keys are configuration keys: a key it does not list is an error. */
export interface ObjectSchema extends Described {
  readonly type: 'object';
  readonly fields: ReadonlyMap<string, Field>;
  /** Checks across keys (`bind` or `binds`, not both), run when the keys themselves are right. */
  readonly refine?: (value: Readonly<Record<string, unknown>>, path: string) => readonly ConfigProblem[];
}
/** A mapping whose keys are data (node names → addresses): any key, each value checked. */
export interface MapSchema extends Described {
  readonly type: 'map';
  readonly value: Schema;
}
/** One of several shapes, told apart by the value's type (`false` or `{ host, port }`). */
export interface EitherSchema extends Described {
  readonly type: 'either';
  readonly options: readonly Schema[];
}
/**
 * A mapping whose `tag` key picks its schema (carrier sections by `kind`). A variant given as
 * `'open'` is known but checked by someone else (a carrier plugin without a schema).
 */
export interface TaggedSchema extends Described {
  readonly type: 'tagged';
  readonly tag: string;
  readonly noun: string;
  readonly variants: ReadonlyMap<string, ObjectSchema | 'open'>;
}

// ---- builders -------------------------------------------------------------------------------

/** A string; `nonEmpty`, `pattern` and `expect` (the noun used in errors) narrow it. */
export const str = (o: { pattern?: RegExp; expect?: string; nonEmpty?: boolean } = {}): StringSchema => ({
  type: 'string',
  expect: o.expect ?? (o.nonEmpty ? 'a non-empty string' : 'a string'),
  ...(o.pattern && { pattern: o.pattern }),
  ...(o.nonEmpty && { nonEmpty: true }),
});
/** `true` or `false`. */
export const bool = (): BooleanSchema => ({ type: 'boolean', expect: 'true or false' });
/** A number with optional `integer`, `min`, `max`, `exclusiveMin`. */
export const num = (o: Omit<NumberSchema, 'type' | 'expect'> & { expect?: string } = {}): NumberSchema => ({ type: 'number', expect: 'a number', ...o });
/** A number above 0. */
export const positive = (): NumberSchema => num({ min: 0, exclusiveMin: true, expect: 'a positive number' });
/** A TCP port number, `min` (default 0) to 65535. */
export const port = (min = 0): NumberSchema => num({ integer: true, min, max: 65535, expect: `a port number (${min}-65535)` });
/** One of the given strings; a near miss gets a "did you mean". */
export const oneOf = (...values: string[]): EnumSchema => ({ type: 'enum', values, expect: `one of ${values.join(', ')}` });
/** Exactly `value`. */
export const lit = (value: boolean | string | number): LiteralSchema => ({ type: 'literal', value, expect: JSON.stringify(value) });
/** A list of `item`; `minItems` with `tooFew` as the message when short. */
export const list = (item: Schema, o: { minItems?: number; tooFew?: string; expect?: string } = {}): ListSchema => ({
  type: 'list',
  item,
  expect: o.expect ?? `a list of ${item.expect}`,
  ...(o.minItems !== undefined && { minItems: o.minItems }),
  ...(o.tooFew !== undefined && { tooFew: o.tooFew }),
});
/** A mapping of any keys to values of one schema; `expect` describes it in errors. */
export const map = (value: Schema, expect: string): MapSchema => ({ type: 'map', value, expect });
/** The first of `options` that fits; `expect` describes them together in errors. */
export const either = (options: Schema[], expect?: string): EitherSchema => ({ type: 'either', options, expect: expect ?? options.map((o) => o.expect).join(' or ') });
/** A required key: `missing` says what to give when it is absent. */
export const required = (schema: Schema, missing?: string): Field => ({ schema, required: true, ...(missing !== undefined && { missing }) });

/** `obj({ host: str(), port: required(port()) })`: a mapping with exactly these keys (each optional unless `required`). */
export function obj(fields: Record<string, Schema | Field>, o: { expect?: string; refine?: ObjectSchema['refine'] } = {}): ObjectSchema {
  const m = new Map<string, Field>();
  for (const [k, f] of Object.entries(fields)) m.set(k, 'type' in f ? { schema: f } : f);
  const keys = [...m].map(([k, f]) => (f.required ? k : `${k}?`));
  return { type: 'object', fields: m, expect: o.expect ?? `a mapping { ${keys.join(', ')} }`, ...(o.refine && { refine: o.refine }) };
}

/** A list item chosen by its `tag` key (`kind`): each tag value has its object schema, or `'open'` (checked by its plugin). */
export function tagged(tag: string, noun: string, variants: ReadonlyMap<string, ObjectSchema | 'open'>): TaggedSchema {
  return { type: 'tagged', tag, noun, variants, expect: `a mapping with ${tag} (${[...variants.keys()].join(', ')})` };
}

// ---- paths ----------------------------------------------------------------------------------

const PLAIN_KEY = /^[A-Za-z_$][\w$-]*$/;
/** `parent.key`, or `parent["odd key"]` for a key a dotted path cannot show. */
export const at = (path: string, key: string): string => {
  const step = PLAIN_KEY.test(key) ? key : JSON.stringify(key);
  if (path === ROOT || path === '') return step;
  return PLAIN_KEY.test(key) ? `${path}.${step}` : `${path}[${step}]`;
};
const item = (path: string, i: number): string => `${path === ROOT ? '' : path}[${i}]`;

// ---- the walker -----------------------------------------------------------------------------

/** Whether `v` is a plain mapping (an object, not a list, not null). */
export const isMapping = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const show = (v: unknown): string => {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  const s = typeof v === 'string' ? JSON.stringify(v) : typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint' ? String(v) : typeof v;
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
};
const wrong = (s: Described, v: unknown): string => `must be ${s.expect}, not ${show(v)}`;

/** Every problem of `value` against `schema`, in the order of the value's keys. */
export function check(schema: Schema, value: unknown, path: string = ROOT): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  walk(schema, value, path, out);
  return out;
}

function walk(s: Schema, v: unknown, path: string, out: ConfigProblem[]): void {
  const fail = (problem: string) => out.push({ path, problem });
  switch (s.type) {
    case 'string':
      if (typeof v !== 'string' || (s.nonEmpty && v === '') || (s.pattern && !s.pattern.test(v))) fail(wrong(s, v));
      return;
    case 'boolean':
      if (typeof v !== 'boolean') fail(wrong(s, v));
      return;
    case 'number': {
      const ok =
        typeof v === 'number' &&
        Number.isFinite(v) &&
        (!s.integer || Number.isInteger(v)) &&
        (s.min === undefined || (s.exclusiveMin ? v > s.min : v >= s.min)) &&
        (s.max === undefined || v <= s.max);
      if (!ok) fail(wrong(s, v));
      return;
    }
    case 'enum':
      if (typeof v !== 'string' || !s.values.includes(v)) fail(wrong(s, v) + (typeof v === 'string' ? didYouMean(v, s.values) : ''));
      return;
    case 'literal':
      if (v !== s.value) fail(wrong(s, v));
      return;
    case 'list':
      if (!Array.isArray(v)) return void fail(wrong(s, v));
      if (s.minItems !== undefined && v.length < s.minItems) return void fail(s.tooFew ?? `must be ${s.expect}, at least ${s.minItems}`);
      v.forEach((x, i) => walk(s.item, x, item(path, i), out));
      return;
    case 'object':
      if (!isMapping(v)) return void fail(wrong(s, v));
      return walkObject(s, v, path, out);
    case 'map':
      if (!isMapping(v)) return void fail(wrong(s, v));
      for (const k of Object.keys(v)) walk(s.value, v[k], at(path, k), out);
      return;
    case 'either': {
      const chosen = s.options.find((o) => family(o) === valueFamily(v));
      if (chosen === undefined) return void fail(wrong(s, v));
      // A mapping or a list is checked inside (its errors name deeper keys); a plain value that
      // does not fit is reported against all the shapes this key takes.
      if (chosen.type === 'object' || chosen.type === 'list' || chosen.type === 'map') return walk(chosen, v, path, out);
      if (check(chosen, v, path).length > 0) fail(wrong(s, v));
      return;
    }
    case 'tagged': {
      if (!isMapping(v)) return void fail(wrong(s, v));
      const tag = v[s.tag];
      const tagPath = at(path, s.tag);
      const known = [...s.variants.keys()];
      if (tag === undefined) return void out.push({ path: tagPath, problem: `missing: each ${s.noun} names its ${s.tag} (${known.join(', ')})` });
      if (typeof tag !== 'string') return void out.push({ path: tagPath, problem: `must be one of ${known.join(', ')}, not ${show(tag)}` });
      const variant = s.variants.get(tag);
      if (variant === undefined) {
        return void out.push({ path: tagPath, problem: `unknown ${s.noun} ${JSON.stringify(tag)} (known: ${known.join(', ')})${didYouMean(tag, known)}` });
      }
      if (variant !== 'open') walkObject(variant, v, path, out, s.tag);
      return;
    }
  }
}

/** The problems of a mapping against an object schema, skipping the key `tag` (a carrier section's `kind`). */
export function checkObject(schema: ObjectSchema, value: unknown, path: string, tag?: string): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  if (isMapping(value)) walkObject(schema, value, path, out, tag);
  else out.push({ path, problem: wrong(schema, value) });
  return out;
}

function walkObject(s: ObjectSchema, v: Record<string, unknown>, path: string, out: ConfigProblem[], tag?: string): void {
  const before = out.length;
  for (const k of Object.keys(v)) {
    if (k === tag) continue;
    const f = s.fields.get(k);
    if (f === undefined) {
      const hint = suggest(k, s.fields.keys());
      const problem = hint === undefined ? `unknown key (known here: ${[...s.fields.keys()].join(', ')})` : `unknown key; did you mean ${hint}?`;
      out.push({ path: at(path, k), problem });
    } else if (v[k] !== undefined) {
      walk(f.schema, v[k], at(path, k), out);
    }
  }
  for (const [k, f] of s.fields) {
    if (f.required && (!Object.hasOwn(v, k) || v[k] === undefined)) out.push({ path: at(path, k), problem: `missing: ${f.missing ?? `give ${f.schema.expect}`}` });
  }
  if (out.length === before && s.refine) out.push(...s.refine(v, path));
}

type Family = 'string' | 'number' | 'boolean' | 'list' | 'mapping' | 'other';
/** Which type of value a schema takes (`either` picks its option by it). */
function family(s: Schema): Family {
  switch (s.type) {
    case 'string':
    case 'enum':
      return 'string';
    case 'boolean':
    case 'number':
      return s.type;
    case 'literal':
      return valueFamily(s.value);
    case 'list':
      return 'list';
    case 'either':
      return 'other';
    default:
      return 'mapping';
  }
}
function valueFamily(v: unknown): Family {
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return typeof v as Family;
  if (Array.isArray(v)) return 'list';
  return isMapping(v) ? 'mapping' : 'other';
}
