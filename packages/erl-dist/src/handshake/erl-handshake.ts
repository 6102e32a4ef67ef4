import { atom, provisionalAtom, type Atom } from '@courier/term';
import { HandshakeError, type Handshake, type HandshakeAction, type HandshakeArbiter } from '@courier/core';
import { COURIER_FLAGS, DFLAG, expandFlags, missingFlags } from './flags.js';
import { checkNodeName } from './node-name.js';
import { md5 } from './md5.js';

/**
 * The Erlang distribution handshake, version 6 (erl_dist_protocol "Distribution Handshake";
 * OTP's dist_util.erl), as a sans-IO state machine for both roles. Bytes in, actions out.
 *
 *   A (initiator)                       B (acceptor)
 *   sendName 'N' ───────────────────▶  recvName
 *                ◀─────────────────── sendStatus 's' ok | ok_simultaneous | nok | not_allowed | alive
 *   (alive: 's' true|false) ────────▶
 *                ◀─────────────────── sendChallenge 'N'
 *   sendChallengeReply 'r' ─────────▶ recvChallengeReply (checks A's digest)
 *                ◀─────────────────── sendChallengeAck 'a'
 *   recvChallengeAck (checks B's digest)
 *
 * Messages are framed with a 2-byte length over TCP and a 4-byte length over TLS (inet_tls_dist
 * keeps {packet,4} from the first byte).
 */
const SEND_NAME = 0x4e; // 'N' (v6 send_name and challenge share the tag)
const OLD_SEND_NAME = 0x6e; // 'n'
const STATUS = 0x73; // 's'
const CHALLENGE_REPLY = 0x72; // 'r'
const CHALLENGE_ACK = 0x61; // 'a'

/** Hard cap on a handshake message: names are ≤ 255 bytes, so anything near this is hostile. */
const MAX_MESSAGE = 2048;

/**
 * Options of an {@link ErlHandshake}: the role, both names, the cookie, flags, and the framing (2-byte
 * lengths over TCP, 4 over TLS).
 */
export interface ErlHandshakeOptions {
  readonly role: 'initiator' | 'acceptor';
  readonly self: Atom;
  readonly creation: number;
  /** The node we dial (initiator only): its answer must carry this name. */
  readonly peer?: Atom;
  /** The cookie to use with a peer (per-peer cookies as net_kernel's set_cookie/2). */
  readonly cookie: (peer: Atom) => string;
  /** Advertise PUBLISHED (visible in nodes()) or not (hidden). */
  readonly hidden: boolean;
  readonly arbiter?: HandshakeArbiter;
  /** 2 over TCP, 4 over TLS. */
  readonly lengthBytes: 2 | 4;
  /** For tests: fixed challenge. */
  readonly challenge?: number;
}

type State = 'idle' | 'recv_name' | 'recv_status' | 'recv_alive_answer' | 'recv_challenge' | 'recv_reply' | 'recv_ack' | 'done' | 'failed';

/** MD5(Cookie ++ integer_to_list(Challenge)), the challenge read as unsigned 32-bit. */
export function genDigest(challenge: number, cookie: string): Uint8Array {
  return md5(latin1(cookie + String(challenge >>> 0)));
}

// The handshake is plain Uint8Array work (no node:crypto, no Node byte buffers), so that it also
// runs in a browser node (@courier/transport-ws).
const utf8Encoder = new TextEncoder();

/** Bytes of a string whose characters are all < 256 (cookies are such in Erlang: a list of bytes). */
function latin1(s: string): Uint8Array {
  const b = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i) & 0xff;
  return b;
}

function latin1Text(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i] as number);
  return s;
}

function view(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] as number) ^ (b[i] as number);
  return diff === 0;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

function randomChallenge(): number {
  const b = new Uint32Array(1);
  globalThis.crypto.getRandomValues(b);
  return b[0] as number;
}

const EMPTY = new Uint8Array(0);

/**
 * The Erlang distribution handshake, version 6 (OTP's dist_util.erl), as a sans-IO state machine for both
 * roles: sendName, recvStatus, challenge, challenge reply and ack, with the cookie digests checked both
 * ways.
 */
export class ErlHandshake implements Handshake {
  private state: State = 'idle';
  private buf: Uint8Array = EMPTY;
  private readonly myChallenge: number;
  private readonly myFlags: bigint;
  private peerName: Atom | undefined;
  private peerFlags = 0n;
  private peerCreation = 0;
  private cookie = '';

  constructor(private readonly opts: ErlHandshakeOptions) {
    this.myChallenge = opts.challenge ?? randomChallenge();
    this.myFlags = COURIER_FLAGS | (opts.hidden ? 0n : DFLAG.PUBLISHED);
    this.peerName = opts.peer;
  }

  get peer(): Atom | undefined {
    return this.peerName;
  }

  start(): HandshakeAction[] {
    if (this.opts.role === 'acceptor') {
      this.state = 'recv_name';
      return [];
    }
    this.state = 'recv_status';
    return [this.write(this.sendName())];
  }

  receive(bytes: Uint8Array): HandshakeAction[] {
    if (this.state === 'done' || this.state === 'failed') return [];
    this.buf = this.buf.length === 0 ? bytes : concat(this.buf, bytes);
    const out: HandshakeAction[] = [];
    for (;;) {
      const lb = this.opts.lengthBytes;
      if (this.buf.length < lb) break;
      const len = lb === 2 ? view(this.buf).getUint16(0) : view(this.buf).getUint32(0);
      if (len === 0 || len > MAX_MESSAGE) return this.fail(out, 'BAD_MESSAGE', `handshake message of ${len} bytes`);
      if (this.buf.length < lb + len) break;
      const msg = this.buf.subarray(lb, lb + len);
      this.buf = this.buf.subarray(lb + len);
      this.step(msg, out);
      if (this.finished()) break;
    }
    return out;
  }

  closedByPeer(): HandshakeError | undefined {
    if (this.state === 'recv_ack') {
      return new HandshakeError('BAD_COOKIE', `${this.peerName?.name ?? 'the peer'} closed the connection after our challenge reply: it refused our digest, so the cookies differ`);
    }
    if (this.state === 'recv_status' || this.state === 'recv_challenge') {
      return new HandshakeError(
        'NOT_ALLOWED',
        `${this.peerName?.name ?? 'the peer'} closed the connection before the challenge: it refused us (check net_kernel:allow/1 and the node name; a node that accepts only TLS closes a plain TCP connection the same way: dial it over TLS, e.g. --carrier tls)`,
      );
    }
    return undefined;
  }

  private finished(): boolean {
    return this.state === 'done' || this.state === 'failed';
  }

  private step(m: Uint8Array, out: HandshakeAction[]): void {
    switch (this.state) {
      case 'recv_name':
        return this.recvName(m, out);
      case 'recv_status':
        return this.recvStatus(m, out);
      case 'recv_alive_answer':
        return this.recvAliveAnswer(m, out);
      case 'recv_challenge':
        return this.recvChallenge(m, out);
      case 'recv_reply':
        return this.recvChallengeReply(m, out);
      case 'recv_ack':
        return this.recvChallengeAck(m, out);
      default:
        this.fail(out, 'BAD_MESSAGE', `unexpected handshake message in state ${this.state}`);
    }
  }

  // ---- initiator ---------------------------------------------------------------------------

  /** 'N' Flags:64 Creation:32 Nlen:16 Name */
  private sendName(): Uint8Array {
    const name = utf8Encoder.encode(this.opts.self.name);
    const b = new Uint8Array(1 + 8 + 4 + 2 + name.length);
    const v = view(b);
    b[0] = SEND_NAME;
    v.setBigUint64(1, this.myFlags);
    v.setUint32(9, this.opts.creation >>> 0);
    v.setUint16(13, name.length);
    b.set(name, 15);
    return b;
  }

  private recvStatus(m: Uint8Array, out: HandshakeAction[]): void {
    if (m[0] !== STATUS) return void this.fail(out, 'BAD_MESSAGE', `expected status, got tag ${m[0]}`);
    const status = latin1Text(m.subarray(1));
    switch (status) {
      case 'ok':
      case 'ok_simultaneous':
        this.state = 'recv_challenge';
        return;
      case 'alive':
        // The peer thinks we are already connected; we are dialing, so that connection is stale.
        out.push(this.write(latin1('strue')));
        this.state = 'recv_challenge';
        return;
      case 'nok':
        return void this.fail(out, 'NOK', 'the peer is connecting to us at the same time and its attempt wins');
      case 'not_allowed':
        return void this.fail(out, 'NOT_ALLOWED', 'the peer refused the connection (not_allowed): check its net_kernel:allow/1 list and that it accepts our flags');
      default:
        return void this.fail(out, 'BAD_MESSAGE', `unknown handshake status ${JSON.stringify(status.slice(0, 40))}`);
    }
  }

  /** 'N' Flags:64 Challenge:32 Creation:32 Nlen:16 Name [extra ignored] */
  private recvChallenge(m: Uint8Array, out: HandshakeAction[]): void {
    if (m[0] !== SEND_NAME || m.length < 19) return void this.fail(out, 'BAD_MESSAGE', 'malformed challenge');
    const mv = view(m);
    const flags = mv.getBigUint64(1);
    const challenge = mv.getUint32(9);
    const creation = mv.getUint32(13);
    const nlen = mv.getUint16(17);
    if (m.length < 19 + nlen) return void this.fail(out, 'BAD_MESSAGE', 'truncated name in challenge');
    const checked = checkNodeName(m.subarray(19, 19 + nlen));
    if (!checked.ok) return void this.fail(out, 'BAD_MESSAGE', `the challenge names no valid node: ${checked.reason}`);
    const name = checked.name;
    const missing = missingFlags(flags);
    if (missing.length > 0) {
      return void this.fail(out, 'MISSING_FLAGS', `connection to ${name} aborted: it cannot handle ${missing.join(', ')}`);
    }
    if (this.opts.peer !== undefined && name !== this.opts.peer.name) {
      return void this.fail(out, 'NAME_MISMATCH', `dialed ${this.opts.peer.name} but the node there is ${name}`);
    }
    this.peerName = this.opts.peer ?? provisionalAtom(name);
    this.peerFlags = expandFlags(flags);
    this.peerCreation = creation;
    this.cookie = this.opts.cookie(this.peerName);
    // 'r' Challenge:32 Digest:16
    const r = new Uint8Array(21);
    r[0] = CHALLENGE_REPLY;
    view(r).setUint32(1, this.myChallenge);
    r.set(genDigest(challenge, this.cookie), 5);
    out.push(this.write(r));
    this.state = 'recv_ack';
  }

  private recvChallengeAck(m: Uint8Array, out: HandshakeAction[]): void {
    if (m[0] !== CHALLENGE_ACK || m.length !== 17) return void this.fail(out, 'BAD_MESSAGE', 'malformed challenge_ack');
    if (!sameBytes(m.subarray(1), genDigest(this.myChallenge, this.cookie))) {
      return void this.fail(out, 'BAD_COOKIE', `${this.peerName?.name} answered with a digest for another cookie: set the same cookie on both nodes`);
    }
    this.finish(out);
  }

  // ---- acceptor ----------------------------------------------------------------------------

  /** 'N' Flags:64 Creation:32 Nlen:16 Name */
  private recvName(m: Uint8Array, out: HandshakeAction[]): void {
    if (m[0] === OLD_SEND_NAME) {
      return void this.fail(out, 'BAD_MESSAGE', 'the peer sent an old (v5) send_name: only OTP 25+ handshakes (v6) are supported');
    }
    if (m[0] !== SEND_NAME || m.length < 15) return void this.fail(out, 'BAD_MESSAGE', 'malformed send_name');
    const mv = view(m);
    const flags = mv.getBigUint64(1);
    const creation = mv.getUint32(9);
    const nlen = mv.getUint16(13);
    if (m.length < 15 + nlen || nlen === 0) return void this.fail(out, 'BAD_MESSAGE', 'truncated name in send_name');
    if ((flags & DFLAG.NAME_ME) !== 0n) {
      out.push(this.write(latin1('snot_allowed')));
      return void this.fail(out, 'NOT_ALLOWED', 'the peer asked for a dynamic name (NAME_ME), which Courier does not hand out');
    }
    const checked = checkNodeName(m.subarray(15, 15 + nlen));
    if (!checked.ok) {
      out.push(this.write(latin1('snot_allowed')));
      return void this.fail(out, 'BAD_MESSAGE', `send_name names no valid node: ${checked.reason}`);
    }
    const name = checked.name;
    const missing = missingFlags(flags);
    if (missing.length > 0) {
      out.push(this.write(latin1('snot_allowed')));
      return void this.fail(out, 'MISSING_FLAGS', `connection from ${name} rejected: it cannot handle ${missing.join(', ')}`);
    }
    // No atom before the peer has authenticated: a stand-in until finish() (node-name.ts).
    this.peerName = provisionalAtom(name);
    this.peerFlags = expandFlags(flags);
    this.peerCreation = creation;
    this.cookie = this.opts.cookie(this.peerName);
    const status = this.opts.arbiter?.acceptPending(this.peerName) ?? 'ok';
    out.push(this.write(latin1('s' + status)));
    switch (status) {
      case 'ok':
      case 'ok_simultaneous':
        return this.sendChallenge(out);
      case 'alive':
        this.state = 'recv_alive_answer';
        return;
      case 'nok':
        return void this.fail(out, 'NOK', `simultaneous connect with ${name}: our own attempt wins`);
      case 'not_allowed':
        return void this.fail(out, 'NOT_ALLOWED', `connection from ${name} not allowed`);
    }
  }

  private recvAliveAnswer(m: Uint8Array, out: HandshakeAction[]): void {
    const answer = latin1Text(m);
    if (answer === 'strue') return this.sendChallenge(out);
    if (answer === 'sfalse') return void this.fail(out, 'ALREADY_CONNECTED', `${this.peerName?.name} keeps its existing connection`);
    this.fail(out, 'BAD_MESSAGE', 'expected strue or sfalse');
  }

  /** 'N' Flags:64 Challenge:32 Creation:32 Nlen:16 Name */
  private sendChallenge(out: HandshakeAction[]): void {
    const name = utf8Encoder.encode(this.opts.self.name);
    const b = new Uint8Array(1 + 8 + 4 + 4 + 2 + name.length);
    const v = view(b);
    b[0] = SEND_NAME;
    v.setBigUint64(1, this.myFlags);
    v.setUint32(9, this.myChallenge);
    v.setUint32(13, this.opts.creation >>> 0);
    v.setUint16(17, name.length);
    b.set(name, 19);
    out.push(this.write(b));
    this.state = 'recv_reply';
  }

  /** 'r' Challenge:32 Digest:16 */
  private recvChallengeReply(m: Uint8Array, out: HandshakeAction[]): void {
    if (m[0] !== CHALLENGE_REPLY || m.length !== 21) return void this.fail(out, 'BAD_MESSAGE', 'malformed challenge_reply');
    const theirChallenge = view(m).getUint32(1);
    if (!sameBytes(m.subarray(5), genDigest(this.myChallenge, this.cookie))) {
      return void this.fail(out, 'BAD_COOKIE', `${this.peerName?.name} used another cookie: connection refused (set the same cookie on both nodes)`);
    }
    const a = new Uint8Array(17);
    a[0] = CHALLENGE_ACK;
    a.set(genDigest(theirChallenge, this.cookie), 1);
    out.push(this.write(a));
    this.finish(out);
  }

  // ---- common ------------------------------------------------------------------------------

  private finish(out: HandshakeAction[]): void {
    this.state = 'done';
    const tail = this.buf.slice();
    this.buf = EMPTY;
    out.push({
      type: 'done',
      result: {
        // Authenticated now: the name may become an atom.
        peer: atom((this.peerName as Atom).name),
        peerCreation: this.peerCreation,
        flags: this.myFlags & this.peerFlags,
        tail,
        hidden: (this.peerFlags & DFLAG.PUBLISHED) === 0n || this.opts.hidden,
      },
    });
  }

  private write(body: Uint8Array): HandshakeAction {
    const lb = this.opts.lengthBytes;
    const b = new Uint8Array(lb + body.length);
    if (lb === 2) view(b).setUint16(0, body.length);
    else view(b).setUint32(0, body.length);
    b.set(body, lb);
    return { type: 'write', bytes: b };
  }

  private fail(out: HandshakeAction[], code: ConstructorParameters<typeof HandshakeError>[0], msg: string): HandshakeAction[] {
    this.state = 'failed';
    out.push({ type: 'fail', error: new HandshakeError(code, msg) });
    return out;
  }
}
