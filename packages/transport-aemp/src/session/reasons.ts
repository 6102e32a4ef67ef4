import { Atom, Tuple, atom, atoms, type Term } from '@courier/term';
import type { Dialect } from '../framing/codec.js';

/**
 * Exit reasons ⇄ AEMP's `@reason` lists (kil0, kil1). Perl's conventions: `()` is a normal exit,
 * `("die", $msg)`, `("transport_error", $node, $msg)`, `("no_such_port", …)`, or a user's list.
 *
 * | Courier reason            | to Perl                  | to Courier        |
 * |---------------------------|--------------------------|-------------------|
 * | `normal`                  | `()`                     | `()`              |
 * | `noproc` (no such port)   | `("no_such_port", "cannot monitor nonexistent port", id)` | same |
 * | a tuple `{A, B, …}`       | `(A, B, …)`              | `(value)`         |
 * | anything else R           | `(R)`                    | `(value)`         |
 *
 * Back: `()` → `normal`, `("no_such_port", …)` → `noproc`, one value → that value, several → a
 * tuple of them.
 */
export const NO_SUCH_PORT = 'no_such_port';
const NO_SUCH_PORT_TEXT = 'cannot monitor nonexistent port';

/**
 * An exit reason as AEMP's `@reason` list for Perl: `()` for normal, `("no_such_port", …)` for noproc, a
 * tuple's elements, or the one value.
 */
export function reasonToWire(reason: Term, dialect: Dialect, portId: string): Term[] {
  if (reason === atoms.normal) return [];
  if (reason === atoms.noproc) return [NO_SUCH_PORT, NO_SUCH_PORT_TEXT, portId];
  if (dialect === 'perl' && reason instanceof Tuple && reason.elements.length > 0) return reason.elements;
  return [reason];
}

/**
 * A `@reason` list from Perl as an exit reason: `()` is normal, `("no_such_port", …)` is noproc, one value
 * is itself, several a tuple.
 */
export function reasonFromWire(items: readonly Term[]): Term {
  if (items.length === 0) return atoms.normal;
  const first = items[0];
  if (first === NO_SUCH_PORT || first === NO_SUCH_PORT_ATOM) return atoms.noproc;
  if (items.length === 1) return first;
  return new Tuple([...items]);
}

const NO_SUCH_PORT_ATOM: Atom = atom(NO_SUCH_PORT);
