import { ContainerModule } from 'inversify';
import type { Atom } from '@courier/term';
import type { Node } from '@courier/core';
import { observe } from '@courier/observer';
import { startBridge } from './bridge.js';
import { startCluster } from './cluster.js';
import { globToRegExp, type CourierConfig } from './config/schema.js';
import type { CarrierPlugin } from './container.js';
import { aempPlugin } from './plugins/aemp.js';
import { erlangPlugin } from './plugins/erlang.js';
import { sshPlugin } from './plugins/ssh.js';
import { startEcho } from './services/echo.js';

/**
 * The service identifiers of the composition root and the built-in container modules that bind
 * them. Symbol.for keys: a plugin with its own copy of this package binds the same identifiers.
 */

/** Carrier plugins (multi-bound: one binding per plugin; each claims its carrier kinds). */
export const CARRIER_PLUGIN = Symbol.for('courier.carrierPlugin');
/** Resolver of routes: a configuration → which carrier kind reaches a peer. */
export const CARRIER_ROUTER = Symbol.for('courier.carrierRouter');
/** Resolver of peers: starts cluster formation from the `cluster` section (@courier/discovery). */
export const CLUSTER_FORMATION = Symbol.for('courier.clusterFormation');
/** The live web observer and /metrics (@courier/observer `observe`). */
export const OBSERVER = Symbol.for('courier.observer');
/** The Erlang ⇄ AEMP bridge (`startBridge`), started by buildNode with `bridge: true`. */
export const BRIDGE = Symbol.for('courier.bridge');
/** Services a node runs once built (multi-bound): the echo services by default. */
export const NODE_SERVICE = Symbol.for('courier.nodeService');

/** Given a configuration, which carrier kind reaches a peer. */
export type CarrierRouter = (config: CourierConfig) => (peer: Atom) => string;

/** A service a node runs once built (bound under NODE_SERVICE), such as the echo services. */
export interface NodeService {
  readonly name: string;
  /** Whether `config` asks for it. */
  wanted(config: CourierConfig): boolean;
  /** Start it on `node`. */
  start(node: Node): void;
}

/** Routes first (first match), then AEMP ids (no `@`) to an aemp carrier, then the first carrier. */
export const routeByConfig: CarrierRouter = (config) => {
  const routes = (config.routes ?? []).map((r) => ({ re: globToRegExp(r.match), carrier: r.carrier }));
  const firstKind = config.carriers[0]?.kind ?? 'tcp';
  // AEMP node ids need no `@`; Erlang node names always have one: without a route, such peers go to aemp.
  const aempKind = config.carriers.some((c) => c.kind === 'aemp') ? 'aemp' : undefined;
  return (peer) => routes.find((r) => r.re.test(peer.name))?.carrier ?? (aempKind !== undefined && !peer.name.includes('@') ? aempKind : firstKind);
};

/** The built-in carriers: tcp and tls (one Erlang distribution transport), ssh, aemp. */
export const carriersModule = (): ContainerModule =>
  new ContainerModule(({ bind }) => {
    for (const p of [erlangPlugin, sshPlugin, aempPlugin]) bind<CarrierPlugin>(CARRIER_PLUGIN).toConstantValue(p);
  });

/** Where peers are: the routes (CARRIER_ROUTER) and cluster formation (CLUSTER_FORMATION). */
export const resolversModule = (): ContainerModule =>
  new ContainerModule(({ bind }) => {
    bind<CarrierRouter>(CARRIER_ROUTER).toConstantValue(routeByConfig);
    bind<typeof startCluster>(CLUSTER_FORMATION).toConstantValue(startCluster);
  });

/** The observer: OBSERVER is @courier/observer's `observe`, started by `courier node --observer`. */
export const observerModule = (): ContainerModule =>
  new ContainerModule(({ bind }) => {
    bind<typeof observe>(OBSERVER).toConstantValue(observe);
  });

/** The Erlang ⇄ AEMP bridge: BRIDGE is `startBridge`, started by buildNode with `bridge: true`. */
export const bridgeModule = (): ContainerModule =>
  new ContainerModule(({ bind }) => {
    bind<typeof startBridge>(BRIDGE).toConstantValue(startBridge);
  });

/** The echo services (`echo` process, `courier_echo` module), unless the configuration says `echo: false`. */
export const servicesModule = (): ContainerModule =>
  new ContainerModule(({ bind }) => {
    bind<NodeService>(NODE_SERVICE).toConstantValue({ name: 'echo', wanted: (c) => c.echo !== false, start: (node) => void startEcho(node) });
  });

/** Every built-in module, in the order defaultContainer loads them. */
export const builtinModules = (): ContainerModule[] => [carriersModule(), resolversModule(), observerModule(), bridgeModule(), servicesModule()];
