export { createCluster, netnsPeer, type Cluster, type ClusterHost, type ClusterOptions, type RemoteFaultProxy } from './cluster.js';
export { netnsSupport, sweepStaleNamespaces } from './ip.js';
export type { HostProcess, SpawnInOptions } from './host-process.js';
