import { describe, expect, it } from 'vitest';
import { atom } from '@courier/term';
import type { HandshakeAction, HandshakeError, HandshakeResult } from '@courier/core';
import { AempHandshake, authMessage, sha3512Hex, type AempDetails } from '@courier/transport-aemp';

const text = (a: HandshakeAction | undefined): string => (a?.type === 'write' ? Buffer.from(a.bytes).toString() : '');

function tlsHs(nonce: string, o: { allowTlsAnon?: boolean } = {}): AempHandshake {
  return new AempHandshake({ role: 'initiator', self: atom('c-node'), secret: 's', framings: ['json'], tls: true, nonce: () => nonce, ...o });
}

const PERL1 = 'aemp;1;perl;tls_sha3_512,hmac_sha3_512,tls_anon,cleartext;cbor,json,storable;tls=1.0;provider=AE-2.01';

describe('AempHandshake under TLS (Transport.pm:147-157, 262-273)', () => {
  it('announces tls=1.0 and the tls methods; upgrades after the greeting, the smaller nonce being the client', () => {
    const h = tlsHs('AAAA');
    expect(text(h.start()[0])).toBe('aemp;1;c-node;tls_sha3_512,hmac_sha3_512;json;tls=1.0;courier=1\nAAAA\n');
    const acts = h.receive(Buffer.from(`${PERL1}\nBBBB\n\u0016\u0003\u0001`));
    expect(acts).toHaveLength(1);
    const up = acts[0] as { type: string; how: string; rest: Uint8Array };
    expect([up.type, up.how, Buffer.from(up.rest).toString()]).toEqual(['upgrade', 'tls-client', '\u0016\u0003\u0001']);
    const server = tlsHs('CCCC');
    server.start();
    expect((server.receive(Buffer.from(`${PERL1}\nBBBB\n`))[0] as { how: string }).how).toBe('tls-server');
  });

  it('after the upgrade sends tls_sha3_512 (own lines first) and checks the peer the same way', () => {
    const h = tlsHs('AAAA');
    const own1 = text(h.start()[0]).split('\n')[0] as string;
    h.receive(Buffer.from(`${PERL1}\nBBBB\n`));
    const line = text(h.upgraded()[0]);
    expect(line).toBe(`tls_sha3_512;${sha3512Hex(authMessage(own1, 'AAAA', PERL1, 'BBBB'))};json\n`);
    const peerAuth = sha3512Hex(authMessage(PERL1, 'BBBB', own1, 'AAAA'));
    const done = h.receive(Buffer.from(`tls_sha3_512;${peerAuth};json\n`)).find((a) => a.type === 'done') as { result: HandshakeResult };
    const d = done.result.details as unknown as AempDetails;
    expect([d.tls, d.auth, d.recvFraming, d.untrusted]).toEqual([true, 'tls_sha3_512', 'json', false]);
  });

  it('refuses tls_sha3_512 outside TLS, and tls_anon unless allowed', () => {
    const clear = new AempHandshake({ role: 'initiator', self: atom('c-node'), secret: 's', framings: ['json'] });
    clear.start();
    const f = clear.receive(Buffer.from('aemp;1;perl;hmac_sha3_512;json\nn\ntls_sha3_512;00;json\n')).find((a) => a.type === 'fail') as { error: HandshakeError };
    expect(f.error.code).toBe('NOT_ALLOWED');
    for (const allowTlsAnon of [false, true]) {
      const h = tlsHs('AAAA', { allowTlsAnon });
      h.start();
      h.receive(Buffer.from(`${PERL1}\nBBBB\n`));
      h.upgraded();
      const out = h.receive(Buffer.from('tls_anon;;json\n'));
      if (allowTlsAnon) expect(((out.find((a) => a.type === 'done') as { result: HandshakeResult }).result.details as unknown as AempDetails).untrusted).toBe(true);
      else expect((out.find((a) => a.type === 'fail') as { error: HandshakeError }).error.code).toBe('NOT_ALLOWED');
    }
  });
});
