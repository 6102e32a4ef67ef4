import { at, check, isMapping, type ObjectSchema, type Schema } from '../../src/config/shape.js';

/** One mapping of a configuration that an ObjectSchema describes: where it is and what it may hold. */
export interface Level {
  /** Keys and indexes from the top, to reach it in a copy. */
  readonly steps: readonly (string | number)[];
  /** Its key path as the errors write it (`carriers[1].server`; '' for the top). */
  readonly path: string;
  readonly schema: ObjectSchema;
  readonly value: Record<string, unknown>;
  /** The key that picked its schema (`kind`), not one of its fields. */
  readonly tag?: string;
}

/** Every level of `value` that `schema` checks key by key, top first. */
export function* levels(s: Schema, v: unknown, steps: (string | number)[] = [], path = ''): Generator<Level> {
  switch (s.type) {
    case 'object':
      if (!isMapping(v)) return;
      yield { steps, path, schema: s, value: v };
      yield* fieldsOf(s, v, steps, path);
      return;
    case 'list':
      if (Array.isArray(v)) for (const [i, x] of v.entries()) yield* levels(s.item, x, [...steps, i], `${path}[${i}]`);
      return;
    case 'map':
      if (isMapping(v)) for (const [k, x] of Object.entries(v)) yield* levels(s.value, x, [...steps, k], at(path, k));
      return;
    case 'either': {
      const fits = s.options.find((o) => check(o, v).length === 0);
      if (fits !== undefined) yield* levels(fits, v, steps, path);
      return;
    }
    case 'tagged': {
      if (!isMapping(v)) return;
      const variant = s.variants.get(v[s.tag] as string);
      if (variant === undefined || variant === 'open') return;
      yield { steps, path, schema: variant, value: v, tag: s.tag };
      yield* fieldsOf(variant, v, steps, path);
      return;
    }
    default:
  }
}

function* fieldsOf(s: ObjectSchema, v: Record<string, unknown>, steps: (string | number)[], path: string): Generator<Level> {
  for (const [k, f] of s.fields) if (v[k] !== undefined) yield* levels(f.schema, v[k], [...steps, k], at(path, k));
}

/** A key of a schema, the same wherever the schema is reused (TLS `server` and `client`, the tcp keys of tls). */
const ids = new Map<Schema, number>();
export const keyId = (key: string, field: Schema): string => {
  let id = ids.get(field);
  if (id === undefined) ids.set(field, (id = ids.size + 1));
  return `${key}#${id}`;
};

/** Every key a schema takes: keyId → a readable path to it. */
export function schemaKeys(s: Schema, path = '', out = new Map<string, string>()): Map<string, string> {
  const sub = (x: Schema, p: string) => schemaKeys(x, p, out);
  switch (s.type) {
    case 'object':
      for (const [k, f] of s.fields) {
        const id = keyId(k, f.schema);
        if (out.has(id)) continue;
        out.set(id, at(path, k));
        sub(f.schema, at(path, k));
      }
      return out;
    case 'list':
      sub(s.item, `${path}[]`);
      return out;
    case 'map':
      sub(s.value, at(path, '*'));
      return out;
    case 'either':
      for (const o of s.options) sub(o, path);
      return out;
    case 'tagged':
      for (const [kind, v] of s.variants) if (v !== 'open') sub(v, `${path}<${kind}>`);
      return out;
    default:
      return out;
  }
}

/** A copy of `root` with `edit` applied to the mapping at `steps`. */
export function edited(root: unknown, steps: readonly (string | number)[], edit: (o: Record<string, unknown>) => void): unknown {
  const copy = structuredClone(root);
  let o = copy as Record<string | number, unknown>;
  for (const s of steps) o = o[s] as Record<string | number, unknown>;
  edit(o);
  return copy;
}
