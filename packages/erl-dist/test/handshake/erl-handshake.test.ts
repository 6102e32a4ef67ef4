import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { atom } from '@courier/term';
import type { HandshakeAction, HandshakeArbiter } from '@courier/core';
import { ErlHandshake, genDigest } from '../../src/handshake/erl-handshake.js';
import { COURIER_FLAGS, DFLAG, MANDATORY_25 } from '../../src/handshake/flags.js';

const shared = fileURLToPath(new URL('../fixtures/', import.meta.url));
const load = (f: string): Vec => JSON.parse(readFileSync(shared + f, 'utf8')) as Vec;
const hex = (h: string) => Buffer.from(h, 'hex');

interface Vec {
  cookie: string;
  cookie_node_A?: string;
  handshake: Array<{ direction: string; raw_hex: string; challenge?: number }>;
}

/** Feed `bytes` in chunks of `n`, collecting actions. */
function feed(h: ErlHandshake, bytes: Uint8Array, n: number): HandshakeAction[] {
  const out: HandshakeAction[] = [];
  for (let i = 0; i < bytes.length; i += n) out.push(...h.receive(bytes.subarray(i, i + n)));
  return out;
}

const ok: HandshakeArbiter = { acceptPending: () => 'ok' };

describe('Erlang handshake v6 against real OTP 25 captures', () => {
  const v: Vec = load('handshake-tcp.json');
  const [sendName, status, challenge, reply, ack] = v.handshake;

  it('digest is MD5(cookie ++ decimal challenge)', () => {
    expect(Buffer.from(genDigest(challenge!.challenge!, v.cookie)).toString('hex')).toBe(reply!.raw_hex.slice(2 * 2 + 2 + 8));
  });

  for (const n of [1, 2, 3, 7, 4096]) {
    it(`acceptor accepts the real initiator (chunks of ${n})`, () => {
      const h = new ErlHandshake({
        role: 'acceptor',
        self: atom('b@127.0.0.1'),
        creation: 7,
        cookie: () => v.cookie,
        hidden: false,
        arbiter: ok,
        lengthBytes: 2,
        challenge: challenge!.challenge!,
      });
      expect(h.start()).toEqual([]);
      const a1 = feed(h, hex(sendName!.raw_hex), n);
      expect(a1.map((a) => a.type)).toEqual(['write', 'write']);
      expect(Buffer.from((a1[0] as { bytes: Uint8Array }).bytes).toString('hex')).toBe(status!.raw_hex);
      // A frame glued to the reply (in the same chunk) comes out as the tail.
      const r = hex(reply!.raw_hex);
      const cut = Math.max(0, r.length - n);
      feed(h, r.subarray(0, cut), n);
      const a2 = h.receive(Buffer.concat([r.subarray(cut), Buffer.from([0, 0, 0, 0])]));
      const done = a2.find((a) => a.type === 'done');
      expect(a2[0]).toEqual({ type: 'write', bytes: expect.anything() as unknown });
      expect(Buffer.from((a2[0] as { bytes: Uint8Array }).bytes).toString('hex')).toBe(ack!.raw_hex);
      expect(done?.type === 'done' && done.result.peer).toBe(atom('a@127.0.0.1'));
      expect(done?.type === 'done' && Buffer.from(done.result.tail).toString('hex')).toBe('00000000');
    });
  }

  it('initiator completes against the real acceptor', () => {
    const h = new ErlHandshake({
      role: 'initiator',
      self: atom('a@127.0.0.1'),
      peer: atom('b@127.0.0.1'),
      creation: 9,
      cookie: () => v.cookie,
      hidden: false,
      lengthBytes: 2,
      challenge: reply!.challenge!,
    });
    const [w] = h.start();
    const sent = Buffer.from((w as { bytes: Uint8Array }).bytes);
    expect(sent[2]).toBe(0x4e);
    expect(sent.readBigUInt64BE(3)).toBe(COURIER_FLAGS | DFLAG.PUBLISHED);
    const a = feed(h, Buffer.concat([hex(status!.raw_hex), hex(challenge!.raw_hex)]), 5);
    expect(Buffer.from((a[0] as { bytes: Uint8Array }).bytes).toString('hex')).toBe(reply!.raw_hex);
    const d = feed(h, hex(ack!.raw_hex), 1);
    expect(d[0]?.type).toBe('done');
    if (d[0]?.type === 'done') {
      expect(d[0].result.peerCreation).toBe(0x6b022ec4);
      expect(d[0].result.hidden).toBe(false);
    }
  });

  it('refuses a real challenge_reply made with the wrong cookie', () => {
    const bad: Vec = load('handshake-tcp-badcookie.json');
    const [bn, , bc, br] = bad.handshake;
    const h = new ErlHandshake({
      role: 'acceptor',
      self: atom('b@127.0.0.1'),
      creation: 7,
      cookie: () => bad.cookie,
      hidden: false,
      arbiter: ok,
      lengthBytes: 2,
      challenge: bc!.challenge!,
    });
    h.start();
    feed(h, hex(bn!.raw_hex), 64);
    const r = feed(h, hex(br!.raw_hex), 64);
    expect(r).toHaveLength(1);
    expect(r[0]?.type === 'fail' && r[0].error.code).toBe('BAD_COOKIE');
  });

  it('initiator refuses a wrong challenge_ack digest', () => {
    const h = new ErlHandshake({
      role: 'initiator',
      self: atom('a@127.0.0.1'),
      peer: atom('b@127.0.0.1'),
      creation: 9,
      cookie: () => 'othercookie',
      hidden: false,
      lengthBytes: 2,
      challenge: reply!.challenge!,
    });
    h.start();
    feed(h, Buffer.concat([hex(status!.raw_hex), hex(challenge!.raw_hex)]), 64);
    const r = feed(h, hex(ack!.raw_hex), 64);
    expect(r[0]?.type === 'fail' && r[0].error.code).toBe('BAD_COOKIE');
  });
});

describe('Erlang handshake: two Courier machines and refusals', () => {
  function pair(opts: { cookieB?: string; statusB?: ReturnType<HandshakeArbiter['acceptPending']>; lengthBytes?: 2 | 4 } = {}) {
    const lb = opts.lengthBytes ?? 2;
    const a = new ErlHandshake({ role: 'initiator', self: atom('a@h'), peer: atom('b@h'), creation: 1, cookie: () => 'c', hidden: true, lengthBytes: lb });
    const b = new ErlHandshake({
      role: 'acceptor',
      self: atom('b@h'),
      creation: 2,
      cookie: () => opts.cookieB ?? 'c',
      hidden: false,
      lengthBytes: lb,
      arbiter: { acceptPending: () => opts.statusB ?? 'ok' },
    });
    return { a, b };
  }
  function run(a: ErlHandshake, b: ErlHandshake) {
    let toB = a.start();
    b.start();
    const results: { a?: HandshakeAction; b?: HandshakeAction } = {};
    for (let i = 0; i < 10 && toB.length > 0; i++) {
      const fromB: HandshakeAction[] = [];
      for (const x of toB) {
        if (x.type === 'write') fromB.push(...b.receive(x.bytes));
        else results.a = x;
      }
      toB = [];
      for (const y of fromB) {
        if (y.type === 'write') toB.push(...a.receive(y.bytes));
        else results.b = y;
      }
    }
    for (const x of toB) if (x.type !== 'write') results.a = x;
    return results;
  }

  for (const lb of [2, 4] as const) {
    it(`completes with ${lb}-byte framing; hidden initiator is hidden to both`, () => {
      const { a, b } = pair({ lengthBytes: lb });
      const r = run(a, b);
      expect(r.a?.type).toBe('done');
      expect(r.b?.type).toBe('done');
      if (r.b?.type === 'done') {
        expect(r.b.result.hidden).toBe(true);
        expect(r.b.result.peer).toBe(atom('a@h'));
        expect(r.b.result.flags & MANDATORY_25).toBe(MANDATORY_25);
      }
    });
  }

  it('wrong cookie fails on the acceptor with BAD_COOKIE', () => {
    const { a, b } = pair({ cookieB: 'other' });
    expect(run(a, b).b).toMatchObject({ type: 'fail', error: { code: 'BAD_COOKIE' } });
  });

  it('nok and not_allowed statuses fail the initiator', () => {
    for (const [status, code] of [
      ['nok', 'NOK'],
      ['not_allowed', 'NOT_ALLOWED'],
    ] as const) {
      const { a, b } = pair({ statusB: status });
      expect(run(a, b).a).toMatchObject({ type: 'fail', error: { code } });
    }
  });

  it('alive status: the initiator answers true and the handshake completes', () => {
    const { a, b } = pair({ statusB: 'alive' });
    const r = run(a, b);
    expect(r.a?.type).toBe('done');
    expect(r.b?.type).toBe('done');
  });

  it('missing mandatory flags: acceptor sends not_allowed', () => {
    const b = new ErlHandshake({ role: 'acceptor', self: atom('b@h'), creation: 2, cookie: () => 'c', hidden: false, lengthBytes: 2, arbiter: ok });
    b.start();
    const name = Buffer.from('x@h');
    const m = Buffer.alloc(2 + 15 + name.length);
    m.writeUInt16BE(15 + name.length, 0);
    m[2] = 0x4e;
    m.writeBigUInt64BE(MANDATORY_25 & ~DFLAG.BIT_BINARIES, 3);
    m.writeUInt16BE(name.length, 15);
    name.copy(m, 17);
    const r = b.receive(m);
    expect(
      Buffer.from((r[0] as { bytes: Uint8Array }).bytes)
        .subarray(2)
        .toString(),
    ).toBe('snot_allowed');
    expect(r[1]).toMatchObject({ type: 'fail', error: { code: 'MISSING_FLAGS' } });
    expect((r[1] as { error: Error }).error.message).toContain('BIT_BINARIES');
  });

  it('oversized and garbage messages fail cleanly', () => {
    const b = new ErlHandshake({ role: 'acceptor', self: atom('b@h'), creation: 2, cookie: () => 'c', hidden: false, lengthBytes: 2, arbiter: ok });
    b.start();
    expect(b.receive(Buffer.from([0xff, 0xff, 1]))[0]).toMatchObject({ type: 'fail', error: { code: 'BAD_MESSAGE' } });
    const c = new ErlHandshake({ role: 'acceptor', self: atom('b@h'), creation: 2, cookie: () => 'c', hidden: false, lengthBytes: 2, arbiter: ok });
    c.start();
    expect(c.receive(Buffer.from([0, 3, 0x4e, 1, 2]))[0]).toMatchObject({ type: 'fail', error: { code: 'BAD_MESSAGE' } });
  });
});
