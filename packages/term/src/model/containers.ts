import type { Term } from './term.js';
import { formatErlang } from '../text/format.js';

/** An Erlang tuple. Elements are kept in a plain array; the class gives it a distinct identity. */
export class Tuple {
  /** Erlang syntax, as `io:format("~p")` shows it. */
  toString(): string {
    return formatErlang(this);
  }

  readonly elements: Term[];
  constructor(elements: Term[]) {
    this.elements = elements;
  }
  /** length The number of elements (Erlang's `tuple_size/1`). */
  get length(): number {
    return this.elements.length;
  }
  /** The element at zero-based index `i` (Erlang's `element(i + 1, T)`). */
  at(i: number): Term {
    return this.elements[i];
  }
}

/** An Erlang tuple of `elements`: `tuple(atom('ok'), 1)` is `{ok, 1}`. */
export function tuple(...elements: Term[]): Tuple {
  return new Tuple(elements);
}

/** An improper list `[a, b | tail]` whose tail is not `[]`. Proper lists are plain JS arrays. */
export class ImproperList {
  /** Erlang syntax, as `io:format("~p")` shows it. */
  toString(): string {
    return formatErlang(this);
  }

  constructor(
    readonly items: Term[],
    readonly tail: Term,
  ) {}
}

/**
 * The list an ImproperList stands for, as Erlang sees it: a tail that is itself a list (an array,
 * a string, another ImproperList) continues the list, so `[1 | [2]]` is the proper list `[1, 2]`.
 * `tail` is undefined when the result is proper.
 */
export function flattenList(l: ImproperList): { items: Term[]; tail: Term | undefined; proper: boolean } {
  const items: Term[] = [...l.items];
  let tail: Term = l.tail;
  for (;;) {
    if (Array.isArray(tail)) {
      for (const e of tail) items.push(e);
      return { items, tail: undefined, proper: true };
    }
    if (typeof tail === 'string') {
      for (const ch of tail) items.push(ch.codePointAt(0));
      return { items, tail: undefined, proper: true };
    }
    if (!(tail instanceof ImproperList)) return { items, tail, proper: false };
    for (const e of tail.items) items.push(e);
    tail = tail.tail;
  }
}

/** Whether an ImproperList's tail is itself a list, so that it is not in its flattest form. */
export function hasListTail(l: ImproperList): boolean {
  const t = l.tail;
  return Array.isArray(t) || typeof t === 'string' || t instanceof ImproperList;
}

/** A bitstring whose length is not a whole number of bytes: `bits` (1..8) are used in the last byte. */
export class BitBinary {
  /** Erlang syntax, as `io:format("~p")` shows it. */
  toString(): string {
    return formatErlang(this);
  }

  constructor(
    readonly bytes: Uint8Array,
    readonly bits: number,
  ) {}
  /** bitLength The length in bits (Erlang's `bit_size/1`). */
  get bitLength(): number {
    return this.bytes.length === 0 ? 0 : (this.bytes.length - 1) * 8 + this.bits;
  }
}

/**
 * A float that must stay a float. Decoded floats with an integral value (1.0, 0.0, -0.0, 1.0e308)
 * come back as ErlFloat so that they re-encode as floats; other floats are plain numbers.
 * Wrap a JS number in `float(x)` to send `1.0` rather than `1`.
 */
export class ErlFloat {
  /** Erlang syntax, as `io:format("~p")` shows it. */
  toString(): string {
    return formatErlang(this);
  }

  constructor(readonly value: number) {}
  /** The float as a JavaScript number, so arithmetic on an `ErlFloat` works. */
  valueOf(): number {
    return this.value;
  }
}

/** An Erlang float, even when `value` is integral (`float(1)` is `1.0`, not the integer `1`). */
export function float(value: number): ErlFloat {
  return new ErlFloat(value);
}
