import { ContainerModule } from 'inversify';
import { CARRIER_PLUGIN, ConfigError, shape, type CarrierPlugin, type IndexedSection, type PluginContext } from '@courier/cli';
import type { Transport } from '@courier/core';
import { MemoryNetwork, memoryDist } from '@courier/transport-memory';

/**
 * A third-party carrier plugin, written as a team adopting Courier would write one: an npm
 * package whose default export is an inversify ContainerModule binding one CARRIER_PLUGIN. A
 * configuration swaps it in by naming it:
 *
 * ```yaml
 * plugins: ["@acme/courier-carrier-loopback"]
 * node: { name: a@127.0.0.1, cookie: secret }
 * carriers: [{ kind: loopback, network: lab }]
 * ```
 *
 * The `loopback` carrier is the Erlang distribution (handshake, session) over in-process pipes
 * (@courier/transport-memory): nodes of one process that name the same `network` reach each other.
 */

/** The package's name: what errors and `courier node --check` call this plugin. */
export const PLUGIN_NAME = '@acme/courier-carrier-loopback';

/** The in-process networks by name, shared by every copy of this module in the process. */
const NETWORKS_KEY = Symbol.for('acme.courier.loopback.networks');
const registry = globalThis as { [NETWORKS_KEY]?: Map<string, MemoryNetwork> };
const networks = (registry[NETWORKS_KEY] ??= new Map<string, MemoryNetwork>());

/** The network called `name` (made on first use). */
export function loopbackNetwork(name: string): MemoryNetwork {
  let n = networks.get(name);
  if (n === undefined) networks.set(name, (n = new MemoryNetwork()));
  return n;
}

/** How many transports this plugin has built (a test's proof that the configuration used it). */
export const built = { transports: 0 };

/** The keys a `loopback` section takes (validateConfig refuses others, naming the closest). */
const LOOPBACK_SECTION = shape.obj({ network: shape.str({ nonEmpty: true }), handshakeTimeoutMs: shape.positive() });

export const loopbackPlugin: CarrierPlugin = {
  name: PLUGIN_NAME,
  kinds: ['loopback'],
  schemas: { loopback: LOOPBACK_SECTION },
  create(sections: readonly IndexedSection[], ctx: PluginContext): Transport {
    const [first, second] = sections;
    if (first === undefined) throw new ConfigError('carriers', 'no loopback section');
    if (second !== undefined) throw new ConfigError(`carriers[${second.index}]`, 'one loopback carrier per node');
    const s = first.section as { network?: string; handshakeTimeoutMs?: number };
    built.transports++;
    return memoryDist({
      network: loopbackNetwork(s.network ?? 'default'),
      cookie: ctx.cookie(),
      hidden: ctx.node.hidden,
      netTicktime: ctx.node.netTicktime,
      handshakeTimeoutMs: s.handshakeTimeoutMs,
    });
  },
};

/** The plugin: what `plugins: ["@acme/courier-carrier-loopback"]` loads. */
export default new ContainerModule(({ bind }) => {
  bind<CarrierPlugin>(CARRIER_PLUGIN).toConstantValue(loopbackPlugin);
});
