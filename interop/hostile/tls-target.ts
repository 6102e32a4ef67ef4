import { readFileSync } from 'node:fs';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { sslDistOptfile, type TestCerts } from '@courier/testkit';
import { HostileTarget } from './hostile-target.js';

/**
 * The target of the TLS hostile-input suite: the echo node on `--carrier tls` (inet_tls_dist:
 * TLS only, mutual verification against a test CA), and a real `erl` started with
 * `-proto_dist inet_tls` and an ssl_dist_optfile keeping 100 echo round trips in flight over TLS.
 */
export function startTlsTarget(certs: TestCerts): Promise<HostileTarget> {
  const optfile = sslDistOptfile(certs.dir, 'hostile-window', { cert: certs.other.cert, key: certs.other.key, ca: certs.ca });
  return HostileTarget.start({
    args: ['--carrier', 'tls', '--tls-cert', certs.node.cert, '--tls-key', certs.node.key, '--tls-cacert', certs.ca, '--tls-verify', 'verify_peer'],
    erlArgs: ['-proto_dist', 'inet_tls', '-ssl_dist_optfile', optfile],
  });
}

/**
 * A TLS client for `exchange({ connect })`: it presents `id` (none: no certificate), trusts `ca`
 * (the node's certificate names 127.0.0.1), and speaks the TLS versions given.
 */
export function tlsClient(ca: string, id?: { cert: string; key: string }, o: { maxVersion?: 'TLSv1.2' | 'TLSv1.3' } = {}): (port: number) => Socket {
  const files = { ca: readFileSync(ca), cert: id && readFileSync(id.cert), key: id && readFileSync(id.key) };
  return (port) => tlsConnect({ host: '127.0.0.1', port, ...files, maxVersion: o.maxVersion });
}

/**
 * A TCP relay to 127.0.0.1:`port` that holds back what the client sends after its first chunk
 * for `holdMs` (what the node sends passes at once): a TLS client through it finishes its
 * handshake only after `holdMs`. Returns the relay's port.
 */
export async function slowRelay(port: number, holdMs: number): Promise<{ port: number; close(): void }> {
  const server = createServer((client) => {
    const node = connect({ port, host: '127.0.0.1' });
    let first = true;
    const closeBoth = (): void => {
      client.destroy();
      node.destroy();
    };
    client.on('data', (c: Buffer) => {
      if (first) {
        first = false;
        node.write(c);
      } else setTimeout(() => node.writable && node.write(c), holdMs);
    });
    node.on('data', (c: Buffer) => client.write(c));
    for (const s of [client, node]) {
      s.on('error', closeBoth);
      s.on('close', closeBoth);
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as AddressInfo).port, close: () => server.close() };
}
