import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { Node } from '@courier/core';
import { EpmdServer } from '@courier/transport-tcp';
import { tlsDist } from '@courier/transport-tls';
import { hasOpenssl, makeTestCerts, requirePeer, uniqueName } from '@courier/testkit';
import { silentLogger } from '@courier/core';

const openssl = requirePeer('openssl', hasOpenssl(), 'the openssl command is needed to make test certificates');

describe('a TLS client that stops mid-handshake', () => {
  it('is dropped at the set-up deadline (net_setuptime), not after Node’s 120 s', async (ctx) => {
    openssl.require(ctx);
    const certs = makeTestCerts();
    const epmd = new EpmdServer(silentLogger);
    const epmdPort = await epmd.listen(0, '127.0.0.1');
    const t = tlsDist({
      cookie: 'c',
      handshakeTimeoutMs: 400,
      epmd: { host: '127.0.0.1', port: epmdPort, embedded: false },
      listen: { host: '127.0.0.1' },
      tls: { server: { certfile: certs.node.cert, keyfile: certs.node.key, cacertfile: certs.ca }, watch: false },
    });
    const node = new Node({ name: `${uniqueName('tlsdeadline')}@127.0.0.1`, transports: [t] });
    await node.start();
    try {
      const started = Date.now();
      const closedAfter = await new Promise<number>((resolve, reject) => {
        const s = connect({ host: '127.0.0.1', port: t.port as number }, () => {
          // The first bytes of a TLS record header (handshake, TLS 1.0 record version), then nothing.
          s.write(Buffer.from([0x16, 0x03, 0x01, 0x00, 0x40, 0x01]));
        });
        s.on('error', () => undefined);
        s.on('close', () => resolve(Date.now() - started));
        setTimeout(() => reject(new Error('still open after 5 s')), 5000).unref();
      });
      expect(closedAfter).toBeGreaterThanOrEqual(300);
      expect(closedAfter).toBeLessThan(3000);
    } finally {
      await node.stop();
      await epmd.close();
    }
  });
});
