import { termKey } from './key.js';
import type { Term } from './term.js';
import { formatErlang } from '../text/format.js';

/**
 * An Erlang map. Keys are compared by Erlang exact equality (`=:=`) through {@link termKey},
 * so `#{ {a,1} => x }` can be looked up with a fresh `tuple(atom('a'), 1)`.
 * Iteration order is insertion order (the decoder inserts in wire order).
 */
export class ErlMap {
  /** Erlang syntax, as `io:format("~p")` shows it. */
  toString(): string {
    return formatErlang(this);
  }

  private readonly entriesByKey = new Map<string, [Term, Term]>();

  constructor(entries?: Iterable<readonly [Term, Term]>) {
    if (entries) for (const [k, v] of entries) this.set(k, v);
  }

  /** size The number of keys (Erlang's `map_size/1`). */
  get size(): number {
    return this.entriesByKey.size;
  }
  /** The value under `key`, compared by term equality (not identity), or `undefined`. */
  get(key: Term): Term | undefined {
    return this.entriesByKey.get(termKey(key))?.[1];
  }
  /** Whether `key` (compared by term equality) is in the map. */
  has(key: Term): boolean {
    return this.entriesByKey.has(termKey(key));
  }
  /** Puts `value` under `key`, replacing an equal key's value; returns the map. */
  set(key: Term, value: Term): this {
    this.entriesByKey.set(termKey(key), [key, value]);
    return this;
  }
  /** Removes `key`; false when it was not there. */
  delete(key: Term): boolean {
    return this.entriesByKey.delete(termKey(key));
  }
  /** The `[key, value]` pairs, in insertion order. */
  entries(): IterableIterator<[Term, Term]> {
    return this.entriesByKey.values();
  }
  /** Iterates the `[key, value]` pairs, in insertion order. */
  [Symbol.iterator](): IterableIterator<[Term, Term]> {
    return this.entriesByKey.values();
  }
  /** The keys, in insertion order. */
  keys(): Term[] {
    return [...this.entriesByKey.values()].map((e) => e[0]);
  }
}
