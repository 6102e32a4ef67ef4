import { tcpDist, type ErlDistOptions } from '@courier/transport-tcp';
import { loadTlsOptions, tcpTlsDist, tlsDist, type TlsDistOptions } from '@courier/transport-tls';
import { ConfigError } from '../config/schema.js';
import type { CarrierPlugin, IndexedSection, PluginContext } from '../container.js';

/**
 * The Erlang distribution: `tcp` and `tls` sections. With both, one transport serves both on one
 * port and one EPMD name and dials each peer with the carrier the routes choose.
 *
 * tcp: { listen: { host, port }, epmd: false | { host, port, embedded }, peerPort, handshakeTimeoutMs, maxMessage, busyLimit }
 * tls: the same, plus { optfile } or { server: {...}, client: {...}, checkHostname, watch } as @courier/transport-tls
 */
const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

function common(s: IndexedSection): Partial<ErlDistOptions> {
  const f = (k: string) => `carriers[${s.index}].${k}`;
  const o = s.section;
  const out: Record<string, unknown> = {};
  if (o['listen'] !== undefined) {
    if (!isObj(o['listen'])) throw new ConfigError(f('listen'), 'must be { host?, port? }');
    const port = o['listen']['port'];
    if (port !== undefined && !(Number.isInteger(port) && (port as number) >= 0 && (port as number) < 65536)) throw new ConfigError(f('listen.port'), 'must be a port number');
    out['listen'] = o['listen'];
  }
  if (o['epmd'] !== undefined) {
    if (o['epmd'] !== false && !isObj(o['epmd'])) throw new ConfigError(f('epmd'), 'must be false (EPMD-less) or { host?, port?, embedded? }');
    out['epmd'] = o['epmd'];
  }
  for (const k of ['peerPort', 'handshakeTimeoutMs', 'maxMessage', 'busyLimit'] as const) {
    if (o[k] !== undefined) {
      if (!(typeof o[k] === 'number' && o[k] > 0)) throw new ConfigError(f(k), 'must be a positive number');
      out[k] = o[k];
    }
  }
  return out;
}

function tlsOptions(s: IndexedSection): TlsDistOptions {
  const o = s.section;
  if (typeof o['optfile'] === 'string') return loadTlsOptions(o['optfile']);
  if (!isObj(o['server']))
    throw new ConfigError(`carriers[${s.index}].server`, 'missing: give server.certfile and server.keyfile (and server.cacertfile to verify peers), or optfile');
  return { server: o['server'], client: isObj(o['client']) ? o['client'] : undefined, checkHostname: o['checkHostname'] === true, watch: o['watch'] !== false };
}

export const erlangPlugin: CarrierPlugin = {
  kinds: ['tcp', 'tls'],
  create(sections: readonly IndexedSection[], ctx: PluginContext) {
    const tcp = sections.find((s) => s.section.kind === 'tcp');
    const tls = sections.find((s) => s.section.kind === 'tls');
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
