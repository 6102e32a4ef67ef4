import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { Container } from 'inversify';
import { atom, type Atom } from '@courier/term';
import { Node, silentLogger, type Logger, type Transport } from '@courier/core';
import { ConfigError, globToRegExp, validateConfig, type CarrierSection, type CourierConfig, type NodeSection } from './config/schema.js';
import type { ObjectSchema } from './config/shape.js';
import { erlangPlugin } from './plugins/erlang.js';
import { sshPlugin } from './plugins/ssh.js';
import { aempPlugin } from './plugins/aemp.js';
import { startBridge } from './bridge.js';

/**
 * The composition root. Carrier plugins are bound in an inversify container under
 * CARRIER_PLUGIN, without decorators: library classes stay plain and the container only says
 * which plugins exist. `buildNode` turns a configuration into a Node whose transports come from
 * the plugins named by the carrier sections. A third-party carrier is one more binding:
 *
 * ```ts
 * const c = defaultContainer();
 * c.bind(CARRIER_PLUGIN).toConstantValue(myPlugin);   // kinds: ['quic'], schemas: { quic: obj({...}) }
 * const config = validateConfig(raw, file, { plugins: c.getAll(CARRIER_PLUGIN) });
 * const node = buildNode(config, { container: c });
 * ```
 */
export const CARRIER_PLUGIN = Symbol.for('courier.carrierPlugin');

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

export interface CarrierPlugin {
  /** The carrier kinds this plugin builds (one transport for all of its sections). */
  readonly kinds: readonly string[];
  /**
   * The schema of each kind's section (config/shape.ts; the built-in ones are in
   * config/carriers.ts): validateConfig refuses a key it does not list. A plugin without one
   * gets its sections unchecked beyond `kind`, and checks them itself in `create`.
   */
  readonly schemas?: Readonly<Record<string, ObjectSchema>>;
  create(sections: readonly IndexedSection[], ctx: PluginContext): Transport;
}

export function defaultContainer(): Container {
  const c = new Container();
  c.bind<CarrierPlugin>(CARRIER_PLUGIN).toConstantValue(erlangPlugin);
  c.bind<CarrierPlugin>(CARRIER_PLUGIN).toConstantValue(sshPlugin);
  c.bind<CarrierPlugin>(CARRIER_PLUGIN).toConstantValue(aempPlugin);
  return c;
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
    throw new ConfigError('node.cookie', 'no cookie: set node.cookie, node.cookieFile, COURIER_COOKIE or ~/.erlang.cookie');
  }
}

export function buildNode(config: CourierConfig, opts: { container?: Container; log?: Logger } = {}): Node {
  return buildNodeParts(config, opts).node;
}

/** A built node and its transports by carrier kind (e.g. the `aemp` transport, for its registry). */
export interface BuiltNode {
  readonly node: Node;
  readonly transports: ReadonlyMap<string, Transport>;
}

export function buildNodeParts(config: CourierConfig, opts: { container?: Container; log?: Logger } = {}): BuiltNode {
  const container = opts.container ?? defaultContainer();
  const plugins = container.getAll<CarrierPlugin>(CARRIER_PLUGIN);
  // A configuration built in code is held to the same schema as one read from a file.
  validateConfig(config, undefined, { plugins });
  const log = opts.log ?? silentLogger;
  const routes = (config.routes ?? []).map((r) => ({ re: globToRegExp(r.match), carrier: r.carrier }));
  const firstKind = (config.carriers[0] as CarrierSection).kind;
  // AEMP node ids need no `@`; Erlang node names always have one: without a route, such peers go to aemp.
  const aempKind = config.carriers.some((c) => c.kind === 'aemp') ? 'aemp' : undefined;
  const carrierFor = (peer: Atom): string => routes.find((r) => r.re.test(peer.name))?.carrier ?? (aempKind !== undefined && !peer.name.includes('@') ? aempKind : firstKind);
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
  });
  // `bridge: true`: the Erlang ⇄ AEMP bridge's processes (docs/bridge.md) run from the start.
  // Which side a node is on follows the routes: the nodes reached over aemp are the AEMP side.
  if (config.bridge === true) startBridge(node, { isErlang: (peer) => peer !== node.name && carrierFor(peer) !== 'aemp' });
  return { node, transports: transportOfKind };
}
