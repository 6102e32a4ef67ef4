import { describe, expect, it } from 'vitest';
import { Encoder, Pid, Port, Tuple, atom, type Atom } from '@courier/term';
import { Node, silentLogger, type Carrier, type CarrierReceiver, type HandshakeAction, type HandshakeResult } from '@courier/core';
import { ErlHandshake, genDigest } from '../../src/handshake/erl-handshake.js';
import { COURIER_FLAGS, DFLAG, MANDATORY_25 } from '../../src/handshake/flags.js';
import { ErlSession } from '../../src/session/erl-session.js';

/**
 * What OTP 26, 27 and 28 add or change on the wire, against frames built from OTP's sources and
 * documentation (none of them can be installed here; OTP 25 is tested live):
 * - kernel/include/dist.hrl (OTP 26+): MANDATORY_DFLAGS_26 = V4_NC | UNLINK_ID; DFLAG_ALTACT_SIG =
 *   16#20 bsl 32 (OTP 26); OTP 27 requires MANDATORY_25_DIGEST and may leave the 11 flags it stands
 *   for unset (their bits then mean nothing); BIG_CREATION has been mandatory since OTP 23.
 * - erl_dist_protocol "Link Protocol": UNLINK_ID {35, Id, From, To} must be answered with
 *   UNLINK_ID_ACK {36, Id, To, From} before anything else to that process.
 * - erl_ext_dist: V4_PORT_EXT (120) only to a peer that set DFLAG_V4_NC.
 */
const ALTACT_SIG = 0x20n << 32n;
/** The flags an OTP 26–28 node sends (dist_util:make_this_flags/3 with the defaults): 25's digest, 26's mandatory pair, its optional ones. */
const OTP26_FLAGS =
  DFLAG.MANDATORY_25_DIGEST |
  DFLAG.V4_NC |
  DFLAG.UNLINK_ID |
  DFLAG.PUBLISHED |
  DFLAG.DIST_MONITOR |
  DFLAG.DIST_MONITOR_NAME |
  DFLAG.UNICODE_IO |
  DFLAG.DIST_HDR_ATOM_CACHE |
  DFLAG.SMALL_ATOM_TAGS |
  DFLAG.SEND_SENDER |
  DFLAG.BIG_SEQTRACE_LABELS |
  DFLAG.EXIT_PAYLOAD |
  DFLAG.FRAGMENTS |
  DFLAG.SPAWN |
  DFLAG.ALIAS |
  ALTACT_SIG;
const PEER = 'otp26@127.0.0.1';
const COOKIE = 'secret';

const body = (a: HandshakeAction): Uint8Array => (a as { bytes: Uint8Array }).bytes.subarray(2);
const framed = (b: Uint8Array): Uint8Array => {
  const f = new Uint8Array(2 + b.length);
  new DataView(f.buffer).setUint16(0, b.length);
  f.set(b, 2);
  return f;
};

/** send_name 'N' Flags:64 Creation:32 Nlen:16 Name, as dist_util:send_name/1 writes it. */
function sendName(flags: bigint, creation: number, name = PEER): Uint8Array {
  const n = new TextEncoder().encode(name);
  const b = new Uint8Array(15 + n.length);
  const v = new DataView(b.buffer);
  b[0] = 0x4e;
  v.setBigUint64(1, flags);
  v.setUint32(9, creation);
  v.setUint16(13, n.length);
  b.set(n, 15);
  return framed(b);
}

/** Run Courier's acceptor against an OTP 26–28 initiator to the end; returns Courier's challenge flags and the result. */
function acceptFrom(flags: bigint): { courierFlags: bigint; result?: HandshakeResult; fail?: string } {
  const h = new ErlHandshake({
    role: 'acceptor',
    self: atom('courier@127.0.0.1'),
    creation: 77,
    cookie: () => COOKIE,
    hidden: false,
    arbiter: { acceptPending: () => 'ok' },
    lengthBytes: 2,
  });
  h.start();
  const a1 = h.receive(sendName(flags, 0x5f00_0001));
  const fail = a1.find((a) => a.type === 'fail');
  if (fail !== undefined) return { courierFlags: 0n, fail: (fail as { error: { code: string } }).error.code };
  const challengeMsg = body(a1[1] as HandshakeAction);
  const cv = new DataView(challengeMsg.buffer, challengeMsg.byteOffset);
  const courierFlags = cv.getBigUint64(1);
  const challenge = cv.getUint32(9);
  // challenge_reply 'r' Challenge:32 Digest:16
  const r = new Uint8Array(21);
  r[0] = 0x72;
  new DataView(r.buffer).setUint32(1, 1234);
  r.set(genDigest(challenge, COOKIE), 5);
  const a2 = h.receive(framed(r));
  const done = a2.find((a) => a.type === 'done') as { result: HandshakeResult } | undefined;
  return { courierFlags, result: done?.result };
}

describe('handshake with an OTP 26–28 peer (frames from dist.hrl / dist_util.erl)', () => {
  it('Courier advertises what OTP 26+ requires of a peer: the 25 set, V4_NC, UNLINK_ID (BIG_CREATION among them)', () => {
    const { courierFlags } = acceptFrom(OTP26_FLAGS);
    const required = MANDATORY_25 | DFLAG.V4_NC | DFLAG.UNLINK_ID;
    expect(courierFlags & required).toBe(required);
    expect(courierFlags & DFLAG.BIG_CREATION).toBe(DFLAG.BIG_CREATION);
    // And the digest OTP 27+ requires.
    expect(courierFlags & DFLAG.MANDATORY_25_DIGEST).toBe(DFLAG.MANDATORY_25_DIGEST);
    // Nothing it does not implement: no ALTACT_SIG, no NAME_ME, no atom cache.
    expect(courierFlags & (ALTACT_SIG | DFLAG.NAME_ME | DFLAG.DIST_HDR_ATOM_CACHE)).toBe(0n);
  });

  it('an OTP 27+ peer sending only MANDATORY_25_DIGEST (the 11 flags it stands for unset) and ALTACT_SIG is accepted; ALTACT_SIG is not negotiated', () => {
    const { result, fail } = acceptFrom(OTP26_FLAGS);
    expect(fail).toBeUndefined();
    expect(result?.peer.name).toBe(PEER);
    expect(result?.peerCreation).toBe(0x5f00_0001);
    expect((result?.flags ?? 0n) & (DFLAG.V4_NC | DFLAG.UNLINK_ID | DFLAG.BIG_CREATION)).toBe(DFLAG.V4_NC | DFLAG.UNLINK_ID | DFLAG.BIG_CREATION);
    expect((result?.flags ?? 0n) & ALTACT_SIG).toBe(0n);
    expect(result?.hidden).toBe(false);
  });

  it('a peer without BIG_CREATION (pre-OTP 23) is refused, naming the flag', () => {
    const flags = (MANDATORY_25 & ~DFLAG.BIG_CREATION) | DFLAG.PUBLISHED;
    expect(acceptFrom(flags).fail).toBe('MISSING_FLAGS');
  });

  it('a peer that does not publish makes the connection hidden (dist_util publish_type), though we are visible', () => {
    const { result } = acceptFrom(OTP26_FLAGS & ~DFLAG.PUBLISHED);
    expect(result?.hidden).toBe(true);
  });

  it('an OTP 26 NAME_ME initiator (dynamic name) is answered not_allowed', () => {
    const h = new ErlHandshake({
      role: 'acceptor',
      self: atom('courier@127.0.0.1'),
      creation: 77,
      cookie: () => COOKIE,
      hidden: false,
      arbiter: { acceptPending: () => 'ok' },
      lengthBytes: 2,
    });
    h.start();
    const out = h.receive(sendName((OTP26_FLAGS & ~DFLAG.PUBLISHED) | DFLAG.NAME_ME, 0, '127.0.0.1'));
    expect(new TextDecoder().decode(body(out[0] as HandshakeAction))).toBe('snot_allowed');
  });
});

class Wire implements Carrier {
  readonly remote = 'fake';
  readonly out: Uint8Array[] = [];
  write(c: Uint8Array): boolean {
    this.out.push(c.slice());
    return true;
  }
  setReceiver(_r: CarrierReceiver): void {}
  pause(): void {}
  resume(): void {}
  close(): void {}
  abort(): void {}
}

/** A distribution frame as an OTP 26 node sends it with FRAGMENTS: <<Len:32, 131, 68, 0, Control>> (no atom cache refs). */
function distFrame(control: Tuple): Uint8Array {
  const e = new Encoder();
  e.writeTerm(control);
  const t = e.take();
  const f = new Uint8Array(4 + 3 + t.length);
  new DataView(f.buffer).setUint32(0, 3 + t.length);
  f.set([131, 68, 0], 4);
  f.set(t, 7);
  return f;
}

async function written(w: Wire): Promise<Uint8Array> {
  await new Promise((r) => process.nextTick(r));
  const all = Buffer.concat(w.out);
  w.out.length = 0;
  return all;
}

describe('control messages with an OTP 26–28 peer', () => {
  function rig(negotiated: bigint): { node: Node; s: ErlSession; wire: Wire; peer: Atom } {
    const node = new Node({ name: 'courier@127.0.0.1' });
    const peer = atom(PEER);
    const wire = new Wire();
    const s = new ErlSession(wire, node, { peer, flags: negotiated, hidden: false, carrierName: 'fake', log: silentLogger });
    node.dist.attach(s);
    return { node, s, wire, peer };
  }

  it('UNLINK_ID {35, Id, From, To} is answered UNLINK_ID_ACK {36, Id, To, From} before anything else to that process', async () => {
    const { node, s, wire, peer } = rig(COURIER_FLAGS & OTP26_FLAGS);
    const local = node.spawn(async (self) => {
      await self.receive();
    });
    const remote = new Pid(peer, 99, 0, 0x5f00_0001);
    s.onData(distFrame(new Tuple([1, remote, local])));
    const id = 0xffff_ffff_0000_0001n;
    s.onData(distFrame(new Tuple([35, id, remote, local])));
    const out = await written(wire);
    const e = new Encoder();
    e.writeTerm(new Tuple([36, id, local, remote]));
    const ack = e.take();
    // <<Len:32, 131, 68, 0, {36, Id, Local, Remote}>> and nothing before it.
    expect([...out.subarray(4, 7)]).toEqual([131, 68, 0]);
    expect(Buffer.from(out.subarray(7, 7 + ack.length)).equals(Buffer.from(ack))).toBe(true);
    expect(out.length).toBe(7 + ack.length);
    s.close();
  });

  it('a port goes out as V4_PORT_EXT (120) to a V4_NC peer, as NEW_PORT_EXT (89) to one without', async () => {
    const port = new Port(atom(PEER), 7, 3);
    const to = new Pid(atom(PEER), 1, 0, 3);
    const v4 = rig(COURIER_FLAGS & OTP26_FLAGS);
    v4.s.send({ op: 'send', to, msg: port });
    const a = await written(v4.wire);
    expect(a.includes(120)).toBe(true);
    expect(a.includes(89)).toBe(false);
    v4.s.close();
    const old = rig(COURIER_FLAGS & ~DFLAG.V4_NC);
    old.s.send({ op: 'send', to, msg: port });
    const b = await written(old.wire);
    const at = b.indexOf(89);
    expect(at).toBeGreaterThan(0);
    expect(b.includes(120)).toBe(false);
    // NEW_PORT_EXT: Node, ID:32, Creation:32 — the last 8 bytes of the frame.
    expect([...b.subarray(b.length - 8)]).toEqual([0, 0, 0, 7, 0, 0, 0, 3]);
    // A 64-bit port id cannot go to such a peer: refused, not truncated.
    expect(() => old.s.send({ op: 'send', to, msg: new Port(atom(PEER), 1n << 40n, 3) })).toThrow(/V4_NC/);
    old.s.close();
  });
});
