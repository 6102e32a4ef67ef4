import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { atomCount, type Atom } from '@courier/term';
import { HandshakeError, type HandshakeAction, type HandshakeArbiter } from '@courier/core';
import { atom } from '@courier/term';
import { ErlHandshake } from '../../src/handshake/erl-handshake.js';
import { COURIER_FLAGS } from '../../src/handshake/flags.js';
import { checkNodeName } from '../../src/handshake/node-name.js';

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

/** A framed v6 send_name: <<Len:16, 'N', Flags:64, Creation:32, Nlen:16, Name>>. */
function sendName(name: Uint8Array): Uint8Array {
  const m = new Uint8Array(2 + 15 + name.length);
  const v = new DataView(m.buffer);
  v.setUint16(0, 15 + name.length);
  m[2] = 0x4e;
  v.setBigUint64(3, COURIER_FLAGS);
  v.setUint32(11, 1);
  v.setUint16(15, name.length);
  m.set(name, 17);
  return m;
}

function acceptor(seen: Atom[]): ErlHandshake {
  const arbiter: HandshakeArbiter = {
    acceptPending: (peer) => {
      seen.push(peer);
      return 'ok';
    },
  };
  const h = new ErlHandshake({ role: 'acceptor', self: atom('b@127.0.0.1'), creation: 2, cookie: () => 'c', hidden: true, arbiter, lengthBytes: 2 });
  h.start();
  return h;
}

const failure = (actions: HandshakeAction[]): HandshakeError | undefined => actions.flatMap((a) => (a.type === 'fail' ? [a.error] : []))[0];

describe('node names a peer sends before it has authenticated', () => {
  it('accepts what erl -name and -sname make', () => {
    for (const n of ['x@127.0.0.1', 'node_1-a@host.example.com', 'a@b', 'ñodo@hôte', `${'a'.repeat(200)}@${'h'.repeat(54)}`])
      expect(checkNodeName(utf8(n))).toEqual({ ok: true, name: n });
  });

  it('refuses too long, empty, not alive@host, non-UTF-8 and control characters, saying why', () => {
    const cases: Array<[Uint8Array, RegExp]> = [
      [utf8(`${'a'.repeat(300)}@h`), /1 to 255 characters, not 302/],
      [new Uint8Array(0), /1 to 255/],
      [utf8('nohost'), /not alive@host/],
      [utf8('@h'), /not alive@host/],
      [utf8('a@'), /not alive@host/],
      [utf8('a@b@c'), /not alive@host/],
      [new Uint8Array([0x61, 0x40, 0xff, 0xfe]), /not UTF-8/],
      [utf8('a b@h'), /control character or a space/],
      [utf8('a\u0000@h'), /control character or a space/],
    ];
    for (const [bytes, why] of cases) {
      const r = checkNodeName(bytes);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.reason).toMatch(why);
    }
  });

  it('a 300-character send_name fails the handshake with BAD_MESSAGE and makes no atom (the crash of the issue)', () => {
    const h = acceptor([]);
    const before = atomCount();
    const err = failure(h.receive(sendName(utf8(`${'a'.repeat(300)}@h`))));
    expect(err).toBeInstanceOf(HandshakeError);
    expect(err?.code).toBe('BAD_MESSAGE');
    expect(err?.message).toMatch(/1 to 255 characters/);
    expect(atomCount()).toBe(before);
  });

  it('a valid but unknown name is not interned before the challenge reply proves the cookie', () => {
    const name = `stranger${Date.now()}@h`;
    const seen: Atom[] = [];
    const h = acceptor(seen);
    const before = atomCount();
    h.receive(sendName(utf8(name)));
    expect(seen.map((a) => a.name)).toEqual([name]);
    expect(atomCount()).toBe(before);
  });

  it('any bytes as a name: the handshake answers with actions or a typed failure, never throws', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (name) => {
        const actions = acceptor([]).receive(sendName(name));
        const err = failure(actions);
        if (err !== undefined) expect(err).toBeInstanceOf(HandshakeError);
      }),
      { numRuns: 500 },
    );
  });
});
