export { buildNode, defaultContainer, resolveCookie, CARRIER_PLUGIN, type CarrierPlugin, type IndexedSection, type PluginContext } from './container.js';
export { loadConfig } from './config/load.js';
export { validateConfig, globToRegExp, ConfigError, type CourierConfig, type CarrierSection, type NodeSection, type RouteSection } from './config/schema.js';
export { erlangPlugin } from './plugins/erlang.js';
export { sshPlugin } from './plugins/ssh.js';
export { startEcho, courierEcho } from './services/echo.js';
export { main as cli, configFrom, EXIT } from './cli.js';
