import { describe, expect, it } from 'vitest';
import { atom } from '@courier/term';
import type { HandshakeAction, HandshakeResult } from '@courier/core';
import {
  AempHandshake,
  PacketReader,
  PacketWriter,
  authData,
  authMessage,
  cleartextHex,
  hmacSha3512Hex,
  parseGreeting,
  type AempDetails,
  type Framing,
} from '@courier/transport-aemp';
import { afterHandshake, plain, vector } from '../vectors.js';

const NAMES = ['perl_perl_json', 'perl_perl_cbor', 'probe_perl_json'] as const;

describe('captured Perl 2.02 handshakes, byte for byte', () => {
  for (const name of NAMES) {
    const v = vector(name);
    it(`${name}: both auth lines are HMAC-SHA3-512 over own lines then the peer's`, () => {
      const { client: c, server: s } = v;
      const cMsg = authMessage(c.greeting1, c.greeting2_nonce, s.greeting1, s.greeting2_nonce);
      const sMsg = authMessage(s.greeting1, s.greeting2_nonce, c.greeting1, c.greeting2_nonce);
      expect(`hmac_sha3_512;${authData('hmac_sha3_512', v.secret, cMsg)};${v.client_sends_framing}`).toBe(c.auth_line);
      expect(`hmac_sha3_512;${authData('hmac_sha3_512', v.secret, sMsg)};${v.server_sends_framing}`).toBe(s.auth_line);
      // And the raw streams carry exactly these lines.
      expect(Buffer.from(v.client_to_server_raw_hex, 'hex').toString('latin1').startsWith(`${c.greeting1}\n${c.greeting2_nonce}\n${c.auth_line}\n`)).toBe(true);
      expect(Buffer.from(v.server_to_client_raw_hex, 'hex').toString('latin1').startsWith(`${s.greeting1}\n${s.greeting2_nonce}\n${s.auth_line}\n`)).toBe(true);
    });

    it(`${name}: each side sends the first framing of the peer's list it speaks`, () => {
      const c = parseGreeting(v.client.greeting1);
      const s = parseGreeting(v.server.greeting1);
      // A Perl node speaks the framings it announces (framing_format).
      expect(s?.framings.find((f) => c?.framings.includes(f))).toBe(v.client_sends_framing);
      expect(c?.framings.find((f) => s?.framings.includes(f))).toBe(v.server_sends_framing);
    });

    it(`${name}: the packets Perl wrote decode to what it meant, split across the stream as sent`, () => {
      for (const [dir, packets, framing] of [
        ['client_to_server_raw_hex', v.client_to_server_packets, v.client_sends_framing],
        ['server_to_client_raw_hex', v.server_to_client_packets, v.server_sends_framing],
      ] as const) {
        const reader = new PacketReader(framing as Framing, 'perl', 1 << 20);
        const stream = afterHandshake(v[dir]);
        for (let i = 0; i < stream.length; i += 5) reader.push(stream.subarray(i, i + 5));
        const got: unknown[] = [];
        for (let p = reader.next(); p !== undefined; p = reader.next()) got.push(p);
        expect(got).toEqual(packets.map((p) => plain(p.decoded)));
      }
    });

    it(`${name}: the packets re-encode as ${v.client_sends_framing === 'json' ? 'Perl wrote them' : 'CBOR that decodes to them'}`, () => {
      for (const packets of [v.client_to_server_packets, v.server_to_client_packets]) {
        for (const p of packets) {
          const framing: Framing = p.wire !== undefined ? 'json' : 'cbor';
          const w = new PacketWriter(framing, 'perl');
          w.packet((plain(p.decoded) as unknown[]).map((x) => w.value(x as never)));
          const bytes = Buffer.concat(w.take());
          if (p.wire !== undefined) expect(bytes.toString('utf8')).toBe(p.wire);
          else {
            const r = new PacketReader('cbor', 'perl', 1 << 20);
            r.push(bytes);
            expect(r.next()).toEqual(plain(p.decoded));
          }
        }
      }
    });
  }

  it('known answers of the digest (§2.7): HMAC lines, cleartext, a key longer than the block', () => {
    const ts1 = 'aemp;1;ts-node;hmac_sha3_512;json';
    const p1 = 'aemp;1;perl-node;tls_sha3_512,hmac_sha3_512,tls_anon,cleartext;cbor,json,storable;provider=AE-2.01';
    expect(authData('hmac_sha3_512', 'geheim', authMessage(ts1, 'bm9uY2Ux', p1, 'bm9uY2Uy'))).toBe(
      '9011bbf5c9e78e7cabb97d5171e871a74672950c9c0485413ac713db4edc817648fe1076de128772b7ae28f168dd7fc46947da48c8dcc0ab16bcba4400520aa0',
    );
    expect(authData('hmac_sha3_512', 'geheim', authMessage(p1, 'bm9uY2Uy', ts1, 'bm9uY2Ux'))).toBe(
      '871a775eeffb841f7671287765e18068a48c5359e8caafaab508839768e06515c9bb3b3b15bb0dd4e8f7cac9dee09627f7db1e9875eb81080b4e9b6e200e407d',
    );
    expect(cleartextHex('geheim')).toBe('67656865696d');
    expect(hmacSha3512Hex('k'.repeat(100), Buffer.from('x'))).toBe(
      '1bd8ec68dce6ed93accbc6d41120951feed4ea66de79573132e7909b881d2b85ea0cbfeb815648f708b3fe4aafb9f7c592bd2499ba5a24cc39d166fec965d14d',
    );
  });

  it('replays the probe: our handshake with the probe greeting and nonce answers Perl with its exact auth line', () => {
    const v = vector('probe_perl_json');
    const hs = new AempHandshake({
      role: 'initiator',
      self: atom('probe-ts'),
      secret: v.secret,
      framings: ['json'],
      allowCleartext: true,
      courier: false,
      kv: { provider: 'probe-mjs-0.1' },
      nonce: () => v.client.greeting2_nonce,
    });
    const start = hs.start();
    expect(Buffer.from((start[0] as { bytes: Uint8Array }).bytes).toString()).toBe(`${v.client.greeting1}\n${v.client.greeting2_nonce}\n`);
    const serverBytes = Buffer.from(v.server_to_client_raw_hex, 'hex');
    const actions: HandshakeAction[] = [];
    for (let i = 0; i < serverBytes.length; i++) actions.push(...hs.receive(serverBytes.subarray(i, i + 1)));
    const written = actions.flatMap((a) => (a.type === 'write' ? [Buffer.from(a.bytes).toString()] : []));
    expect(written).toEqual([`${v.client.auth_line}\n`]);
    const done = actions.find((a) => a.type === 'done') as { result: HandshakeResult } | undefined;
    expect(done?.result.peer).toBe(atom('perl-echo'));
    const d = done?.result.details as unknown as AempDetails;
    expect([d.sendFraming, d.recvFraming, d.dialect]).toEqual(['json', 'json', 'perl']);
  });
});
