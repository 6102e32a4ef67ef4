import { ErlMap, Tuple, termEquals, type Term } from '@courier/term';
import type { Matcher } from './mailbox.js';

/**
 * Receive patterns, Erlang-style: a term where `_` matches anything and a function is a guard
 * on that position. `tuple(atom('DOWN'), ref, _, _, _)` matches a DOWN message for `ref`.
 * Tuples and lists are matched element-wise; maps match when every pattern key is present and
 * its value matches; everything else by `=:=`.
 */
export const _: unique symbol = Symbol('_');

/** A predicate used in a pattern where a value would be: matches the terms it returns true for. */
export type Guard = (t: Term) => boolean;
/**
 * A pattern for selective receive: a term matched by equality, {@link _} for anything, a {@link Guard}, or a
 * tuple or list of patterns.
 */
export type Pattern = Term | typeof _ | Guard | PatternTuple | Pattern[];

/** A tuple pattern, built by `tuple(...)` with `_` or guards inside. */
type PatternTuple = Tuple;

/** Whether term `t` matches `pattern`. */
export function matches(pattern: Pattern, t: Term): boolean {
  if (pattern === _) return true;
  if (typeof pattern === 'function') return (pattern as Guard)(t);
  if (pattern instanceof Tuple) {
    if (!(t instanceof Tuple) || t.elements.length !== pattern.elements.length) return false;
    const pe = pattern.elements as Pattern[];
    for (let i = 0; i < pe.length; i++) if (!matches(pe[i], t.elements[i])) return false;
    return true;
  }
  if (Array.isArray(pattern)) {
    if (!Array.isArray(t) || t.length !== pattern.length) return false;
    for (let i = 0; i < pattern.length; i++) if (!matches(pattern[i], t[i])) return false;
    return true;
  }
  if (pattern instanceof ErlMap) {
    if (!(t instanceof ErlMap)) return false;
    for (const [k, v] of pattern) {
      if (!t.has(k) || !matches(v, t.get(k))) return false;
    }
    return true;
  }
  return termEquals(pattern, t);
}

/** A mailbox matcher from a pattern or a predicate. */
export function toMatcher(p: Pattern | Matcher | undefined): Matcher | undefined {
  if (p === undefined || p === _) return undefined;
  if (typeof p === 'function') return p as Matcher;
  return (t) => matches(p, t);
}

/** A tuple pattern whose elements may be `_` or guards: `ptuple(atom('DOWN'), ref, _, _, _)`. */
export function ptuple(...elements: Pattern[]): Tuple {
  return new Tuple(elements as Term[]);
}
