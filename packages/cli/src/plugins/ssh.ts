import { parseHostPort, sshRpc } from '@courier/transport-ssh';
import { SSH_SECTION } from '../config/carriers.js';
import { ConfigError } from '../config/schema.js';
import type { CarrierPlugin, IndexedSection, PluginContext } from '../container.js';

/**
 * The SSH carrier: `{ kind: ssh, hostKey, authorizedKeys, bind: "host:port", knownHosts?,
 * peers?: { node: "host:port" }, peerPort? }` (SSH_SECTION in config/carriers.ts). See
 * @courier/transport-ssh: keys are the node's credentials (no cookie).
 */
export const sshPlugin: CarrierPlugin = {
  kinds: ['ssh'],
  schemas: { ssh: SSH_SECTION },
  create(sections: readonly IndexedSection[], ctx: PluginContext) {
    if (sections.length > 1) throw new ConfigError(`carriers[${(sections[1] as IndexedSection).index}]`, 'one ssh carrier per node');
    const { index, section: o } = sections[0] as IndexedSection;
    const f = (k: string) => `carriers[${index}].${k}`;
    for (const k of ['hostKey', 'authorizedKeys'] as const) {
      if (typeof o[k] !== 'string') throw new ConfigError(f(k), 'missing: a file path');
    }
    let listen: { host: string; port: number } | undefined;
    if (o['bind'] !== undefined) {
      if (typeof o['bind'] !== 'string') throw new ConfigError(f('bind'), 'must be "host:port"');
      try {
        listen = parseHostPort(o['bind'], f('bind'));
      } catch (err) {
        throw new ConfigError(f('bind'), (err as Error).message);
      }
    }
    const peerPort = typeof o['peerPort'] === 'number' ? o['peerPort'] : listen?.port;
    try {
      return sshRpc({
        hostKey: o['hostKey'] as string,
        authorizedKeys: o['authorizedKeys'] as string,
        knownHosts: typeof o['knownHosts'] === 'string' ? o['knownHosts'] : undefined,
        listen,
        peers: (o['peers'] as Record<string, string> | undefined) ?? undefined,
        peerPort,
        hidden: ctx.node.hidden,
        netTicktime: ctx.node.netTicktime,
        log: ctx.log,
      });
    } catch (err) {
      throw new ConfigError(`carriers[${index}]`, (err as Error).message);
    }
  },
};
