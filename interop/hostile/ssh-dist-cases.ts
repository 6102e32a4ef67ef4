import fc from 'fast-check';
import { DEFAULT_MAX_TERM_BYTES, Pid, Tuple, VERSION, atom, encode, type Term } from '@courier/term';
import type { HandshakeAction } from '@courier/core';
import { sshDistHandshake } from '@courier/transport-ssh';
import { HTTP_GET, clientHello, frame16, mutatedOf, sendNameBody } from './dist-cases.js';
import { compressedBomb, frame32 } from './ssh-rpc-cases.js';
import type { ChannelIo, ChannelOptions } from './ssh-session.js';

/**
 * Hostile input on an authenticated Courier distribution channel (`courier-dist@courier.invalid`,
 * docs/ssh.md): inside it the Erlang handshake runs with 4-byte lengths (as over TLS), its cookie a
 * fixed value, and the name it carries must be the SSH login; then the distribution session, whose
 * frames are `Len:32` then `112 ('p') 131 Ctrl [131 Payload]` or `131 68 …` with an atom cache
 * (Len 0 is a tick). Cases before the handshake, and after a correct one (the `prelude` runs it).
 */
export const DIST_SUBSYSTEM = 'courier-dist@courier.invalid';
/** The distribution message limit of the SSH carrier (its `maxMessage` default). */
const MAX_MESSAGE = DEFAULT_MAX_TERM_BYTES;

export interface DistCase {
  readonly name: string;
  /** The bytes, or a function making them when the case runs (they name the echo node). */
  readonly bytes: Uint8Array | (() => Uint8Array);
  readonly opts?: ChannelOptions;
  /** The node must close the channel without our EOF. */
  readonly nodeCloses?: boolean;
}

const t = (...xs: Term[]): Tuple => new Tuple(xs);
const a = atom;
const bytes = (...xs: number[]): Buffer => Buffer.from(xs);
const concat = (...bs: Uint8Array[]): Buffer => Buffer.concat(bs);
const u32 = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
};

/**
 * A prelude that runs the initiator's side of the handshake as `self` (the SSH login) towards
 * `node()` (the echo node's name when the case runs); resolves once the session is up.
 */
export function handshake(self: string, node: () => string): (io: ChannelIo) => Promise<void> {
  return async (io) => {
    const hs = sshDistHandshake({ role: 'initiator', self: a(self), creation: 1, peer: a(node()), hidden: true });
    const act = (as: HandshakeAction[]): boolean => {
      for (const x of as) {
        if (x.type === 'write') io.write(x.bytes);
        else if (x.type === 'done') return true;
        else if (x.type === 'fail') throw x.error;
      }
      return false;
    };
    if (act(hs.start())) return;
    for (;;) if (act(hs.receive(await io.read()))) return;
  };
}

/** A pass-through session frame: `112, 131 Ctrl, [131 Payload]`. */
export const pass = (ctrl: Term, payload?: Term): Buffer => frame32(concat(bytes(112), encode(ctrl), payload === undefined ? Buffer.alloc(0) : encode(payload)));
/** A pass-through frame with hand-made bytes after 112. */
const passRaw = (...xs: Uint8Array[]): Buffer => frame32(concat(bytes(112), ...xs));

export function distNamedCases(self: string, node: () => string): DistCase[] {
  const me = new Pid(a(self), 1, 0, 1);
  const other = new Pid(a('someone_else@127.0.0.1'), 1, 0, 1);
  const regSend = (from: Pid, to: string): Tuple => t(6, from, a(''), a(to));
  const after = (ms = 3000): ChannelOptions => ({ prelude: handshake(self, node), closeWaitMs: ms });
  const afterKeep = (ms = 3000): ChannelOptions => ({ prelude: handshake(self, node), closeWaitMs: ms, keepOpen: true });
  const keep: ChannelOptions = { keepOpen: true, closeWaitMs: 3000 };
  const sendName = (name: string): Buffer => frame32(sendNameBody(name));
  return [
    // Before the handshake (4-byte lengths, messages of at most 2048 bytes).
    { name: 'handshake length 0', bytes: u32(0), opts: keep, nodeCloses: true },
    { name: 'handshake length 0xFFFFFFFF', bytes: concat(u32(0xffff_ffff), Buffer.alloc(32)), opts: keep, nodeCloses: true },
    { name: 'handshake length 2049 (past the 2048 limit)', bytes: concat(u32(2049), Buffer.alloc(2049)), opts: keep, nodeCloses: true },
    { name: 'handshake length beyond the data (100 said, 5 sent)', bytes: concat(u32(100), Buffer.alloc(5)) },
    { name: 'two bytes of a length', bytes: bytes(0, 0) },
    { name: 'send_name with 2-byte framing (TCP framing inside SSH)', bytes: frame16(sendNameBody(self)), opts: keep, nodeCloses: true },
    { name: 'send_name naming another node than the SSH login', bytes: sendName('someone_else@127.0.0.1'), opts: keep, nodeCloses: true },
    { name: 'send_name with a 300-character name', bytes: sendName(`${'a'.repeat(300)}@h`), opts: keep, nodeCloses: true },
    { name: 'send_name with invalid UTF-8 in the name', bytes: frame32(sendNameBody(bytes(0xff, 0xfe, 0x40, 0x68))), opts: keep, nodeCloses: true },
    { name: 'send_name with no flags', bytes: frame32(sendNameBody(self, { flags: 0n })), opts: keep, nodeCloses: true },
    {
      name: 'send_name of the login, then a challenge_reply with a wrong digest',
      bytes: concat(sendName(self), frame32(concat(bytes(0x72, 1, 2, 3, 4), Buffer.alloc(16)))),
      opts: keep,
      nodeCloses: true,
    },
    { name: 'challenge_reply before send_name', bytes: frame32(concat(bytes(0x72, 0, 0, 0, 1), Buffer.alloc(16))), opts: keep, nodeCloses: true },
    { name: 'an SSH banner inside the channel', bytes: Buffer.from('SSH-2.0-OpenSSH_9.2p1\r\n'), opts: keep, nodeCloses: true },
    { name: 'an HTTP request inside the channel', bytes: HTTP_GET, opts: keep, nodeCloses: true },
    { name: 'a TLS ClientHello inside the channel', bytes: clientHello(), opts: keep, nodeCloses: true },
    { name: '1 MiB of random bytes', bytes: Buffer.from(Array.from({ length: 1 << 20 }, (_, i) => (i * 2654435761) >>> 24)) },
    // After a correct handshake: the session.
    { name: 'after the handshake: 10 000 ticks', bytes: Buffer.alloc(40_000), opts: after() },
    { name: 'after the handshake: frame length 0xFFFFFFFF', bytes: concat(u32(0xffff_ffff), Buffer.alloc(64)), opts: afterKeep(), nodeCloses: true },
    {
      name: `after the handshake: frame length one past the ${MAX_MESSAGE / 2 ** 20} MiB message limit`,
      bytes: concat(u32(MAX_MESSAGE + 1), Buffer.alloc(64)),
      opts: afterKeep(),
      nodeCloses: true,
    },
    { name: 'after the handshake: frame length beyond the data', bytes: concat(u32(1000), bytes(112, VERSION)), opts: after() },
    { name: 'after the handshake: a frame starting with 0', bytes: frame32(bytes(0, 1, 2, 3)), opts: afterKeep(), nodeCloses: true },
    { name: 'after the handshake: pass-through with a bad term', bytes: passRaw(bytes(VERSION, 0)), opts: afterKeep(), nodeCloses: true },
    { name: 'after the handshake: a control message that is an atom', bytes: pass(a('hello')), opts: afterKeep(), nodeCloses: true },
    { name: 'after the handshake: an unknown control op {99, x}', bytes: pass(t(99, a('x'))), opts: after() },
    { name: 'after the handshake: REG_SEND with a sender of another node', bytes: pass(regSend(other, 'echo'), t(other, a('hi'))), opts: after() },
    { name: 'after the handshake: LINK from a process of another node (FOREIGN_SENDER)', bytes: pass(t(1, other, me)), opts: afterKeep(), nodeCloses: true },
    { name: 'after the handshake: REG_SEND without its message', bytes: pass(regSend(me, 'echo')), opts: afterKeep(), nodeCloses: true },
    {
      name: 'after the handshake: REG_SEND to echo, then lists nested 100 000 deep',
      bytes: concat(pass(regSend(me, 'echo'), t(me, a('hi'))), passRaw(encode(regSend(me, 'echo')), bytes(VERSION), Buffer.alloc(500_000, 0).fill(Buffer.from([108, 0, 0, 0, 1])))),
      opts: afterKeep(),
      nodeCloses: true,
    },
    {
      name: 'after the handshake: a dist header referring to an empty cache entry',
      bytes: frame32(bytes(VERSION, 68, 1, 0, 5, VERSION, 104, 1, 82, 0)),
      opts: afterKeep(),
      nodeCloses: true,
    },
    {
      name: 'after the handshake: a dist header with 255 new 255-character atoms',
      bytes: frame32(
        concat(
          bytes(VERSION, 68, 255),
          Buffer.alloc(128, 0x88),
          ...Array.from({ length: 255 }, (_, i) => concat(bytes(i, 255), Buffer.from(`${String(i).padStart(3, '0')}${'z'.repeat(252)}`))),
          encode(t(99)).subarray(1),
        ),
      ),
      opts: after(),
    },
    {
      name: 'after the handshake: a first fragment claiming 2^64-1 fragments',
      bytes: frame32(concat(bytes(VERSION, 69), Buffer.alloc(8, 1), Buffer.alloc(8, 0xff), bytes(0), Buffer.alloc(32))),
      opts: after(),
    },
    {
      name: 'after the handshake: 1100 fragmented messages open at once',
      bytes: concat(...Array.from({ length: 1100 }, (_, i) => frame32(concat(bytes(VERSION, 69), u32(0), u32(i), u32(0), u32(2), bytes(0), Buffer.alloc(16))))),
      opts: afterKeep(),
      nodeCloses: true,
    },
    {
      name: 'after the handshake: 10 000 links to a pid that does not exist',
      bytes: () => concat(...Array.from({ length: 10_000 }, (_, i) => pass(t(1, me, new Pid(a(node()), 100_000 + i, 0, 1))))),
      opts: after(10_000),
    },
    { name: 'after the handshake: SPAWN_REQUEST of erlang:halt/0', bytes: pass(t(29, new Tuple([]), me, me, t(a('erlang'), a('halt'), 0), []), []), opts: after() },
    {
      name: 'after the handshake: SPAWN_REQUEST with 1 argument for arity 3',
      bytes: pass(t(29, a('r'), me, me, t(a('courier_echo'), a('echo'), 3), []), [1]),
      opts: afterKeep(),
      nodeCloses: true,
    },
    { name: 'after the handshake: EXIT2 kill to the echo process from us', bytes: pass(t(8, me, a('echo'), a('kill'))), opts: after() },
    { name: 'after the handshake: a second handshake', bytes: sendName(self), opts: afterKeep(), nodeCloses: true },
  ];
}

/**
 * After a correct handshake, a REG_SEND whose message is a compressed term of 16 KiB inflating to
 * 16 MiB: a list of 8 million empty tuples (within the message limit), to a name nobody has.
 */
export function distBomb(self: string, node: () => string): DistCase {
  const me = new Pid(a(self), 1, 0, 1);
  return {
    name: 'a compressed-term bomb as a message (16 KiB inflating to 8 million empty tuples)',
    bytes: passRaw(encode(t(6, me, a(''), a('nobody_here'))), compressedBomb((16 * 1024 * 1024 - 8) / 2).subarray(4)),
    opts: { prelude: handshake(self, node), closeWaitMs: 60_000 },
  };
}

/** Generated cases: random bytes, framed junk, mutated send_names; and random session frames after a correct handshake. */
export function distArbitrary(self: string): fc.Arbitrary<{ bytes: Buffer; pieces: boolean; session: boolean }> {
  const raw = fc.uint8Array({ minLength: 1, maxLength: 300 }).map((b) => Buffer.from(b));
  const framed = fc
    .array(fc.tuple(fc.uint8Array({ maxLength: 200 }), fc.option(fc.oneof(fc.constantFrom(0, 1, 2048, 2049, 0xffff_ffff), fc.nat({ max: 400 })))), { minLength: 1, maxLength: 3 })
    .map((fs) => concat(...fs.map(([body, len]) => frame32(body, len ?? undefined))));
  const mutated = mutatedOf(frame32(sendNameBody(self)), concat(frame32(sendNameBody(self)), frame32(concat(bytes(0x72, 1, 2, 3, 4), Buffer.alloc(16)))));
  const before = fc.record({ bytes: fc.oneof(raw, framed, mutated, mutated), pieces: fc.boolean(), session: fc.constant(false) });

  const me = new Pid(a(self), 1, 0, 1);
  const leaf: fc.Arbitrary<Term> = fc.oneof(
    fc.integer(),
    fc.constantFrom<Term>(a('echo'), a(''), a('kill'), me),
    fc.uint8Array({ maxLength: 32 }).map((b) => Buffer.from(b) as Term),
  );
  const ctrl = fc.tuple(fc.integer({ min: 0, max: 40 }), fc.array(leaf, { maxLength: 5 })).map(([op, xs]) => t(op, ...xs));
  const sessionFrame = fc.oneof(
    fc.tuple(ctrl, fc.option(fc.array(leaf, { maxLength: 4 }))).map(([c, p]) => pass(c, p === null ? undefined : p)),
    fc.uint8Array({ maxLength: 120 }).map((b) => frame32(concat(bytes(112), b))),
    fc.uint8Array({ maxLength: 120 }).map((b) => frame32(concat(bytes(VERSION, 68), b))),
    fc.uint8Array({ maxLength: 120 }).map((b) => frame32(concat(bytes(VERSION), b))),
    fc.constant(u32(0)),
  );
  const afterHs = fc.record({ bytes: fc.array(sessionFrame, { minLength: 1, maxLength: 5 }).map((fs) => concat(...fs)), pieces: fc.boolean(), session: fc.constant(true) });
  return fc.oneof(before, afterHs);
}
