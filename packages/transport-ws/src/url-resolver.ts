import type { Atom } from '@courier/term';
import { ResolveError, type Resolver } from '@courier/core';

/** Where a WebSocket peer accepts: the one URL the transport's `urlFor` knows for it. */
export function urlResolver(urlFor: ((peer: Atom) => string | undefined) | undefined): Resolver<string> {
  return {
    resolve: (peer) => {
      const url = urlFor?.(peer);
      if (url === undefined) return Promise.reject(new ResolveError('NO_ADDRESS', `no WebSocket URL is known for ${peer.name}`));
      return Promise.resolve([url]);
    },
  };
}
