import { describe, expect, it } from 'vitest';
import { atom } from '@courier/term';
import { HandshakeError, type Handshake, type HandshakeAction, type HandshakeArbiter, type HandshakeResult } from '@courier/core';
import { AempHandshake, MAX_HANDSHAKE_LINE, authData, authMessage, type AempDetails, type AempHandshakeOptions, type Framing } from '@courier/transport-aemp';

const A = atom('node-a');
const B = atom('node-b');
const okArbiter: HandshakeArbiter = { acceptPending: () => 'ok' };

interface Outcome {
  done?: HandshakeResult;
  fail?: HandshakeError;
  wrote: string;
}

/** Run two handshakes against each other, delivering bytes `size` at a time (0: whole writes). */
function run(a: Handshake, b: Handshake, size: number): [Outcome, Outcome] {
  const out: [Outcome, Outcome] = [{ wrote: '' }, { wrote: '' }];
  const hs = [a, b];
  const queues: Buffer[][] = [[], []];
  const take = (i: 0 | 1, actions: HandshakeAction[]): void => {
    for (const x of actions) {
      if (x.type === 'write') {
        queues[1 - i]?.push(Buffer.from(x.bytes));
        out[i].wrote += Buffer.from(x.bytes).toString();
      } else if (x.type === 'done') out[i].done = x.result;
      else if (x.type === 'fail') out[i].fail = x.error;
    }
  };
  take(0, a.start());
  take(1, b.start());
  for (let steps = 0; steps < 100 && (queues[0]?.length || queues[1]?.length); steps++) {
    for (const i of [0, 1] as const) {
      const q = queues[i] as Buffer[];
      while (q.length > 0) {
        const bytes = q.shift() as Buffer;
        const n = size === 0 ? bytes.length : size;
        for (let at = 0; at < bytes.length && !out[i].done && !out[i].fail; at += n) take(i, (hs[i] as Handshake).receive(bytes.subarray(at, at + n)));
      }
    }
  }
  return out;
}

const mk = (o: Partial<AempHandshakeOptions> & { role: 'initiator' | 'acceptor' }): AempHandshake =>
  new AempHandshake({
    self: o.role === 'initiator' ? A : B,
    secret: 's3cret',
    framings: ['cbor', 'json'],
    arbiter: o.role === 'acceptor' ? okArbiter : undefined,
    ...o,
  });

describe('AempHandshake', () => {
  for (const size of [1, 2, 3, 7, 0]) {
    it(`completes symmetrically with bytes ${size === 0 ? 'whole' : `${size} at a time`}`, () => {
      const [i, a] = run(mk({ role: 'initiator', peer: B }), mk({ role: 'acceptor' }), size);
      expect(i.fail).toBeUndefined();
      expect(a.fail).toBeUndefined();
      expect(i.done?.peer).toBe(B);
      expect(a.done?.peer).toBe(A);
      const di = i.done?.details as unknown as AempDetails;
      expect([di.sendFraming, di.recvFraming, di.dialect, di.auth]).toEqual(['cbor', 'cbor', 'courier', 'hmac_sha3_512']);
    });
  }

  it('sends greeting line 1 with node id, auths, framings and courier=1, then a 88-char base64 nonce', () => {
    const bytes = (mk({ role: 'initiator', kv: { provider: 'courier-0.1' } }).start()[0] as { bytes: Uint8Array }).bytes;
    const [l1, l2, rest] = Buffer.from(bytes).toString().split('\n');
    expect(l1).toBe('aemp;1;node-a;hmac_sha3_512;cbor,json;provider=courier-0.1;courier=1');
    expect(l2).toMatch(/^[A-Za-z0-9+/]{88}$/);
    expect(rest).toBe('');
  });

  it('each side sends the first framing of the peer list that it reads too', () => {
    const [i, a] = run(mk({ role: 'initiator', framings: ['json'] }), mk({ role: 'acceptor', framings: ['cbor', 'json'] }), 0);
    expect((i.done?.details as unknown as AempDetails).sendFraming).toBe('json');
    expect((a.done?.details as unknown as AempDetails).sendFraming).toBe('json');
    const [x, y] = run(mk({ role: 'initiator', framings: ['json'] }), mk({ role: 'acceptor', framings: ['cbor'] }), 0);
    expect(x.fail?.code).toBe('BAD_MESSAGE');
    expect(y.fail?.code).toBe('BAD_MESSAGE');
  });

  it('the auth line is HMAC-SHA3-512 over own lines, then the peer lines', () => {
    const [i] = run(mk({ role: 'initiator', nonce: () => 'n1' }), mk({ role: 'acceptor', nonce: () => 'n2' }), 0);
    const [l1, l2, auth] = i.wrote.split('\n');
    const peer1 = 'aemp;1;node-b;hmac_sha3_512;cbor,json;courier=1';
    expect(auth).toBe(`hmac_sha3_512;${authData('hmac_sha3_512', 's3cret', authMessage(l1 as string, l2 as string, peer1, 'n2'))};cbor`);
  });

  it('a wrong secret fails both sides with BAD_COOKIE', () => {
    const [i, a] = run(mk({ role: 'initiator' }), mk({ role: 'acceptor', secret: 'other' }), 0);
    expect(i.fail?.code).toBe('BAD_COOKIE');
    expect(a.fail?.code).toBe('BAD_COOKIE');
    expect(i.done ?? a.done).toBeUndefined();
  });

  it('cleartext auth is refused unless configured, and accepted when it is', () => {
    const line = (h: AempHandshake, peerFraming = 'json'): HandshakeAction[] => {
      h.start();
      return h.receive(Buffer.from(`aemp;1;perl;hmac_sha3_512,cleartext;json\nxyz\ncleartext;${Buffer.from('s3cret').toString('hex')};${peerFraming}\n`));
    };
    const refused = line(mk({ role: 'initiator' })).find((x) => x.type === 'fail') as { error: HandshakeError };
    expect(refused.error.code).toBe('NOT_ALLOWED');
    expect(line(mk({ role: 'initiator', allowCleartext: true })).some((x) => x.type === 'done')).toBe(true);
  });

  it('refuses an echo of its own greeting, its own node id, another protocol, an unknown auth method', () => {
    const cases: Array<[string, (h: AempHandshake, own: string) => string]> = [
      ['BAD_MESSAGE', (_h, own) => own],
      ['NOT_ALLOWED', (_h, own) => `${own.split('\n')[0]}\nanother-nonce\n`],
      ['NOT_ALLOWED', () => 'aemp;1;node-a;hmac_sha3_512;json\nxyz\n'],
      ['BAD_MESSAGE', () => 'aemp;2;node-b;hmac_sha3_512;json\nxyz\n'],
      ['BAD_MESSAGE', () => 'http/1.1 400;x;y;z;w\n'],
      ['NOT_ALLOWED', () => 'aemp;1;node-b;hmac_md6_64_256;json\nxyz\n'],
      ['NOT_ALLOWED', () => 'aemp;1;node-b;hmac_sha3_512;json\nxyz\nhmac_md6_64_256;00;json\n'],
    ];
    for (const [code, input] of cases) {
      const h = mk({ role: 'initiator', nonce: () => 'fixed' });
      const own = Buffer.from((h.start()[0] as { bytes: Uint8Array }).bytes).toString();
      const f = h.receive(Buffer.from(input(h, own))).find((x) => x.type === 'fail') as { error: HandshakeError } | undefined;
      expect(f?.error.code, input(h, own)).toBe(code);
    }
  });

  it('fails a line longer than 4 KiB before its end arrives, and never throws on garbage', () => {
    const h = mk({ role: 'acceptor' });
    h.start();
    expect(h.receive(Buffer.alloc(MAX_HANDSHAKE_LINE, 0x61))).toEqual([]);
    const f = h.receive(Buffer.from('aa'));
    expect(f[0]?.type).toBe('fail');
    expect(h.receive(Buffer.from('more\n'))).toEqual([]);
  });

  it('an acceptor refused by its node sends courier_refused; the initiator fails with that code', () => {
    for (const [status, code] of [
      ['nok', 'NOK'],
      ['not_allowed', 'NOT_ALLOWED'],
    ] as const) {
      const [i, a] = run(mk({ role: 'initiator' }), mk({ role: 'acceptor', arbiter: { acceptPending: () => status } }), 0);
      expect(a.fail?.code).toBe(code);
      expect(i.fail?.code).toBe(code);
      expect(a.wrote).toContain(`courier_refused;${code};`);
    }
  });

  it('an initiator that dialed one node id and met another fails with NAME_MISMATCH', () => {
    const [i] = run(mk({ role: 'initiator', peer: atom('someone-else') }), mk({ role: 'acceptor' }), 0);
    expect(i.fail?.code).toBe('NAME_MISMATCH');
  });

  it('keeps the bytes after the auth line as the tail, and accepts CRLF lines', () => {
    const h = mk({ role: 'initiator', courier: false, framings: ['json'] as Framing[], nonce: () => 'n1' });
    const own = Buffer.from((h.start()[0] as { bytes: Uint8Array }).bytes)
      .toString()
      .split('\n');
    const p1 = 'aemp;1;perl-x;hmac_sha3_512;json';
    const auth = authData('hmac_sha3_512', 's3cret', authMessage(p1, 'pn', own[0] as string, own[1] as string));
    const acts = h.receive(Buffer.from(`${p1}\r\npn\r\nhmac_sha3_512;${auth};json\r\n["","g_global"]`));
    const done = acts.find((x) => x.type === 'done') as { result: HandshakeResult };
    expect(Buffer.from(done.result.tail).toString()).toBe('["","g_global"]');
    expect((done.result.details as unknown as AempDetails).dialect).toBe('perl');
  });
});
