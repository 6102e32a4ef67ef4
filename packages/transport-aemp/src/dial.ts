import { connect, createServer, type Server, type Socket } from 'node:net';
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

/** Listen on `address`; resolves with the server and the address it really has (port 0 → the one chosen). */
export function listenTcp(address: string, onSocket: (s: Socket) => void): Promise<{ server: Server; address: string }> {
  const { host, port } = parseHostPort(address);
  return new Promise((resolve, reject) => {
    const server = createServer({ noDelay: true }, onSocket);
    server.once('error', (err) => reject(new CarrierError('LISTEN_FAILED', `cannot listen on ${address}: ${err.message}`, { cause: err })));
    server.listen(port, host, () => {
      const a = server.address();
      const real = typeof a === 'object' && a !== null ? a.port : port;
      resolve({ server, address: formatHostPort(host === '0.0.0.0' ? '127.0.0.1' : host, real) });
    });
  });
}
