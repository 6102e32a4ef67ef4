import { isDeepStrictEqual } from 'node:util';
import { tcpDist, type ErlDistOptions } from '@courier/transport-tcp';
import { loadTlsOptions, tcpTlsDist, tlsDist, type TlsDistOptions } from '@courier/transport-tls';
import { TCP_SECTION, TLS_SECTION } from '../config/carriers.js';
import { ConfigError, type CarrierSection } from '../config/schema.js';
import type { CarrierPlugin, IndexedSection, PluginContext } from '../container.js';

/**
 * The Erlang distribution: `tcp` and `tls` sections (their keys: TCP_SECTION and TLS_SECTION in
 * config/carriers.ts, checked before this runs). With both, one transport serves both on one
 * port and one EPMD name and dials each peer with the carrier the routes choose.
 */
const DIST_KEYS = ['listen', 'epmd', 'peerPort', 'handshakeTimeoutMs', 'maxMessage', 'busyLimit', 'sendByReferenceMin'] as const;

function common(s: IndexedSection): Partial<ErlDistOptions> {
  return Object.fromEntries(DIST_KEYS.filter((k) => s.section[k] !== undefined).map((k) => [k, s.section[k]]));
}

function tlsOptions(s: IndexedSection): TlsDistOptions {
  const o = s.section as CarrierSection & TlsDistOptions & { optfile?: string };
  const given = { ...(o.checkHostname !== undefined && { checkHostname: o.checkHostname }), ...(o.watch !== undefined && { watch: o.watch }) };
  if (o.optfile !== undefined) return { ...loadTlsOptions(o.optfile), ...given };
  return { server: o.server, client: o.client, checkHostname: false, watch: true, ...given };
}

/** The built-in plugin of the carrier kinds `tcp` and `tls` (the Erlang distribution). */
export const erlangPlugin: CarrierPlugin = {
  name: '@courier/cli',
  kinds: ['tcp', 'tls'],
  paths: {
    tls: ['optfile', 'server.certfile', 'server.keyfile', 'server.cacertfile', 'server.crlfile', 'client.certfile', 'client.keyfile', 'client.cacertfile', 'client.crlfile'],
  },
  schemas: { tcp: TCP_SECTION, tls: TLS_SECTION },
  create(sections: readonly IndexedSection[], ctx: PluginContext) {
    const tcp = sections.find((s) => s.section.kind === 'tcp');
    const tls = sections.find((s) => s.section.kind === 'tls');
    for (const k of DIST_KEYS) {
      const [a, b] = [tcp?.section[k], tls?.section[k]];
      if (a !== undefined && b !== undefined && !isDeepStrictEqual(a, b)) {
        throw new ConfigError(
          `carriers[${tls?.index}].${k}`,
          `differs from carriers[${tcp?.index}].${k}: tcp and tls run as one transport (one port, one EPMD name); give ${k} in one of them`,
        );
      }
    }
    const base: ErlDistOptions = {
      ...(tcp ? common(tcp) : {}),
      ...(tls ? common(tls) : {}),
      cookie: ctx.cookie(),
      hidden: ctx.node.hidden,
      netTicktime: ctx.node.netTicktime,
      log: ctx.log,
      layerFor: (peer) => ctx.carrierFor(peer),
    };
    try {
      if (tls === undefined) return tcpDist(base);
      const t = tlsOptions(tls);
      return tcp === undefined ? tlsDist({ ...base, tls: t }) : tcpTlsDist({ ...base, tls: t });
    } catch (err) {
      if (err instanceof ConfigError) throw err;
      throw new ConfigError(`carriers[${(tls ?? tcp)?.index}]`, (err as Error).message);
    }
  },
};
