import type { Atom } from '@courier/term';
import { ResolveError, UsageError, type Resolver } from '@courier/core';
import { portPlease, type EpmdAddress } from './client.js';

/** Where a peer's distribution listens: a host and a port. */
export interface DistAddress {
  readonly host: string;
  readonly port: number;
}

/** Split `alive@host`. */
export function splitNodeName(n: Atom): { alive: string; host: string } {
  const i = n.name.indexOf('@');
  if (i <= 0 || i === n.name.length - 1) throw new ResolveError('BAD_NODE_NAME', `${n.name} is not a node name of the form alive@host`);
  return { alive: n.name.slice(0, i), host: n.name.slice(i + 1) };
}

/**
 * Resolves `alive@host` by asking the EPMD on `host` (PORT_PLEASE2_REQ), as erl_epmd does; the
 * EPMD's port is the same on every host (ERL_EPMD_PORT or 4369); `epmdAddress(host)` says where
 * to ask for a peer on `host`.
 */
export function epmdResolver(epmdAddress: (peerHost: string) => EpmdAddress): Resolver<DistAddress> {
  return {
    async resolve(peer, signal) {
      const { alive, host } = splitNodeName(peer);
      const e = await portPlease(epmdAddress(host), alive, signal);
      if (e === undefined) throw new ResolveError('NOT_REGISTERED', `${peer.name} is not registered in EPMD on ${host}`);
      if (e.highest < 6) throw new ResolveError('OLD_VERSION', `${peer.name} speaks distribution version ${e.highest}; Courier needs 6 (OTP 23+)`);
      return [{ host, port: e.port }];
    },
  };
}

/** EPMD-less (OTP's `-erl_epmd_port P -start_epmd false`): every peer listens on `port` of its host. */
export function fixedPortResolver(port: () => number | undefined): Resolver<DistAddress> {
  return {
    resolve(peer) {
      const p = port();
      if (p === undefined) return Promise.reject(new UsageError('NO_PORT', `no port is known for ${peer.name}: set peerPort`));
      return Promise.resolve([{ host: splitNodeName(peer).host, port: p }]);
    },
  };
}
