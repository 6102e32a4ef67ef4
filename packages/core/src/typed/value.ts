import type { Atom, BitBinary, ErlExport, ErlFloat, ErlFun, ErlMap, ImproperList, Pid, Port, Ref, Tuple } from '@courier/term';

/**
 * The values typed actors exchange, and the compile-time check that a declared message type stays
 * inside them. The mapping to Erlang terms is in mapping.ts and docs/typed.md.
 */

/** How a typed actor's plain objects travel: maps with binary keys (default) or with atom keys. */
export type KeyEncoding = 'binary' | 'atom';

/** An atom whose name TypeScript knows: `TAtom<'ok'>` is the atom `ok`. Made by `typedAtom('ok')`. */
export type TAtom<N extends string = string> = Atom & { readonly name: N };

/** A tuple whose elements TypeScript knows: `TTuple<[TAtom<'ok'>, number]>` is `{ok, N}`. Made by `typedTuple(...)`. */
export type TTuple<E extends readonly unknown[] = readonly unknown[]> = Tuple & { readonly elements: E };

/** Term classes that pass through the mapping as they are (their contents mapped). */
export type TermObject = Atom | Tuple | Pid | Ref | Port | ErlMap | ImproperList | ErlFloat | BitBinary | ErlFun | ErlExport;

/** Leaves of a value. */
export type Scalar = string | number | boolean | bigint | null | Uint8Array;

/** Everything the mapping accepts (a plain object's `undefined` properties are left out). */
export type Value = Scalar | TermObject | readonly Value[] | { readonly [key: string]: Value | undefined };

/**
 * What a typed API asks for in place of its `node` argument when the declared message type `T`
 * has a part with no Erlang form: the compile error then names the problem.
 */
export type Checked<T, Ok> = [T] extends [Wire<T>]
  ? Ok
  : { readonly error: 'this message type has a part with no Erlang form (a function, Date, Map, class instance, symbol or top-level undefined): see Wire<T> and docs/typed.md' };

/**
 * `T` itself when every part of it has an Erlang form in the typed mapping, otherwise a type with
 * `never` where it has not (a function, a symbol, a `Date`, a `Map`, a class instance with
 * methods, `undefined` outside an object property). Checked through `Checked`, so declaring an actor
 * over such a message fails to compile.
 */
export type Wire<T> = T extends undefined ? never : WireProp<T>;

// `Value` itself (as in `Record<string, Value>`) is taken as it is, so the check ends there.
type WireProp<T> = [T] extends [Value | undefined] ? ([Value] extends [T] ? T : WirePart<T>) : WirePart<T>;

type WirePart<T> = T extends Scalar | undefined
  ? T
  : T extends (...args: never[]) => unknown
    ? never
    : T extends TermObject
      ? // Structural typing would let any `{ name: string; … }` pass as an Atom: a term class has no other keys.
        [Exclude<keyof T, TermObjectKeys>] extends [never]
        ? T
        : WireObject<T>
      : WireObject<T>;

type TermObjectKeys =
  keyof Atom | keyof Tuple | keyof Pid | keyof Ref | keyof Port | keyof ErlMap | keyof ImproperList | keyof ErlFloat | keyof BitBinary | keyof ErlFun | keyof ErlExport;

type WireObject<T> = T extends readonly unknown[]
  ? { readonly [I in keyof T]: Wire<T[I]> }
  : T extends object
    ? { [K in keyof T]: K extends string ? WireProp<T[K]> : never }
    : never;
