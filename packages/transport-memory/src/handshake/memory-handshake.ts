import { randomBytes } from 'node:crypto';
import { atom, type Atom } from '@courier/term';
import { HandshakeError, UsageError, type Handshake, type HandshakeAction, type HandshakeArbiter, type HandshakeErrorCode } from '@courier/core';
import {
  BodyReader,
  CHALLENGE_BYTES,
  DEFAULT_MEMORY_FLAGS,
  DIGEST_BYTES,
  MemoryFlag,
  MessageReader,
  SEND_CHALLENGE,
  SEND_CHALLENGE_ACK,
  SEND_CHALLENGE_REPLY,
  SEND_NAME,
  SEND_REFUSAL,
  SEND_STATUS,
  digestsEqual,
  flagsCreation,
  frame,
  genDigest,
  nameField,
  parseStatus,
  text,
} from './messages.js';

export interface MemoryHandshakeOptions {
  readonly role: 'initiator' | 'acceptor';
  readonly self: Atom;
  readonly creation: number;
  /** The shared secret. Never logged. */
  readonly cookie: string;
  /** Initiator: the node it dialed (the acceptor must answer with this name). */
  readonly peer?: Atom;
  /** Acceptor: the node's answer to an incoming attempt (simultaneous connects, refusals). */
  readonly arbiter?: HandshakeArbiter;
  /** Capabilities advertised (default PUBLISHED | SEND_SENDER | EXIT_PAYLOAD). */
  readonly flags?: bigint;
  /** Source of challenges (tests inject a fixed one). */
  readonly random?: (n: number) => Uint8Array;
}

export type MemoryHandshakeState =
  | 'start'
  | 'recvStatus' // initiator
  | 'recvChallenge' // initiator
  | 'recvChallengeAck' // initiator
  | 'recvName' // acceptor
  | 'recvStatusReply' // acceptor, after "alive"
  | 'recvChallengeReply' // acceptor
  | 'done'
  | 'failed';

const REFUSAL_CODES: readonly string[] = ['BAD_COOKIE', 'NOT_ALLOWED'];
const write = (bytes: Uint8Array): HandshakeAction => ({ type: 'write', bytes });

/**
 * The in-memory carrier's handshake, sans-IO, as a short explicit state machine (after
 * dist_util.erl): names and creations are exchanged, the acceptor asks its node's arbiter for
 * the status (OTP semantics for simultaneous connects), then each side proves it knows the
 * cookie by an HMAC-SHA256 of the other's fresh challenge. The acceptor checks first and tells a
 * peer with the wrong cookie so (`BAD_COOKIE`) before closing.
 */
export class MemoryHandshake implements Handshake {
  private state: MemoryHandshakeState;
  private readonly reader = new MessageReader();
  private readonly flags: bigint;
  private readonly challenge: Uint8Array;
  private peer: Atom | undefined;
  private peerFlags = 0n;
  private peerCreation = 0;

  constructor(private readonly opts: MemoryHandshakeOptions) {
    if (opts.role === 'initiator' && opts.peer === undefined) throw new UsageError('BAD_OPTIONS', 'an initiating handshake needs the peer it dialed');
    if (opts.role === 'acceptor' && opts.arbiter === undefined) throw new UsageError('BAD_OPTIONS', 'an accepting handshake needs an arbiter');
    this.state = opts.role === 'initiator' ? 'start' : 'recvName';
    this.flags = opts.flags ?? DEFAULT_MEMORY_FLAGS;
    this.challenge = (opts.random ?? randomBytes)(CHALLENGE_BYTES);
    this.peer = opts.peer;
  }

  /** The current step, for logs and tests. */
  get step(): MemoryHandshakeState {
    return this.state;
  }

  private over(): boolean {
    return this.state === 'done' || this.state === 'failed';
  }

  start(): HandshakeAction[] {
    if (this.state !== 'start') return [];
    this.state = 'recvStatus';
    return [write(this.sendName())];
  }

  receive(bytes: Uint8Array): HandshakeAction[] {
    if (this.over()) return [];
    const out: HandshakeAction[] = [];
    try {
      if (this.state === 'start') throw this.error('BAD_MESSAGE', 'the peer spoke before our sendName');
      this.reader.push(bytes);
      for (let m = this.reader.next(); m !== undefined; m = this.over() ? undefined : this.reader.next()) {
        this.dispatch(m.tag, new BodyReader(m.body, tagText(m.tag)), out);
      }
    } catch (e) {
      if (!(e instanceof HandshakeError)) throw e;
      this.state = 'failed';
      out.push({ type: 'fail', error: e });
    }
    return out;
  }

  private dispatch(tag: number, body: BodyReader, out: HandshakeAction[]): void {
    if (tag === SEND_REFUSAL && this.opts.role === 'initiator') {
      const code = body.rest();
      throw this.error(REFUSAL_CODES.includes(code) ? (code as HandshakeErrorCode) : 'BAD_MESSAGE', `the peer refused the connection: ${code}`);
    }
    const expected = EXPECTED[this.state];
    if (tag !== expected) throw this.error('BAD_MESSAGE', `expected ${tagText(expected)} in state ${this.state}, got ${tagText(tag)}`);
    switch (this.state) {
      case 'recvStatus':
        return this.recvStatus(body, out);
      case 'recvChallenge':
        return this.recvChallenge(body, out);
      case 'recvChallengeAck':
        return this.recvChallengeAck(body, out);
      case 'recvName':
        return this.recvName(body, out);
      case 'recvStatusReply':
        return this.recvStatusReply(body, out);
      case 'recvChallengeReply':
        return this.recvChallengeReply(body, out);
      default:
        throw this.error('BAD_MESSAGE', `no message expected in state ${this.state}`);
    }
  }

  // ---- initiator ------------------------------------------------------------------------

  private sendName(): Uint8Array {
    return frame(SEND_NAME, flagsCreation(this.flags, this.opts.creation), nameField(this.opts.self.name));
  }

  private recvStatus(body: BodyReader, out: HandshakeAction[]): void {
    const status = parseStatus(body.rest());
    switch (status) {
      case 'ok':
      case 'ok_simultaneous':
        break;
      case 'alive':
        // The peer holds a connection we do not have: we are still dialing, so it is stale.
        out.push(write(frame(SEND_STATUS, text('true'))));
        break;
      case 'nok':
        throw this.error('NOK', 'the peer is connecting to us at the same time and its attempt wins');
      case 'not_allowed':
        throw this.error('NOT_ALLOWED', 'the peer does not allow this node to connect');
    }
    this.state = 'recvChallenge';
  }

  private recvChallenge(body: BodyReader, out: HandshakeAction[]): void {
    // <<'C', Flags:64, Creation:32, Challenge:16/binary, Nlen:16, Name>>
    this.peerFlags = body.u64();
    this.peerCreation = body.u32();
    const theirs = body.bytes(CHALLENGE_BYTES);
    const name = body.name();
    if (name !== this.opts.peer?.name) throw this.error('NAME_MISMATCH', `dialed ${this.opts.peer?.name} but ${name} answered`);
    out.push(write(frame(SEND_CHALLENGE_REPLY, this.challenge, genDigest(this.opts.cookie, 'r', theirs))));
    this.state = 'recvChallengeAck';
  }

  private recvChallengeAck(body: BodyReader, out: HandshakeAction[]): void {
    // <<'a', Digest:32/binary>>
    const digest = body.bytes(DIGEST_BYTES);
    if (!digestsEqual(digest, genDigest(this.opts.cookie, 'a', this.challenge))) {
      throw this.error('BAD_COOKIE', 'the peer answered our challenge with the wrong digest (the cookies differ)');
    }
    this.finish(out);
  }

  // ---- acceptor -------------------------------------------------------------------------

  private recvName(body: BodyReader, out: HandshakeAction[]): void {
    // <<'N', Flags:64, Creation:32, Nlen:16, Name>>
    this.peerFlags = body.u64();
    this.peerCreation = body.u32();
    const peer = atom(body.name());
    this.peer = peer;
    const status = (this.opts.arbiter as HandshakeArbiter).acceptPending(peer);
    out.push(write(frame(SEND_STATUS, text(status))));
    switch (status) {
      case 'ok':
      case 'ok_simultaneous':
        out.push(write(this.sendChallenge()));
        this.state = 'recvChallengeReply';
        return;
      case 'alive':
        this.state = 'recvStatusReply';
        return;
      case 'nok':
        throw this.error('NOK', `${peer.name} is connecting while our own attempt to it is under way and wins`);
      case 'not_allowed':
        throw this.error('NOT_ALLOWED', `${peer.name} is not allowed to connect`);
    }
  }

  private recvStatusReply(body: BodyReader, out: HandshakeAction[]): void {
    const reply = body.rest();
    if (reply === 'false') throw this.error('ALREADY_CONNECTED', `${this.peer?.name} keeps its existing connection`);
    if (reply !== 'true') throw this.error('BAD_MESSAGE', `status reply ${JSON.stringify(reply)} is neither true nor false`);
    out.push(write(this.sendChallenge()));
    this.state = 'recvChallengeReply';
  }

  private sendChallenge(): Uint8Array {
    return frame(SEND_CHALLENGE, flagsCreation(this.flags, this.opts.creation), this.challenge, nameField(this.opts.self.name));
  }

  private recvChallengeReply(body: BodyReader, out: HandshakeAction[]): void {
    // <<'r', Challenge:16/binary, Digest:32/binary>>
    const theirs = body.bytes(CHALLENGE_BYTES);
    const digest = body.bytes(DIGEST_BYTES);
    if (!digestsEqual(digest, genDigest(this.opts.cookie, 'r', this.challenge))) {
      out.push(write(frame(SEND_REFUSAL, text('BAD_COOKIE'))));
      throw this.error('BAD_COOKIE', `${this.peer?.name} answered our challenge with the wrong digest (the cookies differ)`);
    }
    out.push(write(frame(SEND_CHALLENGE_ACK, genDigest(this.opts.cookie, 'a', theirs))));
    this.finish(out);
  }

  // ---- both -----------------------------------------------------------------------------

  private finish(out: HandshakeAction[]): void {
    this.state = 'done';
    const flags = this.flags & this.peerFlags;
    out.push({
      type: 'done',
      result: {
        peer: this.peer as Atom,
        peerCreation: this.peerCreation,
        flags,
        tail: this.reader.rest(),
        hidden: (flags & MemoryFlag.PUBLISHED) === 0n,
      },
    });
  }

  private error(code: HandshakeErrorCode, message: string): HandshakeError {
    return new HandshakeError(code, message);
  }
}

const EXPECTED: Record<MemoryHandshakeState, number> = {
  start: -1,
  recvStatus: SEND_STATUS,
  recvChallenge: SEND_CHALLENGE,
  recvChallengeAck: SEND_CHALLENGE_ACK,
  recvName: SEND_NAME,
  recvStatusReply: SEND_STATUS,
  recvChallengeReply: SEND_CHALLENGE_REPLY,
  done: -1,
  failed: -1,
};

function tagText(tag: number): string {
  return tag >= 0x20 && tag < 0x7f ? `'${String.fromCharCode(tag)}'` : `tag ${tag}`;
}
