/**
 * The Erlang distribution over TLS, compatible with OTP inet_tls_dist (mutual authentication, ssl_dist_optfile-style options, reload).
 *
 * @packageDocumentation
 * @module @courier/transport-tls
 */
import { ErlDistTransport, tcpLayer, type DistLayer, type ErlDistOptions } from '@courier/transport-tcp';
import { TlsLayer } from './tls-layer.js';
import type { TlsDistOptions } from './options.js';

export { TlsLayer } from './tls-layer.js';
export { loadTlsOptions, fromErlang, resolveSide, type TlsDistOptions, type TlsSideOptions, type TlsVersion, type Verify } from './options.js';

/** The Erlang distribution over TLS only, as `-proto_dist inet_tls`: plain TCP peers are refused. */
export function tlsDist(o: ErlDistOptions & { readonly tls: TlsDistOptions }): ErlDistTransport & { readonly tls: TlsLayer } {
  const layer = new TlsLayer(o.tls);
  return Object.assign(new ErlDistTransport(o, layer), { tls: layer });
}

/**
 * TCP and TLS on one port (the first byte of a connection tells them apart) and one EPMD name:
 * `layerFor(peer)` picks the carrier for outgoing connections (e.g. a name pattern), `tcp` by default.
 */
export function tcpTlsDist(o: ErlDistOptions & { readonly tls: TlsDistOptions }): ErlDistTransport & { readonly tls: TlsLayer } {
  const layer = new TlsLayer(o.tls);
  const layers: DistLayer[] = [tcpLayer, layer];
  return Object.assign(new ErlDistTransport(o, layers), { tls: layer });
}
