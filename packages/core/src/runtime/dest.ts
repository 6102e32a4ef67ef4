import { Atom, Pid, Ref, Tuple, atom } from '@courier/term';
import { UsageError } from '../errors.js';

/**
 * Where a message can go, whatever the bearer: a pid, a local registered name, `{Name, Node}`
 * (as a Tuple or `{ name, node }`), an alias reference, or a carrier address string (an AEMP
 * port id `nodeid#port`) that an {@link AddressResolver} registered on the node claims.
 */
export type Dest = Pid | Atom | Ref | Tuple | string | { readonly name: Atom | string; readonly node: Atom | string };

/**
 * A {@link Dest} sorted out by {@link resolveDest}: a pid, a local or remote registered name, an alias, or a
 * name for a resolver.
 */
export type ResolvedDest =
  | { readonly kind: 'pid'; readonly pid: Pid }
  | { readonly kind: 'name'; readonly name: Atom; readonly node: Atom | undefined }
  | { readonly kind: 'alias'; readonly ref: Ref }
  /** A named port of a peer, addressed by a string the carrier understands (no atom is made of it). */
  | { readonly kind: 'port'; readonly node: Atom; readonly port: string };

/**
 * The hook through which a transport makes its own address syntax a destination like any other:
 * `node.send('perl-node#port', msg)` and `self.send(...)` ask each resolver registered with
 * `node.addAddressResolver` in turn; the first that claims the string says where it leads — a
 * local pid or name, or a port of a peer, which the node sends as a `port_send` operation over the
 * peer's connection (dialing it on demand, as for any remote send). Unclaimed strings are a
 * UsageError `BAD_DEST`.
 */
export type AddressResolver = (address: string) => ResolvedDest | undefined;

const asAtom = (x: unknown): Atom | undefined => (x instanceof Atom ? x : typeof x === 'string' ? atom(x) : undefined);

/** Resolve a destination; strings are offered to `resolvers` (none by default). */
export function resolveDest(d: Dest, resolvers: readonly AddressResolver[] = []): ResolvedDest {
  if (typeof d === 'string') {
    for (const r of resolvers) {
      const got = r(d);
      if (got !== undefined) return got;
    }
    throw new UsageError('BAD_DEST', `no carrier of this node claims the address ${JSON.stringify(d)}`);
  }
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
  throw new UsageError('BAD_DEST', 'a destination is a Pid, a registered name (Atom), {Name, Node}, an alias Ref or a carrier address string');
}
