import type { Atom } from '@courier/term';

/** Where does a node listen? EPMD, a static table, seeds, … Fails with ResolveError. */
export interface Resolver<Address> {
  resolve(node: Atom, signal?: AbortSignal): Promise<Address>;
}
