import { readFileSync } from 'node:fs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { atom } from '@courier/term';
import { recordingLogger } from '@courier/carrier-compliance';
import { makeTestCerts, type TestCerts } from '@courier/testkit';
import type { AempDetails, AempSession, AempTlsOptions } from '@courier/transport-aemp';
import { Nodes, next, puppet, until } from './nodes.js';

const nodes = new Nodes();
afterEach(() => nodes.stopAll());
let certs: TestCerts;
beforeAll(() => {
  certs = makeTestCerts();
});

const tls = (c: { cert: string; key: string }, ca = certs.ca): AempTlsOptions => ({ cert: readFileSync(c.cert), key: readFileSync(c.key), ca: readFileSync(ca) });
const detailsOf = (n: import('@courier/core').Node, peer: string): AempDetails => (n.dist.session(atom(peer)) as unknown as AempSession).details;

describe('AEMP over TLS (tls_sha3_512)', () => {
  for (const framing of ['json', 'cbor'] as const) {
    it(`two nodes with certificates from the network's CA switch to TLS after the greeting (${framing})`, async () => {
      const a = await nodes.make('tls-a', { tls: tls(certs.node), framings: [framing] });
      const b = await nodes.make('tls-b', { tls: tls(certs.other), framings: [framing] });
      const q = puppet(b.node, 'q');
      const p = puppet(a.node);
      p.send('tls-b#q', ['over', 'tls']);
      expect(await next(q)).toEqual(['over', 'tls']);
      q.send(p.pid, 'back');
      expect(await next(p)).toBe('back');
      for (const [n, peer] of [
        [a.node, 'tls-b'],
        [b.node, 'tls-a'],
      ] as const) {
        const d = detailsOf(n, peer);
        expect([d.tls, d.auth, d.untrusted]).toEqual([true, 'tls_sha3_512', false]);
      }
    });
  }

  it('a peer whose certificate does not chain to the CA is refused, logged; the node carries on', async () => {
    const log = recordingLogger();
    const a = await nodes.make('tls-c', { tls: tls(certs.node), handshakeTimeoutMs: 1000 }, log);
    const bad = await nodes.make('tls-bad', { tls: tls(certs.untrusted, certs.untrustedCa), handshakeTimeoutMs: 1000 }, log);
    expect(await bad.node.connect('tls-c')).toBe(false);
    // Whichever side is the TLS server (the nonces decide) finds the other's certificate bad.
    const verified = (r: (typeof log.records)[number]) =>
      r.level === 'warn' && (/^TLS_/.test(String(r.fields['code'])) || /does not verify|certificate/.test(String(r.fields['err'])));
    expect(log.records.some(verified), JSON.stringify(log.records.filter((r) => r.level === 'warn'))).toBe(true);
    const ok = await nodes.make('tls-ok', { tls: tls(certs.other) });
    expect(await ok.node.connect('tls-c')).toBe(true);
    await until(() => a.node.nodes().length > 0, 3000, 'the acceptor attaches the session');
    expect(a.node.nodes().map(String)).toEqual(['tls-ok']);
    expect(detailsOf(a.node, 'tls-ok').tls).toBe(true);
  });

  it('without a certificate on one side, both use hmac_sha3_512 in the clear', async () => {
    const a = await nodes.make('tls-d', { tls: tls(certs.node) });
    await nodes.make('plain-e');
    expect(await a.node.connect('plain-e')).toBe(true);
    const d = detailsOf(a.node, 'plain-e');
    expect([d.tls, d.auth]).toEqual([false, 'hmac_sha3_512']);
  });
});
