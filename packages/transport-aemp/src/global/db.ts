import { termKey, type Term } from '@courier/term';
import { objectOf } from '../values/own-key.js';

/**
 * The global database's shape (Global.pm): families of key → value. `'l` maps node ids to their
 * listener addresses, `'g` names the global nodes; user families hold registrations such as
 * `echo → { "node#echo": null }`. Hash keys are strings, as in Perl, and any string: peers choose
 * family names and keys (`__proto__`, `constructor` and `toString` included), so the database is
 * Maps throughout, and its wire form (plain objects) is written and read as own data properties
 * only (values/own-key.ts).
 */
export type Family = Map<string, Term>;
export type Db = Map<string, Family>;

export const LISTENERS = "'l";
export const GLOBALS = "'g";

/** A family as a plain object (the wire form), or null when empty or absent. */
export function familyObject(f: Family | undefined): Record<string, Term> | null {
  if (f === undefined || f.size === 0) return null;
  return objectOf(f);
}

/** The database as the wire's `{family: {key: value}}` (empty families left out). */
export function dbObject(db: Db): Record<string, Term> {
  const families: Array<[string, Term]> = [];
  for (const [name, f] of db) if (f.size > 0) families.push([name, objectOf(f)]);
  return objectOf(families);
}

/** A wire `{family: {key: value}}` as a Db (non-object families are ignored; own keys only). */
export function dbFromWire(x: Term): Db {
  const db: Db = new Map();
  if (!isObject(x)) return db;
  for (const [name, fam] of Object.entries(x)) {
    if (!isObject(fam)) continue;
    db.set(name, new Map(Object.entries(fam)));
  }
  return db;
}

/** A plain object of the wire (as JSON.parse and the CBOR decoder make them), not an array or a class instance. */
export function isObject(x: unknown): x is Record<string, Term> {
  return typeof x === 'object' && x !== null && !Array.isArray(x) && Object.getPrototypeOf(x) === Object.prototype;
}

/** The merged view of one family over several contributions (later ones win a key). */
export function mergeFamily(contribs: Iterable<Db>, family: string): Family {
  const out: Family = new Map();
  for (const db of contribs) {
    const f = db.get(family);
    if (f !== undefined) for (const [k, v] of f) out.set(k, v);
  }
  return out;
}

/** What changed from `before` to `after`: keys set (new or other value) and keys deleted. */
export function diffFamily(before: Family, after: Family): { set: Family; del: string[] } {
  const set: Family = new Map();
  const del: string[] = [];
  for (const [k, v] of after) if (!before.has(k) || !sameValue(before.get(k), v)) set.set(k, v);
  for (const k of before.keys()) if (!after.has(k)) del.push(k);
  return { set, del };
}

function sameValue(a: Term, b: Term): boolean {
  return a === b || termKey(a) === termKey(b);
}
