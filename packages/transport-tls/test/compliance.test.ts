import { readFileSync } from 'node:fs';
import tls from 'node:tls';
import { describe, it } from 'vitest';
import { carrierComplianceSuite } from '@courier/carrier-compliance';
import { TcpCarrier } from '@courier/stream';
import { TlsLayer } from '@courier/transport-tls';
import { hasOpenssl, makeTestCerts, requirePeer } from '@courier/testkit';
import { distHarness, socketPair } from '../../transport-tcp/test/dist-harness.js';

const openssl = requirePeer('openssl', hasOpenssl(), 'the openssl command is needed to make test certificates');

if (openssl.available) {
  const certs = makeTestCerts();
  const opts = { server: { certfile: certs.node.cert, keyfile: certs.node.key, cacertfile: certs.ca }, watch: false };
  const ctx = () => ({ cert: readFileSync(certs.node.cert), key: readFileSync(certs.node.key), ca: readFileSync(certs.ca) });
  /** Two carriers over a real TLS connection (mutual authentication). */
  const tlsPair = async () => {
    const [a, b] = await socketPair();
    const server = new tls.TLSSocket(b, { isServer: true, ...ctx(), requestCert: true, rejectUnauthorized: true });
    const client = tls.connect({ socket: a, ...ctx(), servername: 'localhost' });
    await new Promise<void>((resolve, reject) => {
      client.once('secureConnect', () => resolve());
      client.once('error', reject);
    });
    return [new TcpCarrier(client, 'tls'), new TcpCarrier(server, 'tls')] as const;
  };
  carrierComplianceSuite('tls (Erlang distribution over TLS)', distHarness({ layer: () => new TlsLayer(opts), carrierPair: tlsPair }));
} else {
  describe('carrier compliance: tls', () => {
    it('needs openssl', (ctx) => openssl.require(ctx));
  });
}
