import { Atom, Pid, Ref, Tuple, atom } from '@courier/term';
import type { TAtom, TTuple } from './value.js';

/**
 * Pattern helpers for typed messages: `match` dispatches a discriminated union on its `type`
 * field (every case required, or a `_` fallback); `is.*` are type guards for a selective
 * `self.receive(guard)` and for Erlang replies (`is.tuple(is.atom('ok'), is.number)`).
 */
export type Tagged = { readonly type: string };

type Cases<T extends Tagged> = { readonly [K in T['type']]: (m: Extract<T, { readonly type: K }>) => unknown };
type PartialCases<T extends Tagged> = Partial<Cases<T>> & { readonly _: (m: T) => unknown };
/** What the cases return, joined. */
type Result<C> = { [K in keyof C]: C[K] extends (m: never) => infer R ? R : never }[keyof C];

/**
 * Dispatches a tagged union on its `type`: every case is required, and the result is the union of what the
 * cases return.
 */
export function match<T extends Tagged, C extends Cases<T>>(msg: T, cases: C): Result<C>;
/** Dispatches a tagged union on its `type`, with a `_` case for the types not listed. */
export function match<T extends Tagged, C extends PartialCases<T>>(msg: T, cases: C): Result<C>;
export function match<T extends Tagged>(msg: T, cases: Cases<T> | PartialCases<T>): unknown {
  const table = cases as unknown as Record<string, ((m: T) => unknown) | undefined>;
  const f = Object.hasOwn(table, msg.type) ? table[msg.type] : table._;
  if (f === undefined) throw new TypeError(`match: no case for a message of type ${JSON.stringify(msg.type)} and no _ case`);
  return f(msg);
}

export type Guard<T> = (v: unknown) => v is T;
type Guarded<G> = G extends Guard<infer T> ? T : never;
type GuardedAll<Gs extends readonly unknown[]> = { readonly [I in keyof Gs]: Guarded<Gs[I]> };

/** An atom whose name TypeScript knows: `typedAtom('ok')` is a `TAtom<'ok'>`. */
export function typedAtom<N extends string>(name: N): TAtom<N> {
  return atom(name) as TAtom<N>;
}

/** A tuple whose element types TypeScript knows: `typedTuple(typedAtom('ok'), 1)` is a `TTuple<[TAtom<'ok'>, number]>`. */
export function typedTuple<E extends readonly unknown[]>(...elements: E): TTuple<E> {
  return new Tuple([...elements] as never) as TTuple<E>;
}

/**
 * Type guards for a selective `self.receive(guard)` and for Erlang replies: `is.type('ping')`,
 * `is.tuple(is.atom('ok'), is.number)`, ….
 */
export const is = {
  /** A member of a union whose `type` is `t`: `self.receive(is.type('ping'))`. */
  type:
    <K extends string>(t: K) =>
    <T extends Tagged>(m: T): m is Extract<T, { readonly type: K }> =>
      m.type === t,
  /** The atom `name`, or any atom. */
  atom<N extends string = string>(name?: N): Guard<TAtom<N>> {
    if (name === undefined) return (v): v is TAtom<N> => v instanceof Atom;
    const a = atom(name);
    return (v): v is TAtom<N> => v === a;
  },
  /** A tuple of exactly these elements. */
  tuple<Gs extends readonly Guard<unknown>[]>(...gs: Gs): Guard<TTuple<GuardedAll<Gs>>> {
    return (v): v is TTuple<GuardedAll<Gs>> => v instanceof Tuple && v.elements.length === gs.length && gs.every((g, i) => g(v.elements[i]));
  },
  string: ((v) => typeof v === 'string') as Guard<string>,
  number: ((v) => typeof v === 'number') as Guard<number>,
  boolean: ((v) => typeof v === 'boolean') as Guard<boolean>,
  bigint: ((v) => typeof v === 'bigint') as Guard<bigint>,
  bytes: ((v) => v instanceof Uint8Array) as Guard<Uint8Array>,
  pid: ((v) => v instanceof Pid) as Guard<Pid>,
  ref: ((v) => v instanceof Ref) as Guard<Ref>,
  any: ((_v) => true) as Guard<unknown>,
  /** An array whose every element passes `g`. */
  array<T>(g: Guard<T>): Guard<T[]> {
    return (v): v is T[] => Array.isArray(v) && v.every((x) => g(x));
  },
  /** Either guard. */
  either<A, B>(a: Guard<A>, b: Guard<B>): Guard<A | B> {
    return (v): v is A | B => a(v) || b(v);
  },
} as const;
