import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { atom } from '@courier/term';
import { HandshakeError, UsageError, type HandshakeAction, type HandshakeArbiter } from '@courier/core';
import { MemoryHandshake, type MemoryHandshakeOptions } from '../../src/handshake/memory-handshake.js';
import { MemoryFlag, frame, SEND_STATUS, text } from '../../src/handshake/messages.js';

const A = atom('a@host');
const B = atom('b@host');
const COOKIE = 'sekrit-cookie';
const fixed = (byte: number) => (n: number) => new Uint8Array(n).fill(byte);
const ok: HandshakeArbiter = { acceptPending: () => 'ok' };

function roles(over: Partial<MemoryHandshakeOptions> = {}, overAcceptor: Partial<MemoryHandshakeOptions> = {}) {
  const initiator = new MemoryHandshake({ role: 'initiator', self: A, creation: 0x01020304, cookie: COOKIE, peer: B, random: fixed(0xaa), ...over });
  const acceptor = new MemoryHandshake({ role: 'acceptor', self: B, creation: 0x0a0b0c0d, cookie: COOKIE, arbiter: ok, random: fixed(0xbb), ...overAcceptor });
  return { initiator, acceptor };
}

const writes = (actions: HandshakeAction[]): Buffer => Buffer.concat(actions.flatMap((a) => (a.type === 'write' ? [a.bytes] : [])));
const failure = (actions: HandshakeAction[]): HandshakeError | undefined => actions.flatMap((a) => (a.type === 'fail' ? [a.error] : []))[0];
const hmac = (purpose: string, challenge: Uint8Array): Buffer => createHmac('sha256', COOKIE).update(purpose).update(challenge).digest();

/** Run to the end, one byte at a time in both directions; returns every byte written per side. */
function run(i: MemoryHandshake, a: MemoryHandshake): { fromI: Buffer[]; fromA: Buffer[]; last: HandshakeAction[][] } {
  const fromI: Buffer[] = [];
  const fromA: Buffer[] = [];
  const last: HandshakeAction[][] = [];
  let toA: Buffer = writes(i.start());
  fromI.push(toA);
  let toI: Buffer = Buffer.alloc(0);
  while (toA.length + toI.length > 0) {
    let acts: HandshakeAction[] = [];
    for (const byte of toA) acts = acts.concat(a.receive(Buffer.from([byte])));
    toA = Buffer.alloc(0);
    toI = writes(acts);
    if (toI.length > 0) fromA.push(toI);
    last.push(acts);
    acts = [];
    for (const byte of toI) acts = acts.concat(i.receive(Buffer.from([byte])));
    toI = Buffer.alloc(0);
    toA = writes(acts);
    if (toA.length > 0) fromI.push(toA);
    last.push(acts);
  }
  return { fromI, fromA, last };
}

describe('MemoryHandshake', () => {
  it('writes the documented byte layouts and HMAC-SHA256 digests', () => {
    const { initiator, acceptor } = roles();
    const { fromI, fromA } = run(initiator, acceptor);
    // sendName: <<Len:16, 'N', Flags:64, Creation:32, Nlen:16, Name>>
    const name = fromI[0] as Buffer;
    expect(name.readUInt16BE(0)).toBe(name.length - 2);
    expect(String.fromCharCode(name[2] as number)).toBe('N');
    expect(name.readBigUInt64BE(3)).toBe(MemoryFlag.PUBLISHED | MemoryFlag.SEND_SENDER | MemoryFlag.EXIT_PAYLOAD);
    expect(name.readUInt32BE(11)).toBe(0x01020304);
    expect(name.readUInt16BE(15)).toBe(6);
    expect(name.subarray(17).toString()).toBe('a@host');
    // Acceptor's first batch: status "ok" then the challenge.
    const batch = fromA[0] as Buffer;
    expect(batch.subarray(0, 5)).toEqual(Buffer.from([0, 3, 0x73, 0x6f, 0x6b]));
    const ch = batch.subarray(5);
    expect(String.fromCharCode(ch[2] as number)).toBe('C');
    expect(ch.readUInt32BE(11)).toBe(0x0a0b0c0d);
    expect(ch.subarray(15, 31)).toEqual(Buffer.alloc(16, 0xbb));
    // Reply: our challenge, then HMAC(cookie, 'r' ++ theirs).
    const reply = fromI[1] as Buffer;
    expect(reply.readUInt16BE(0)).toBe(1 + 16 + 32);
    expect(reply.subarray(3, 19)).toEqual(Buffer.alloc(16, 0xaa));
    expect(reply.subarray(19)).toEqual(hmac('r', Buffer.alloc(16, 0xbb)));
    const ack = fromA[1] as Buffer;
    expect(ack.subarray(3)).toEqual(hmac('a', Buffer.alloc(16, 0xaa)));
    // The cookie itself never crosses.
    expect(Buffer.concat([...fromI, ...fromA]).includes(Buffer.from(COOKIE))).toBe(false);
    expect(initiator.step).toBe('done');
    expect(acceptor.step).toBe('done');
  });

  it('negotiates flags by AND; a node without PUBLISHED makes the connection hidden on both sides', () => {
    const { initiator, acceptor } = roles({ flags: MemoryFlag.SEND_SENDER }, {});
    const { last } = run(initiator, acceptor);
    const results = last.flat().flatMap((x) => (x.type === 'done' ? [x.result] : []));
    expect(results).toHaveLength(2);
    for (const r of results) {
      expect(r.flags).toBe(MemoryFlag.SEND_SENDER);
      expect(r.hidden).toBe(true);
    }
    expect(results.map((r) => r.peerCreation).sort()).toEqual([0x01020304, 0x0a0b0c0d].sort());
  });

  it('fails NAME_MISMATCH when another node answers than the one dialed', () => {
    const { acceptor } = roles();
    const initiator = new MemoryHandshake({ role: 'initiator', self: A, creation: 1, cookie: COOKIE, peer: atom('c@host') });
    const batch = acceptor.receive(writes(initiator.start()));
    expect(failure(initiator.receive(writes(batch)))?.code).toBe('NAME_MISMATCH');
  });

  it('alive: the initiator confirms with "true"; an acceptor told "false" fails ALREADY_CONNECTED', () => {
    const alive: HandshakeArbiter = { acceptPending: () => 'alive' };
    const { initiator, acceptor } = roles({}, { arbiter: alive });
    const status = writes(acceptor.receive(writes(initiator.start())));
    expect(status).toEqual(Buffer.concat([Buffer.from([0, 6, 0x73]), Buffer.from('alive')]));
    expect(writes(initiator.receive(status))).toEqual(Buffer.from(frame(SEND_STATUS, text('true'))));
    const other = roles({}, { arbiter: alive }).acceptor;
    other.receive(writes(roles().initiator.start()));
    expect(failure(other.receive(frame(SEND_STATUS, text('false'))))?.code).toBe('ALREADY_CONNECTED');
  });

  it('refuses protocol violations with BAD_MESSAGE, never by throwing', () => {
    const { initiator, acceptor } = roles();
    expect(failure(initiator.receive(new Uint8Array([0, 1, 0x61])))?.code).toBe('BAD_MESSAGE'); // before start
    expect(failure(acceptor.receive(frame(0x72, new Uint8Array(48))))?.code).toBe('BAD_MESSAGE'); // reply before name
    const noAt = roles().acceptor;
    const badName = frame(0x4e, new Uint8Array(12), new Uint8Array([0, 4]), text('anon'));
    expect(failure(noAt.receive(badName))?.code).toBe('BAD_MESSAGE');
    const short = roles().acceptor;
    expect(failure(short.receive(frame(0x4e, new Uint8Array(5))))?.code).toBe('BAD_MESSAGE');
    const i2 = roles().initiator;
    i2.start();
    expect(failure(i2.receive(frame(SEND_STATUS, text('maybe'))))?.code).toBe('BAD_MESSAGE');
    const i3 = roles().initiator;
    i3.start();
    expect(failure(i3.receive(frame(0x78, text('SOMETHING_ELSE'))))?.code).toBe('BAD_MESSAGE');
    expect(i3.receive(new Uint8Array([1, 2, 3]))).toEqual([]); // after failing: ignored
  });

  it('a wrong cookie: the acceptor writes a refusal, then both fail BAD_COOKIE', () => {
    const { initiator } = roles({ cookie: 'wrong' });
    const { acceptor } = roles();
    const batch = acceptor.receive(writes(initiator.start()));
    const reply = initiator.receive(writes(batch));
    const refused = acceptor.receive(writes(reply));
    expect(failure(refused)?.code).toBe('BAD_COOKIE');
    expect(writes(refused).subarray(2, 3).toString()).toBe('x');
    expect(failure(initiator.receive(writes(refused)))?.code).toBe('BAD_COOKIE');
  });

  it('needs a peer to initiate and an arbiter to accept', () => {
    expect(() => new MemoryHandshake({ role: 'initiator', self: A, creation: 1, cookie: 'c' })).toThrow(UsageError);
    expect(() => new MemoryHandshake({ role: 'acceptor', self: A, creation: 1, cookie: 'c' })).toThrow(UsageError);
  });
});
