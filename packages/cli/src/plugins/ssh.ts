import { parseHostPort, sshRpc, type SshTransportOptions } from '@courier/transport-ssh';
import { SSH_SECTION } from '../config/carriers.js';
import { ConfigError } from '../config/schema.js';
import type { CarrierPlugin, IndexedSection, PluginContext } from '../container.js';

/**
 * The SSH carrier: `{ kind: ssh, hostKey, authorizedKeys: { sshrpc: FILE, dist: FILE } | FILE,
 * bind: "host:port" (default loopback), knownHosts?, trustUnknown?, peers?: { node: "host:port" },
 * peerPort?, sshrpc?: false | { modules, names } }` (SSH_SECTION in config/carriers.ts). See
 * @courier/transport-ssh: keys are the node's credentials (no cookie), one file per role; a single
 * file grants sshrpc only.
 */
export const sshPlugin: CarrierPlugin = {
  name: '@courier/cli',
  kinds: ['ssh'],
  paths: { ssh: ['hostKey', 'authorizedKeys', 'authorizedKeys.sshrpc', 'authorizedKeys.dist', 'knownHosts'] },
  schemas: { ssh: SSH_SECTION },
  create(sections: readonly IndexedSection[], ctx: PluginContext) {
    if (sections.length > 1) throw new ConfigError(`carriers[${(sections[1] as IndexedSection).index}]`, 'one ssh carrier per node');
    const { index, section: o } = sections[0] as IndexedSection;
    const f = (k: string) => `carriers[${index}].${k}`;
    if (typeof o['hostKey'] !== 'string') throw new ConfigError(f('hostKey'), 'missing: a file path');
    const ak = o['authorizedKeys'];
    if (typeof ak !== 'string' && (typeof ak !== 'object' || ak === null)) throw new ConfigError(f('authorizedKeys'), 'missing: a mapping { sshrpc: FILE, dist: FILE }');
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
        hostKey: o['hostKey'],
        authorizedKeys: ak,
        knownHosts: typeof o['knownHosts'] === 'string' ? o['knownHosts'] : undefined,
        trustUnknown: o['trustUnknown'] === true,
        sshrpc: o['sshrpc'] as SshTransportOptions['sshrpc'],
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
