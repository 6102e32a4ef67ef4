import type { Term } from './term.js';

/**
 * The elements of a proper list, whatever its JS shape: an array, or a string (a list of small
 * integers arrives as STRING_EXT and decodes to a JS string: `[10]` is "\n"). Undefined when the
 * term is not a proper list. Use it wherever an Erlang list of arbitrary terms is expected, such
 * as the argument list of an rpc call.
 */
export function listItems(t: Term): Term[] | undefined {
  if (Array.isArray(t)) return t;
  if (typeof t === 'string') {
    const out = new Array<Term>(t.length);
    for (let i = 0; i < t.length; i++) out[i] = t.charCodeAt(i);
    return out;
  }
  return undefined;
}
