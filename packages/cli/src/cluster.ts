import { dnsA, dnsSrv, epmdHosts, formCluster, staticList, type Cluster, type FormationOptions, type Strategy } from '@courier/discovery';
import type { Logger, Node } from '@courier/core';
import type { ClusterSection, StrategySection } from './config/cluster.js';
import type { CourierConfig } from './config/schema.js';

/** The EPMD port a configuration's Erlang carrier uses (tcp or tls `epmd.port`), if it says one. */
function configuredEpmdPort(config: CourierConfig): number | undefined {
  for (const c of config.carriers) {
    if (c.kind !== 'tcp' && c.kind !== 'tls') continue;
    const epmd = c['epmd'] as { port?: number } | false | undefined;
    if (epmd !== undefined && epmd !== false && epmd.port !== undefined) return epmd.port;
  }
  return undefined;
}

function strategy(s: StrategySection, config: CourierConfig): Strategy {
  // A DNS strategy's basename defaults to this node's own: every pod of a set shares it.
  const basename = (b: string | undefined) => b ?? config.node.name.slice(0, config.node.name.indexOf('@'));
  switch (s.kind) {
    case 'static':
      return staticList(s.nodes);
    case 'epmd-hosts':
      return epmdHosts({ ...s, epmdPort: s.epmdPort ?? configuredEpmdPort(config) });
    case 'dns':
      return dnsA({ ...s, basename: basename(s.basename) });
    case 'dns-srv':
      return dnsSrv({ ...s, basename: basename(s.basename) });
  }
}

/** The formation options of a configuration's `cluster` section (checked by validateConfig). */
export function clusterOptions(config: CourierConfig & { cluster: ClusterSection }, log?: Logger): FormationOptions {
  const c = config.cluster;
  return { strategies: c.strategies.map((s) => strategy(s, config)), intervalMs: c.intervalMs, disconnectGone: c.disconnectGone, log };
}

/** Start forming the cluster a configuration describes, on a started node; undefined without a `cluster` section. */
export function startCluster(node: Node, config: CourierConfig, log?: Logger): Cluster | undefined {
  if (config.cluster === undefined) return undefined;
  return formCluster(node, clusterOptions({ ...config, cluster: config.cluster }, log));
}
