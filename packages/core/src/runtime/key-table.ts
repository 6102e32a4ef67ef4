/**
 * A Map by string key for a process's monitors, tuned for what calls do: one entry added and
 * removed per call. The first entry sits in a slot of the table; a V8 Map that goes 1 → 0 entries
 * reallocates its hash table on every delete (measured: 152 bytes per set + delete, three times
 * per gen_server call between the caller's and the server's tables). Further entries go to a Map
 * made when two are held at once. Iteration: the slot, then the Map in insertion order.
 */
export class KeyTable<V> {
  private k0: string | undefined = undefined;
  private v0: V | undefined = undefined;
  private m: Map<string, V> | undefined = undefined;

  get size(): number {
    return (this.k0 === undefined ? 0 : 1) + (this.m?.size ?? 0);
  }

  get(key: string): V | undefined {
    return key === this.k0 ? this.v0 : this.m?.get(key);
  }

  has(key: string): boolean {
    return key === this.k0 || (this.m?.has(key) ?? false);
  }

  set(key: string, value: V): this {
    if (this.k0 === undefined || key === this.k0) {
      if (this.k0 === undefined && this.m?.has(key) === true) this.m.set(key, value);
      else {
        this.k0 = key;
        this.v0 = value;
      }
    } else (this.m ??= new Map()).set(key, value);
    return this;
  }

  delete(key: string): boolean {
    if (key === this.k0) {
      this.k0 = undefined;
      this.v0 = undefined;
      return true;
    }
    return this.m?.delete(key) ?? false;
  }

  /** The values, as an array (a copy: the table may change while the caller walks it). */
  values(): V[] {
    const out: V[] = [];
    if (this.k0 !== undefined) out.push(this.v0 as V);
    if (this.m !== undefined) for (const v of this.m.values()) out.push(v);
    return out;
  }

  /** The entries, as an array (a copy, as {@link values}). */
  entries(): Array<[string, V]> {
    const out: Array<[string, V]> = [];
    if (this.k0 !== undefined) out.push([this.k0, this.v0 as V]);
    if (this.m !== undefined) for (const e of this.m) out.push(e);
    return out;
  }
}
