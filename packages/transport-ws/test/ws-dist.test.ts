import { readFileSync, rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { Node } from '@courier/core';
import { atom, Tuple } from '@courier/term';
import { hasOpenssl, makeTestCerts, requirePeer } from '@courier/testkit';
import { wsDist } from '@courier/transport-ws';

const openssl = requirePeer('openssl', hasOpenssl(), 'openssl not on PATH (Debian openssl): the wss test makes its certificates with it');

describe('the WebSocket carrier over TLS (wss://)', () => {
  const cleanup: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const c of cleanup.reverse()) await c();
    cleanup.length = 0;
  });

  it('connects over wss with a trusted certificate, carries messages, and refuses an untrusted one', async (ctx) => {
    openssl.require(ctx);
    const certs = makeTestCerts();
    cleanup.push(() => rmSync(certs.dir, { recursive: true, force: true }));
    const gwT = wsDist({ cookie: 'c', listen: { host: '127.0.0.1', tls: { cert: readFileSync(certs.node.cert), key: readFileSync(certs.node.key) } } });
    const gw = await new Node({ name: 'wss_gw@localhost', transports: [gwT] }).start();
    cleanup.push(() => gw.stop());
    expect(gwT.url).toMatch(/^wss:\/\/127\.0\.0\.1:\d+\/courier$/);

    const trusting = await new Node({ name: 'wss_a@localhost', transports: [wsDist({ cookie: 'c', urlFor: () => gwT.url, client: { ca: readFileSync(certs.ca) } })] }).start();
    cleanup.push(() => trusting.stop());
    const got = new Promise((resolve) => gw.spawn(async (self) => resolve(await self.receive()), { name: atom('inbox') }));
    trusting.send({ name: 'inbox', node: 'wss_gw@localhost' }, new Tuple([atom('over'), atom('tls')]));
    expect(await got).toEqual(new Tuple([atom('over'), atom('tls')]));
    expect(gw.dist.session(atom('wss_a@localhost'))?.carrier).toBe('ws');

    // A client that does not trust the gateway's CA never gets to the handshake.
    const wary = await new Node({ name: 'wss_b@localhost', transports: [wsDist({ cookie: 'c', urlFor: () => gwT.url, client: { ca: readFileSync(certs.untrustedCa) } })] }).start();
    cleanup.push(() => wary.stop());
    expect(await wary.connect('wss_gw@localhost')).toBe(false);
  });
});
