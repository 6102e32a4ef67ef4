/**
 * @courier/discovery — cluster formation as libcluster does it for Elixir: strategies that find
 * node names (a static list, EPMD host scanning from `.hosts.erlang`, DNS A/AAAA and SRV records
 * of a headless service), and `formCluster`, which re-resolves them periodically, connects the
 * nodes found and reports who joined and who left. Node-only (node:dns, node:net); core stays
 * free of it.
 *
 * @packageDocumentation
 * @module @courier/discovery
 */
export { formCluster, DEFAULT_INTERVAL_MS, MAX_LISTED, type Cluster, type ClusterNode, type FormationOptions, type MembershipChange } from './formation.js';
export { checkBasename, nodeNameOf, aliveOf, type Strategy } from './strategy.js';
export { staticList } from './static.js';
export { epmdHosts, parseHostsErlang, EPMD_SCAN_TIMEOUT_MS, type EpmdHostsOptions } from './epmd-hosts.js';
export { dnsA, dnsSrv, DNS_TIMEOUT_MS, type DnsOptions, type DnsAOptions } from './dns.js';
