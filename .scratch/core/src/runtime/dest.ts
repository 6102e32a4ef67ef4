import { Atom, Pid, Ref, Tuple, atom } from '@courier/term';
import { UsageError } from '../errors.js';

/**
 * Where a message can go, whatever the bearer: a pid, a local registered name, `{Name, Node}`
 * (as a Tuple or `{ name, node }`), or an alias reference.
 */
export type Dest = Pid | Atom | Ref | Tuple | { readonly name: Atom | string; readonly node: Atom | string };

export type ResolvedDest =
  | { readonly kind: 'pid'; readonly pid: Pid }
  | { readonly kind: 'name'; readonly name: Atom; readonly node: Atom | undefined }
  | { readonly kind: 'alias'; readonly ref: Ref };

const asAtom = (x: unknown): Atom | undefined =>
  x instanceof Atom ? x : typeof x === 'string' ? atom(x) : undefined;

export function resolveDest(d: Dest): ResolvedDest {
  if (d instanceof Pid) return { kind: 'pid', pid: d };
  if (d instanceof Atom) return { kind: 'name', name: d, node: undefined };
  if (d instanceof Ref) return { kind: 'alias', ref: d };
  if (d instanceof Tuple) {
    const [n, nd] = d.elements;
    const name = asAtom(n);
    const node = asAtom(nd);
    if (d.elements.length === 2 && name && node) return { kind: 'name', name, node };
  } else if (typeof d === 'object' && d !== null && 'name' in d && 'node' in d) {
    const name = asAtom(d.name);
    const node = asAtom(d.node);
    if (name && node) return { kind: 'name', name, node };
  }
  throw new UsageError('BAD_DEST', 'a destination is a Pid, a registered name (Atom), {Name, Node} or an alias Ref');
}
