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

  get size(): number {
    return this.entriesByKey.size;
  }
  get(key: Term): Term | undefined {
    return this.entriesByKey.get(termKey(key))?.[1];
  }
  has(key: Term): boolean {
    return this.entriesByKey.has(termKey(key));
  }
  set(key: Term, value: Term): this {
    this.entriesByKey.set(termKey(key), [key, value]);
    return this;
  }
  delete(key: Term): boolean {
    return this.entriesByKey.delete(termKey(key));
  }
  entries(): IterableIterator<[Term, Term]> {
    return this.entriesByKey.values();
  }
  [Symbol.iterator](): IterableIterator<[Term, Term]> {
    return this.entriesByKey.values();
  }
  keys(): Term[] {
    return [...this.entriesByKey.values()].map((e) => e[0]);
  }
}
