/**
 * Objects whose keys a peer chose — JSON and CBOR maps, registry families on the wire — are plain
 * objects in the term model, as JSON.parse makes them: every key an own data property. Writing
 * one with `o[k] = v` is wrong for the key `__proto__` (it would set the object's prototype and
 * drop the key), and reading one with `o[k]` finds inherited members (`constructor`, `toString`)
 * for keys that are not there. These helpers do both as data, whatever the key.
 */

/** `o[k] = v` as an own, enumerable data property, for any key (`__proto__` included). */
export function put(o: Record<string, unknown>, k: string, v: unknown): void {
  if (k === '__proto__') Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
  else o[k] = v;
}

/** A plain object holding `entries` as own data properties (the wire form of a map keyed by peers). */
export function objectOf<T>(entries: Iterable<readonly [string, T]>): Record<string, T> {
  const o: Record<string, T> = {};
  for (const [k, v] of entries) put(o, k, v);
  return o;
}

/** `o[k]` when `k` is one of `o`'s own properties, else undefined (never an inherited member). */
export function ownValue<T>(o: Readonly<Record<string, T>>, k: string): T | undefined {
  return Object.hasOwn(o, k) ? o[k] : undefined;
}
