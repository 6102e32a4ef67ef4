import fc from 'fast-check';
import type { ExchangeOptions } from './raw-exchange.js';

/**
 * Hostile input for the Erlang distribution port before authentication (erl_dist_protocol,
 * "Distribution Handshake"): every message is `Length:16 Body`; the first one an acceptor reads
 * is send_name `'N' Flags:64 Creation:32 Nlen:16 Name`.
 */
export const SEND_NAME = 0x4e; // 'N'
const OLD_SEND_NAME = 0x6e; // 'n'
const CHALLENGE_REPLY = 0x72; // 'r'
/** The flags OTP 25 requires of a peer (0x01070F94: dist_util's mandatory set). */
export const OTP25_FLAGS = 0x0107_0f94n;
const NAME_ME = 0x2_0000_0000n;

export interface NamedCase {
  readonly name: string;
  readonly bytes: Uint8Array;
  readonly opts?: ExchangeOptions;
  /** An invalid node name: the node must not answer `sok` (no challenge to such a peer). */
  readonly refuse?: boolean;
  /** Not `Length Body` handshake messages (another protocol, random bytes): never re-framed (tls-cases.ts). */
  readonly unframed?: boolean;
}

/** `<<Len:16, Body>>`. */
export function frame16(body: Uint8Array): Buffer {
  const b = Buffer.alloc(2 + body.length);
  b.writeUInt16BE(body.length & 0xffff, 0);
  b.set(body, 2);
  return b;
}

/** The body of send_name; `nlen` overrides the Nlen field (to lie about the name's length). */
export function sendNameBody(name: Uint8Array | string, o: { flags?: bigint; creation?: number; nlen?: number } = {}): Buffer {
  const n = typeof name === 'string' ? Buffer.from(name, 'utf8') : Buffer.from(name);
  const b = Buffer.alloc(15 + n.length);
  b[0] = SEND_NAME;
  b.writeBigUInt64BE(o.flags ?? OTP25_FLAGS, 1);
  b.writeUInt32BE(o.creation ?? 1, 9);
  b.writeUInt16BE(o.nlen ?? n.length, 13);
  n.copy(b, 15);
  return b;
}

const sendName = (name: Uint8Array | string, o?: Parameters<typeof sendNameBody>[1]): Buffer => frame16(sendNameBody(name, o));
const bytes = (...xs: number[]): Buffer => Buffer.from(xs);
const concat = (...bs: Uint8Array[]): Buffer => Buffer.concat(bs);

/** A TLS 1.2/1.3 ClientHello record, as `openssl s_client` starts (trimmed, well-formed). */
export function clientHello(): Buffer {
  const random = Buffer.alloc(32, 7);
  const suites = bytes(0x00, 0x04, 0x13, 0x01, 0xc0, 0x2f);
  const hello = concat(bytes(0x03, 0x03), random, bytes(0), suites, bytes(1, 0), bytes(0, 0));
  const hs = concat(bytes(0x01, 0, (hello.length >> 8) & 0xff, hello.length & 0xff), hello);
  return concat(bytes(0x16, 0x03, 0x01, hs.length >> 8, hs.length & 0xff), hs);
}

export const HTTP_GET = Buffer.from('GET / HTTP/1.1\r\nHost: localhost\r\nUser-Agent: curl/8.0\r\nAccept: */*\r\n\r\n');
/** A browser's WebSocket upgrade (RFC 6455 section 1.3's key). */
export const WS_UPGRADE = Buffer.from(
  'GET /ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
);

export function distNamedCases(): NamedCase[] {
  const good = sendName('hostile_peer@127.0.0.1');
  const full = sendNameBody('x@h');
  return [
    // Names (the crash first).
    { name: 'send_name with a 300-character name (300 × a + @h)', bytes: sendName('a'.repeat(300) + '@h'), refuse: true },
    { name: 'send_name with a name of 256 characters', bytes: sendName('a'.repeat(254) + '@h'), refuse: true },
    { name: 'send_name with a name of 256 code points in 512 bytes (é)', bytes: sendName('é'.repeat(254) + '@h'), refuse: true },
    { name: 'send_name with 200 four-byte code points (800 bytes)', bytes: sendName('😀'.repeat(200) + '@h') },
    { name: 'send_name with a name of 0 length', bytes: sendName(''), refuse: true },
    { name: "send_name with a name without '@'", bytes: sendName('nohost'), refuse: true },
    { name: "send_name with a name with two '@'", bytes: sendName('a@b@c'), refuse: true },
    { name: "send_name with a name that is only '@'", bytes: sendName('@'), refuse: true },
    { name: 'send_name with non-UTF-8 bytes in the name', bytes: sendName(bytes(0xff, 0xfe, 0x80, 0x40, 0x68)), refuse: true },
    { name: 'send_name with a UTF-16 surrogate encoded in UTF-8', bytes: sendName(bytes(0x61, 0xed, 0xa0, 0x80, 0x40, 0x68)), refuse: true },
    { name: 'send_name with an overlong UTF-8 encoding of @', bytes: sendName(bytes(0x61, 0xc1, 0x80, 0x68)), refuse: true },
    { name: 'send_name with NUL in the name', bytes: sendName('a\u0000b@h'), refuse: true },
    { name: 'send_name with a newline in the name', bytes: sendName('a\nb@h'), refuse: true },
    { name: 'send_name with terminal escapes in the name', bytes: sendName('\u001b[2J\u001b]0;pwned\u0007@h'), refuse: true },
    { name: 'send_name with DEL and C1 controls in the name', bytes: sendName('a\u007f\u0085@h'), refuse: true },
    { name: 'send_name with a maximal name (65 535-byte message)', bytes: sendName('a'.repeat(0xffff - 15 - 2) + '@h'), refuse: true },
    // Length fields: the handshake length and Nlen, at 0, at the max, beyond the frame.
    { name: 'handshake length 0', bytes: bytes(0, 0) },
    { name: 'handshake length 0 followed by a good send_name', bytes: concat(bytes(0, 0), good) },
    { name: 'handshake length 1 (only the tag)', bytes: frame16(bytes(SEND_NAME)) },
    { name: 'handshake length 14 (send_name one byte short of Nlen)', bytes: frame16(full.subarray(0, 14)) },
    { name: 'handshake length 65535, 3 bytes sent', bytes: bytes(0xff, 0xff, SEND_NAME) },
    { name: 'handshake length 65535 of zeros', bytes: concat(bytes(0xff, 0xff), Buffer.alloc(0xffff)) },
    { name: 'handshake length beyond the bytes sent (20 said, 5 sent)', bytes: concat(bytes(0, 20), full.subarray(0, 5)) },
    { name: 'Nlen 0 with a name after it', bytes: sendName('x@h', { nlen: 0 }), refuse: true },
    { name: 'Nlen 65535 in a short frame', bytes: sendName('x@h', { nlen: 0xffff }), refuse: true },
    { name: 'Nlen one beyond the frame', bytes: sendName('x@h', { nlen: 4 }), refuse: true },
    { name: 'Nlen shorter than the name (trailing bytes)', bytes: sendName('x@hhh', { nlen: 3 }) },
    // Truncated messages.
    { name: 'one byte of the length', bytes: bytes(0) },
    { name: 'the length only', bytes: good.subarray(0, 2) },
    { name: 'send_name cut in the flags', bytes: good.subarray(0, 6) },
    { name: 'send_name cut in the name', bytes: good.subarray(0, good.length - 3) },
    { name: 'a good send_name one byte at a time', bytes: good, opts: { pieces: 1 } },
    // Wrong tags and messages out of turn.
    { name: 'old (v5) send_name', bytes: frame16(concat(bytes(OLD_SEND_NAME, 0, 5), Buffer.alloc(4, 0xff), Buffer.from('old@h'))) },
    { name: 'tag 0', bytes: frame16(concat(bytes(0), full.subarray(1))) },
    { name: 'tag 255', bytes: frame16(concat(bytes(255), full.subarray(1))) },
    { name: "status 'sok' from the connecting side", bytes: frame16(Buffer.from('sok')) },
    { name: 'challenge_reply before send_name', bytes: frame16(concat(bytes(CHALLENGE_REPLY, 0, 0, 0, 1), Buffer.alloc(16, 0xaa))) },
    { name: "challenge_ack ('a') before send_name", bytes: frame16(concat(bytes(0x61), Buffer.alloc(16))) },
    { name: 'two send_names back to back', bytes: concat(good, good) },
    { name: 'a good send_name, then garbage in the same packet', bytes: concat(good, Buffer.from('garbage after send_name')) },
    { name: 'a good send_name, then a challenge_reply with a wrong digest', bytes: concat(good, frame16(concat(bytes(CHALLENGE_REPLY, 1, 2, 3, 4), Buffer.alloc(16)))) },
    { name: 'a good send_name, then a 65535-byte challenge_reply', bytes: concat(good, frame16(concat(bytes(CHALLENGE_REPLY), Buffer.alloc(0xffff - 1)))) },
    // Flags and creation.
    { name: 'send_name with no flags', bytes: sendName('x@h', { flags: 0n }) },
    { name: 'send_name with every flag set', bytes: sendName('x@h', { flags: 0xffff_ffff_ffff_ffffn }) },
    { name: 'send_name with NAME_ME and an empty name', bytes: sendName('', { flags: OTP25_FLAGS | NAME_ME }) },
    { name: 'send_name with NAME_ME and a 300-character host', bytes: sendName('a'.repeat(300), { flags: OTP25_FLAGS | NAME_ME }) },
    { name: 'send_name with creation 0 and 0xffffffff', bytes: concat(sendName('x@h', { creation: 0 }), sendName('y@h', { creation: 0xffff_ffff })) },
    // Other protocols on this port.
    { name: 'a TLS ClientHello', bytes: clientHello(), unframed: true },
    { name: 'an HTTP request (GET / HTTP/1.1)', bytes: HTTP_GET, unframed: true },
    { name: 'a WebSocket upgrade request', bytes: WS_UPGRADE, unframed: true },
    { name: 'an SSH banner', bytes: Buffer.from('SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n'), unframed: true },
    { name: 'an EPMD NAMES request', bytes: bytes(0, 1, 110) },
    { name: 'an AEMP greeting line with a 300-character node id', bytes: Buffer.from(`aemp;1;${'x'.repeat(300)};hmac_sha3_512;json\n`), unframed: true },
    { name: '1 MiB of random bytes', bytes: Buffer.from(Array.from({ length: 1 << 20 }, (_, i) => (i * 2654435761) >>> 24)), unframed: true },
  ];
}

/** Generated cases: random bytes, random frames, and mutations of a valid send_name. */
export function distArbitrary(): fc.Arbitrary<{ bytes: Buffer; pieces: boolean }> {
  const raw = fc.uint8Array({ minLength: 1, maxLength: 300 }).map((b) => Buffer.from(b));
  const framed = fc.tuple(fc.uint8Array({ maxLength: 300 }), fc.oneof(fc.constant(undefined), fc.integer({ min: 0, max: 0xffff }))).map(([body, len]) => {
    const f = frame16(body);
    if (len !== undefined) f.writeUInt16BE(len, 0);
    return f;
  });
  const name = fc.oneof(
    fc.string({ maxLength: 40 }).map((s) => Buffer.from(`${s}@h`)),
    fc.string({ unit: 'binary', maxLength: 300 }).map((s) => Buffer.from(s)),
    fc.uint8Array({ maxLength: 400 }).map((b) => Buffer.from(b)),
    fc.integer({ min: 250, max: 400 }).map((n) => Buffer.from('a'.repeat(n) + '@h')),
  );
  const named = fc
    .tuple(name, fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), fc.boolean(), fc.integer({ min: 0, max: 0xffff }), fc.boolean())
    .map(([n, flags, realFlags, nlen, lie]) => frame16(sendNameBody(n, { flags: realFlags ? OTP25_FLAGS : flags, creation: 1, nlen: lie ? nlen : undefined })));
  const mutated = mutatedOf(sendName('hostile_peer@127.0.0.1'), sendName('a'.repeat(300) + '@h'));
  return fc.record({ bytes: fc.oneof(raw, framed, named, named, mutated, mutated), pieces: fc.boolean() });
}

/** Mutations of good inputs: up to 6 bytes overwritten, then maybe cut short. */
export function mutatedOf(...goods: Buffer[]): fc.Arbitrary<Buffer> {
  return fc
    .tuple(fc.constantFrom(...goods), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }), fc.option(fc.nat()))
    .map(([good, flips, cut]) => {
      const b = Buffer.from(good);
      for (const [at, v] of flips) b[at % b.length] = v;
      return cut === null ? b : b.subarray(0, cut % b.length);
    });
}
