export { buildNode, defaultContainer, resolveCookie, CARRIER_PLUGIN, type CarrierPlugin, type IndexedSection, type PluginContext } from './container.js';
export {
  carrierPlugins,
  checkKindClaims,
  startServices,
  CARRIER_ROUTER,
  CLUSTER_FORMATION,
  OBSERVER,
  BRIDGE,
  NODE_SERVICE,
  type CarrierRouter,
  type NodeService,
} from './container.js';
export { builtinModules, carriersModule, resolversModule, observerModule, bridgeModule, servicesModule, routeByConfig } from './modules.js';
export { loadPlugins, type LoadedPlugin } from './plugins/load.js';
export { loadConfig, loadNodeConfig, readConfigFile, type NodeConfig } from './config/load.js';
export { resolveConfigPaths } from './config/paths.js';
export { checkNode, type CheckInput } from './commands/check.js';
export { USAGE, COMMANDS, EXIT_CODES, helpFor } from './help.js';
export {
  validateConfig,
  configProblems,
  configSchema,
  globToRegExp,
  ConfigError,
  type ConfigProblem,
  type ValidateOptions,
  type CourierConfig,
  type CarrierSection,
  type NodeSection,
  type RouteSection,
} from './config/schema.js';
export { TCP_SECTION, TLS_SECTION, SSH_SECTION, AEMP_SECTION } from './config/carriers.js';
/** The schema language of the configuration, for a third-party plugin's `schemas` (obj, str, bool, …). */
export * as shape from './config/shape.js';
export { erlangPlugin } from './plugins/erlang.js';
export { sshPlugin } from './plugins/ssh.js';
export { startEcho, courierEcho } from './services/echo.js';
export { main as cli, configFrom, EXIT } from './cli.js';
export { aempPlugin, aempOptions } from './plugins/aemp.js';
export { buildNodeParts, type BuiltNode } from './container.js';
export { startBridge, type Bridge, type BridgeOptions } from './bridge.js';
export { startCluster, clusterOptions } from './cluster.js';
export { CLUSTER_SECTION, type ClusterSection, type StrategySection } from './config/cluster.js';
