import { connect, createServer, isIP, type Server, type Socket } from 'node:net';
import { networkInterfaces } from 'node:os';
import { lookup } from 'node:dns/promises';
import { CarrierError, UsageError } from '@courier/core';
import { TcpCarrier } from '@courier/stream';

/** `host:port` (IPv6 as `[::1]:4040`; Perl's binds and seeds use this form). */
export function parseHostPort(s: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+|\*)$/.exec(s.trim());
  if (m === null) throw new UsageError('BAD_ADDRESS', `an AEMP address is host:port, not ${JSON.stringify(s)}`);
  const host = m[1] ?? m[2] ?? '';
  return { host: host === '*' || host === '' ? '0.0.0.0' : host, port: m[3] === '*' ? 0 : Number(m[3]) };
}

export function formatHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** A TCP connection to `address` as a carrier, within `timeoutMs`. */
export function dialTcp(address: string, timeoutMs: number, signal?: AbortSignal): Promise<TcpCarrier> {
  const { host, port } = parseHostPort(address);
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new CarrierError('ABORTED', `the dial to ${address} was aborted`));
    const socket: Socket = connect({ host, port });
    const done = (err?: Error): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      socket.off('error', onError);
      if (err === undefined) return resolve(new TcpCarrier(socket, 'aemp'));
      socket.destroy();
      reject(err);
    };
    const onError = (err: Error): void => done(new CarrierError('CONNECT_FAILED', `cannot connect to ${address}: ${err.message}`, { cause: err }));
    const onAbort = (): void => done(new CarrierError('ABORTED', `the dial to ${address} was aborted`));
    const timer = setTimeout(() => done(new CarrierError('CONNECT_TIMEOUT', `no TCP connection to ${address} within ${timeoutMs} ms`)), timeoutMs);
    socket.once('connect', () => done());
    socket.once('error', onError);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Listen on `address`; resolves with the server and the addresses it is reached at (port 0 → the
 * one chosen). A wildcard bind (`*`, `0.0.0.0`, `::`, empty host) publishes the host's interface
 * addresses as Perl does for `*` (Kernel.pm `_resolve`: IPv4 except 127/8, IPv6 global and
 * unique-local unicast only, and only for a `::` bind, which takes both); on a host with
 * loopback alone, `127.0.0.1`.
 */
export function listenTcp(address: string, onSocket: (s: Socket) => void): Promise<{ server: Server; address: string; addresses: string[] }> {
  const { host, port } = parseHostPort(address);
  return new Promise((resolve, reject) => {
    const server = createServer({ noDelay: true }, onSocket);
    server.once('error', (err) => reject(new CarrierError('LISTEN_FAILED', `cannot listen on ${address}: ${err.message}`, { cause: err })));
    server.listen(port, host, () => {
      const a = server.address();
      const real = typeof a === 'object' && a !== null ? a.port : port;
      const hosts = isWildcard(host) ? interfaceAddresses(host === '::') : [host];
      const addresses = (hosts.length > 0 ? hosts : ['127.0.0.1']).map((h) => formatHostPort(h, real));
      resolve({ server, address: addresses[0] as string, addresses });
    });
  });
}

export function isWildcard(host: string): boolean {
  return host === '0.0.0.0' || host === '::' || host === '*' || host === '';
}

/** The host's addresses others can reach, as Perl's `*` bind lists them: IPv4 first, then IPv6. */
export function interfaceAddresses(withV6 = true): string[] {
  const v4: string[] = [];
  const v6: string[] = [];
  for (const list of Object.values(networkInterfaces())) {
    for (const i of list ?? []) {
      if (i.family === 'IPv4' && !i.address.startsWith('127.')) v4.push(i.address);
      // Global unicast 2000::/3 and unique local fc00::/7 (Perl: first byte 0x20-0x3f, 0xfc, 0xfd).
      if (withV6 && i.family === 'IPv6' && /^(?:[23][0-9a-f]{0,3}|f[cd][0-9a-f]{0,2}):/i.test(i.address)) v6.push(i.address);
    }
  }
  return [...new Set(v4), ...new Set(v6)];
}

/** Whether `host` (an IP address) names this machine: loopback, a wildcard, or an interface address. */
export function isOwnAddress(host: string): boolean {
  if (isWildcard(host) || host.startsWith('127.') || host === '::1') return true;
  if (isIP(host) === 0) return false;
  for (const list of Object.values(networkInterfaces())) for (const i of list ?? []) if (i.address === host) return true;
  return false;
}

/**
 * Whether the seed `seed` (`host:port`, the host a name or an address) is this node: one of its
 * addresses, with the port of one of our listeners bound there (a wildcard bind: any address of
 * this host), or one of the addresses we publish. A name that does not resolve is not us.
 */
export async function isOwnSeed(seed: string, bound: ReadonlyArray<{ host: string; port: number }>, published: readonly string[]): Promise<boolean> {
  let target: { host: string; port: number };
  try {
    target = parseHostPort(seed);
  } catch {
    return false;
  }
  const ips =
    isIP(target.host) !== 0
      ? [target.host]
      : await lookup(target.host, { all: true }).then(
          (r) => r.map((a) => a.address),
          () => [],
        );
  return ips.some(
    (ip) => published.includes(formatHostPort(ip, target.port)) || bound.some((b) => b.port === target.port && (b.host === ip || (isWildcard(b.host) && isOwnAddress(ip)))),
  );
}
