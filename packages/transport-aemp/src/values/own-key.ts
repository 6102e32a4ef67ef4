/**
 * `o[k] = v` that also works for the key `__proto__` (which would otherwise set the object's
 * prototype instead of a property): peers' JSON and CBOR maps may use any key.
 */
export function put(o: Record<string, unknown>, k: string, v: unknown): void {
  if (k === '__proto__') Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
  else o[k] = v;
}
