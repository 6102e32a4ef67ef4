import type { Strategy } from './strategy.js';

/** A fixed list of node names (libcluster's `Cluster.Strategy.Epmd`): connected, and reconnected each round. */
export function staticList(nodes: readonly string[]): Strategy {
  for (const n of nodes) if (!/^[^@\s]+@[^@\s]+$/.test(n)) throw new RangeError(`${JSON.stringify(n)} is not a node name alive@host`);
  const list = [...nodes];
  return { kind: 'static', resolve: () => Promise.resolve(list) };
}
