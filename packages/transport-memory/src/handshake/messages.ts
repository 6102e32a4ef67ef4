import { createHmac, timingSafeEqual } from 'node:crypto';
import { HandshakeError } from '@courier/core';

/**
 * The memory handshake's messages, shaped after the Erlang v6 handshake (dist_util.erl) with a
 * modern digest. Every message is `<<Len:16, Tag:8, Body/binary>>` (Len counts Tag and Body).
 *
 * ```
 * A→B sendName            <<'N', Flags:64, Creation:32, Nlen:16, Name:Nlen>>
 * B→A sendStatus          <<'s', Status/binary>>   ok | ok_simultaneous | nok | not_allowed | alive
 * A→B sendStatus (alive)  <<'s', "true" | "false">>
 * B→A sendChallenge       <<'C', Flags:64, Creation:32, ChallengeB:16/binary, Nlen:16, Name:Nlen>>
 * A→B sendChallengeReply  <<'r', ChallengeA:16/binary, DigestA:32/binary>>  DigestA = genDigest(Cookie, 'r', ChallengeB)
 * B→A sendChallengeAck    <<'a', DigestB:32/binary>>                        DigestB = genDigest(Cookie, 'a', ChallengeA)
 * B→A sendRefusal         <<'x', Code/binary>>    B refuses A's digest (BAD_COOKIE) before closing
 * ```
 */
export const SEND_NAME = 0x4e; // 'N'
export const SEND_STATUS = 0x73; // 's'
export const SEND_CHALLENGE = 0x43; // 'C'
export const SEND_CHALLENGE_REPLY = 0x72; // 'r'
export const SEND_CHALLENGE_ACK = 0x61; // 'a'
export const SEND_REFUSAL = 0x78; // 'x'

export const CHALLENGE_BYTES = 16;
export const DIGEST_BYTES = 32;
/** Longest node name accepted, in UTF-8 bytes (255 characters of up to 4 bytes). */
export const MAX_NAME_BYTES = 1020;

/** Capability flags, with the values of the Erlang distribution flags of the same name. */
export const MemoryFlag = {
  /** A visible node: listed by `nodes()`. */
  PUBLISHED: 0x1n,
  /** The node takes SEND_SENDER (22). */
  SEND_SENDER: 0x80000n,
  /** The node takes PAYLOAD_EXIT, PAYLOAD_EXIT2 and PAYLOAD_MONITOR_P_EXIT (24, 26, 28). */
  EXIT_PAYLOAD: 0x400000n,
} as const;

export const DEFAULT_MEMORY_FLAGS = MemoryFlag.PUBLISHED | MemoryFlag.SEND_SENDER | MemoryFlag.EXIT_PAYLOAD;

export type Status = 'ok' | 'ok_simultaneous' | 'nok' | 'alive' | 'not_allowed';
const STATUSES: readonly string[] = ['ok', 'ok_simultaneous', 'nok', 'alive', 'not_allowed'];

const enc = new TextEncoder();
const dec = new TextDecoder('utf-8', { fatal: true });

/** One message: the 16-bit length, the tag, the body parts. */
export function frame(tag: number, ...parts: Uint8Array[]): Uint8Array {
  let n = 1;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(2 + n);
  new DataView(out.buffer).setUint16(0, n);
  out[2] = tag;
  let at = 3;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export function text(s: string): Uint8Array {
  return enc.encode(s);
}

/** Flags:64, Creation:32 — the head of sendName and sendChallenge. */
export function flagsCreation(flags: bigint, creation: number): Uint8Array {
  const b = new Uint8Array(12);
  const dv = new DataView(b.buffer);
  dv.setBigUint64(0, flags);
  dv.setUint32(8, creation >>> 0);
  return b;
}

/** Nlen:16, Name. */
export function nameField(name: string): Uint8Array {
  const bytes = enc.encode(name);
  const b = new Uint8Array(2 + bytes.length);
  new DataView(b.buffer).setUint16(0, bytes.length);
  b.set(bytes, 2);
  return b;
}

/** HMAC-SHA256 keyed by the cookie over the purpose byte and the challenge. */
export function genDigest(cookie: string, purpose: 'r' | 'a', challenge: Uint8Array): Uint8Array {
  const h = createHmac('sha256', cookie);
  h.update(purpose);
  h.update(challenge);
  return new Uint8Array(h.digest());
}

export function digestsEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** A fresh copy (Buffer#slice would be a view into the caller's chunk). */
function copyOf(view: Uint8Array): Uint8Array {
  const out = new Uint8Array(view.length);
  out.set(view);
  return out;
}

const bad = (what: string): HandshakeError => new HandshakeError('BAD_MESSAGE', `malformed handshake message: ${what}`);

/** A message body, read front to back; any shortfall is a BAD_MESSAGE. */
export class BodyReader {
  private pos = 0;
  private readonly dv: DataView;

  constructor(
    private readonly body: Uint8Array,
    private readonly what: string,
  ) {
    this.dv = new DataView(body.buffer, body.byteOffset, body.byteLength);
  }

  private need(n: number): void {
    if (this.body.length - this.pos < n) throw bad(`${this.what} is too short`);
  }

  u16(): number {
    this.need(2);
    const v = this.dv.getUint16(this.pos);
    this.pos += 2;
    return v;
  }

  u32(): number {
    this.need(4);
    const v = this.dv.getUint32(this.pos);
    this.pos += 4;
    return v;
  }

  u64(): bigint {
    this.need(8);
    const v = this.dv.getBigUint64(this.pos);
    this.pos += 8;
    return v;
  }

  bytes(n: number): Uint8Array {
    this.need(n);
    const v = copyOf(this.body.subarray(this.pos, this.pos + n));
    this.pos += n;
    return v;
  }

  /** Nlen:16, Name: a node name `alive@host`. Bytes after it are ignored, as in Erlang. */
  name(): string {
    const n = this.u16();
    if (n === 0 || n > MAX_NAME_BYTES) throw bad(`${this.what} carries a name of ${n} bytes`);
    let s: string;
    try {
      s = dec.decode(this.bytes(n));
    } catch {
      throw bad(`${this.what} carries a name that is not UTF-8`);
    }
    if (s.indexOf('@') <= 0) throw bad(`${this.what} carries ${JSON.stringify(s)}, not a node name alive@host`);
    return s;
  }

  /** The rest of the body as text (status words, refusal codes). */
  rest(): string {
    const s = new TextDecoder().decode(this.body.subarray(this.pos));
    this.pos = this.body.length;
    return s;
  }
}

export function parseStatus(s: string): Status {
  if (!STATUSES.includes(s)) throw bad(`unknown status ${JSON.stringify(s)}`);
  return s as Status;
}

/**
 * Splits the incoming byte stream into handshake messages. Bytes past the last message taken
 * stay here: they are the session's first input (`rest()`).
 */
export class MessageReader {
  private buf: Uint8Array = new Uint8Array(0);
  private pos = 0;

  push(bytes: Uint8Array): void {
    if (this.pos === this.buf.length) {
      this.buf = bytes;
      this.pos = 0;
      return;
    }
    const left = this.buf.subarray(this.pos);
    const next = new Uint8Array(left.length + bytes.length);
    next.set(left);
    next.set(bytes, left.length);
    this.buf = next;
    this.pos = 0;
  }

  /** The next whole message (tag and body), or undefined until more bytes arrive. */
  next(): { tag: number; body: Uint8Array } | undefined {
    const avail = this.buf.length - this.pos;
    if (avail < 2) return undefined;
    // <<Len:16, Tag:8, Body:(Len-1)/binary>>
    const len = ((this.buf[this.pos] as number) << 8) | (this.buf[this.pos + 1] as number);
    if (len === 0) throw bad('empty message');
    if (avail < 2 + len) return undefined;
    const tag = this.buf[this.pos + 2] as number;
    const body = this.buf.subarray(this.pos + 3, this.pos + 2 + len);
    this.pos += 2 + len;
    return { tag, body };
  }

  /** Bytes received after the last message taken (a copy, owned by the caller). */
  rest(): Uint8Array {
    return copyOf(this.buf.subarray(this.pos));
  }
}
