import type { Atom } from '@courier/term';

/**
 * Where does a node listen? EPMD, a static table, AEMP's seeds and address table, an SSH host.
 * Resolves with the candidate addresses, tried in order; fails with ResolveError.
 */
export interface Resolver<Address> {
  /**
   * The candidate addresses of `node`, tried in order; rejects with a `ResolveError`, or when `signal`
   * aborts.
   */
  resolve(node: Atom, signal: AbortSignal): Promise<readonly Address[]>;
}

/** A resolver that always answers the same candidates (a static address, an in-memory name). */
export function staticResolver<Address>(lookup: (node: Atom) => readonly Address[]): Resolver<Address> {
  return { resolve: (node) => Promise.resolve(lookup(node)) };
}
