import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { Container } from 'inversify';
import { atom, type Atom } from '@courier/term';
import { Node, silentLogger, type Logger, type Transport } from '@courier/core';
import { ConfigError, validateConfig, type CarrierSection, type CourierConfig, type NodeSection } from './config/schema.js';
import type { ObjectSchema } from './config/shape.js';
import { BRIDGE, CARRIER_PLUGIN, CARRIER_ROUTER, NODE_SERVICE, builtinModules, type CarrierRouter, type NodeService } from './modules.js';
import type { startBridge } from './bridge.js';

export { BRIDGE, CARRIER_PLUGIN, CARRIER_ROUTER, CLUSTER_FORMATION, NODE_SERVICE, OBSERVER, type CarrierRouter, type NodeService } from './modules.js';
export { carriersModule, resolversModule, observerModule, bridgeModule, servicesModule, builtinModules } from './modules.js';

/**
 * The composition root. Everything a node is built from is bound in an inversify container by
 * container modules (modules.ts), without decorators: library classes stay plain and the
 * container only says which implementations exist. The built-in modules bind the carriers
 * (CARRIER_PLUGIN), the resolvers (CARRIER_ROUTER: routes → carrier kind; CLUSTER_FORMATION),
 * the observer (OBSERVER), the bridge (BRIDGE) and the services (NODE_SERVICE). A third-party
 * carrier is an npm package whose default export is a ContainerModule binding one more
 * CARRIER_PLUGIN; `plugins: [...]` in a configuration names such packages (plugins/load.ts):
 *
 * ```ts
 * export default new ContainerModule(({ bind }) => {
 *   bind(CARRIER_PLUGIN).toConstantValue({ name: '@acme/courier-quic', kinds: ['quic'], schemas: { quic: obj({...}) }, create });
 * });
 * ```
 */
/** What a carrier plugin's `create` is given besides its sections. */
export interface PluginContext {
  readonly node: NodeSection;
  readonly log: Logger;
  /** The cookie for `peer` (node.cookie, node.cookieFile, COURIER_COOKIE, ~/.erlang.cookie). */
  readonly cookie: () => string;
  /** Which configured carrier kind reaches `peer`, by the routes (first match; default the first carrier). */
  readonly carrierFor: (peer: Atom) => string;
}

/** A numbered section, so that a plugin's errors can name `carriers[i].field`. */
export interface IndexedSection {
  readonly index: number;
  readonly section: CarrierSection;
}

/**
 * A carrier plugin: the carrier kinds it builds, the schema and file-path keys of their sections,
 * and `create`, which turns this node's sections of its kinds into one Transport. Bound under
 * CARRIER_PLUGIN by a ContainerModule (the default export of a plugin package).
 */
export interface CarrierPlugin {
  /** Who provides it (the npm package): named in errors, e.g. when two plugins claim one kind. */
  readonly name?: string;
  /** The carrier kinds this plugin builds (one transport for all of its sections). */
  readonly kinds: readonly string[];
  /**
   * The schema of each kind's section (config/shape.ts; the built-in ones are in
   * config/carriers.ts): validateConfig refuses a key it does not list. A plugin without one
   * gets its sections unchecked beyond `kind`, and checks them itself in `create`.
   */
  readonly schemas?: Readonly<Record<string, ObjectSchema>>;
  /**
   * The keys of each kind's section that are file paths (dotted: `server.certfile`): a
   * configuration file's relative paths are resolved against the file's directory.
   */
  readonly paths?: Readonly<Record<string, readonly string[]>>;
  /** The transport for all of this node's sections of the plugin's kinds; throws ConfigError naming `carriers[i].key`. */
  create(sections: readonly IndexedSection[], ctx: PluginContext): Transport;
}

/** A container with the built-in modules loaded (the carriers tcp, tls, ssh, aemp and the rest). */
export function defaultContainer(): Container {
  const c = new Container();
  c.loadSync(...builtinModules());
  return c;
}

/** The carrier plugins bound in `container` (none: an empty list). */
export function carrierPlugins(container: Container): CarrierPlugin[] {
  return container.isBound(CARRIER_PLUGIN) ? container.getAll<CarrierPlugin>(CARRIER_PLUGIN) : [];
}

/**
 * Two plugins claiming one carrier kind: a ConfigError naming both (the first would otherwise
 * silently win). `nameOf` names a plugin (default: its `name`).
 */
export function checkKindClaims(plugins: readonly CarrierPlugin[], nameOf: (p: CarrierPlugin) => string = (p) => p.name ?? 'an unnamed plugin', path = 'plugins'): void {
  const owner = new Map<string, CarrierPlugin>();
  for (const p of plugins) {
    for (const k of p.kinds) {
      const first = owner.get(k);
      if (first !== undefined && first !== p) {
        throw new ConfigError(path, `carrier kind ${JSON.stringify(k)} is claimed by two plugins, ${nameOf(first)} and ${nameOf(p)}: load only one of them`);
      }
      owner.set(k, p);
    }
  }
}

/** Resolve the cookie as erl does, plus the COURIER_COOKIE variable. */
export function resolveCookie(node: NodeSection): string {
  if (node.cookie) return node.cookie;
  const file = node.cookieFile;
  if (file) {
    try {
      return readFileSync(file, 'utf8').trim();
    } catch {
      throw new ConfigError('node.cookieFile', `cannot read ${file}`);
    }
  }
  const env = process.env['COURIER_COOKIE'];
  if (env) return env;
  try {
    return readFileSync(`${homedir()}/.erlang.cookie`, 'utf8').trim();
  } catch {
    throw new ConfigError('node.cookie', 'no cookie: give --cookie C (or node.cookie / node.cookieFile in a configuration), set COURIER_COOKIE, or create ~/.erlang.cookie');
  }
}

/** The Node a configuration describes, built from the container's bindings (default: defaultContainer()); not started. Throws ConfigError. */
export function buildNode(config: CourierConfig, opts: { container?: Container; log?: Logger } = {}): Node {
  return buildNodeParts(config, opts).node;
}

/** A built node and its transports by carrier kind (e.g. the `aemp` transport, for its registry). */
export interface BuiltNode {
  readonly node: Node;
  readonly transports: ReadonlyMap<string, Transport>;
  /** Which carrier kind reaches a peer (the routes). */
  readonly carrierFor: (peer: Atom) => string;
}

/** buildNode, also returning the transports by carrier kind and the carrier router. */
export function buildNodeParts(config: CourierConfig, opts: { container?: Container; log?: Logger } = {}): BuiltNode {
  const container = opts.container ?? defaultContainer();
  const plugins = carrierPlugins(container);
  checkKindClaims(plugins);
  // A configuration built in code is held to the same schema as one read from a file.
  validateConfig(config, undefined, { plugins });
  const log = opts.log ?? silentLogger;
  const carrierFor = container.get<CarrierRouter>(CARRIER_ROUTER)(config);
  let cookie: string | undefined;
  const ctx: PluginContext = { node: config.node, log, cookie: () => (cookie ??= resolveCookie(config.node)), carrierFor };

  const byPlugin = new Map<CarrierPlugin, IndexedSection[]>();
  config.carriers.forEach((section, index) => {
    const p = plugins.find((x) => x.kinds.includes(section.kind));
    if (p === undefined) {
      const known = plugins.flatMap((x) => x.kinds).join(', ');
      throw new ConfigError(`carriers[${index}].kind`, `unknown carrier ${JSON.stringify(section.kind)} (known: ${known})`);
    }
    byPlugin.set(p, [...(byPlugin.get(p) ?? []), { index, section }]);
  });
  const transportOfKind = new Map<string, Transport>();
  const transports: Transport[] = [];
  for (const [plugin, sections] of byPlugin) {
    const t = plugin.create(sections, ctx);
    transports.push(t);
    for (const s of sections) transportOfKind.set(s.section.kind, t);
  }
  const node = new Node({
    name: atom(config.node.name),
    log,
    transports,
    transportFor: (peer) => transportOfKind.get(carrierFor(peer)),
    distAutoConnect: config.node.distAutoConnect,
    allow: config.node.allow,
    busyPollMicros: config.node.busyPollMicros,
  });
  // `bridge: true`: the Erlang ⇄ AEMP bridge's processes (docs/bridge.md) run from the start.
  // Which side a node is on follows the routes: the nodes reached over aemp are the AEMP side.
  if (config.bridge === true) container.get<typeof startBridge>(BRIDGE)(node, { isErlang: (peer) => peer !== node.name && carrierFor(peer) !== 'aemp' });
  return { node, transports: transportOfKind, carrierFor };
}

/** Start the services bound under NODE_SERVICE that `config` asks for (the echo services unless `echo: false`). */
export function startServices(node: Node, config: CourierConfig, container: Container = defaultContainer()): string[] {
  const services = container.isBound(NODE_SERVICE) ? container.getAll<NodeService>(NODE_SERVICE) : [];
  const started: string[] = [];
  for (const s of services) {
    if (!s.wanted(config)) continue;
    s.start(node);
    started.push(s.name);
  }
  return started;
}
