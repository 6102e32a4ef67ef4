import { createServer, type AddressInfo } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import fc from 'fast-check';
import { HTTP_GET, SEND_NAME, WS_UPGRADE, clientHello, distArbitrary, distNamedCases, frame16, mutatedOf, sendNameBody, type NamedCase } from './dist-cases.js';

/**
 * Hostile input for the Erlang distribution over TLS (inet_tls_dist): first the TLS layer itself
 * (RFC 8446 section 5.1: records are `Type:8 Version:16 Length:16 Fragment`, at most 2^14 bytes
 * of plaintext, 2^14 + 2048 of ciphertext), then, inside a TLS session a trusted certificate
 * opened, the Erlang handshake framed as inet_tls_dist frames it: `Length:32 Body`.
 */
export const RECORD = { CHANGE_CIPHER_SPEC: 0x14, ALERT: 0x15, HANDSHAKE: 0x16, APPLICATION_DATA: 0x17, HEARTBEAT: 0x18 } as const;
const HS = { CLIENT_HELLO: 0x01, SERVER_HELLO: 0x02, FINISHED: 0x14 } as const;
const TLS10 = 0x0301;
const TLS12 = 0x0303;
/** The largest TLSPlaintext fragment (2^14) and TLSCiphertext fragment (2^14 + 2048). */
const MAX_PLAINTEXT = 1 << 14;
const MAX_CIPHERTEXT = MAX_PLAINTEXT + 2048;
/** A padding extension (RFC 7685), to make a ClientHello as large as wanted. */
const EXT_PADDING = 21;

const bytes = (...xs: number[]): Buffer => Buffer.from(xs);
const concat = (...bs: Uint8Array[]): Buffer => Buffer.concat(bs);

/** One TLS record; `length` overrides the Length field (to lie about the fragment). */
export function record(type: number, fragment: Uint8Array, o: { version?: number; length?: number } = {}): Buffer {
  const h = Buffer.alloc(5);
  h[0] = type;
  h.writeUInt16BE(o.version ?? TLS10, 1);
  h.writeUInt16BE(o.length ?? fragment.length, 3);
  return concat(h, fragment);
}

/** A handshake message `Type:8 Length:24 Body`. */
function handshakeMessage(type: number, body: Uint8Array, length = body.length): Buffer {
  return concat(bytes(type, (length >> 16) & 0xff, (length >> 8) & 0xff, length & 0xff), body);
}

/**
 * A real ClientHello, as Node's TLS client (OpenSSL) sends it: captured by a local socket that
 * reads the first record and closes. The node answers it with its ServerHello.
 */
export async function capturedClientHello(): Promise<Buffer> {
  const server = createServer();
  const got = new Promise<Buffer>((resolve, reject) => {
    server.once('connection', (s) => {
      let b: Buffer = Buffer.alloc(0);
      s.on('data', (c: Buffer) => {
        b = concat(b, c);
        if (b.length >= 5 && b.length >= 5 + b.readUInt16BE(3)) {
          s.destroy();
          resolve(b.subarray(0, 5 + b.readUInt16BE(3)));
        }
      });
      s.on('error', reject);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const c = tlsConnect({ host: '127.0.0.1', port: (server.address() as AddressInfo).port, rejectUnauthorized: false });
  c.on('error', () => undefined);
  try {
    return await got;
  } finally {
    c.destroy();
    server.close();
  }
}

/** Where the variable-length fields of a one-record ClientHello start. */
function helloLayout(h: Buffer): { sid: number; suites: number; compression: number; extensions: number } {
  const sid = 43; // record header 5, handshake header 4, version 2, random 32
  const suites = sid + 1 + (h[sid] ?? 0);
  const compression = suites + 2 + h.readUInt16BE(suites);
  return { sid, suites, compression, extensions: compression + 1 + (h[compression] ?? 0) };
}

/** `hello` with a padding extension of `n` bytes, its lengths fixed, split into records of at most `per` bytes. */
function paddedHello(hello: Buffer, n: number, per = MAX_PLAINTEXT): Buffer {
  const { extensions } = helloLayout(hello);
  const pad = concat(bytes(0, EXT_PADDING, (n >> 8) & 0xff, n & 0xff), Buffer.alloc(n));
  const body = concat(
    hello.subarray(9, extensions),
    bytes(((hello.readUInt16BE(extensions) + pad.length) >> 8) & 0xff, (hello.readUInt16BE(extensions) + pad.length) & 0xff),
    hello.subarray(extensions + 2),
    pad,
  );
  return fragmented(handshakeMessage(HS.CLIENT_HELLO, body), per);
}

/** A handshake message split into records of at most `per` bytes each. */
function fragmented(message: Buffer, per: number): Buffer {
  const out: Buffer[] = [];
  for (let i = 0; i < message.length; i += per) out.push(record(RECORD.HANDSHAKE, message.subarray(i, i + per)));
  return concat(...out);
}

/** `hello` with `at` overwritten by `value` (`width` bytes, big-endian). */
function patched(hello: Buffer, at: number, value: number, width: 1 | 2 | 3): Buffer {
  const b = Buffer.from(hello);
  b.writeUIntBE(value, at, width);
  return b;
}

/** Named cases for the TLS port before any TLS: other protocols, records, ClientHellos. */
export function tlsRawNamedCases(hello: Buffer): NamedCase[] {
  const good = frame16(sendNameBody('hostile_peer@127.0.0.1'));
  const { sid, suites, compression, extensions } = helloLayout(hello);
  const hsLen = hello.readUIntBE(6, 3);
  const random = Buffer.from(Array.from({ length: 1 << 20 }, (_, i) => (i * 2654435761) >>> 24));
  return [
    // TCP on TLS: the plain Erlang handshake, and other protocols.
    { name: 'a plain Erlang send_name (TCP distribution on the TLS port)', bytes: good },
    { name: 'a plain send_name with a 300-character name', bytes: frame16(sendNameBody('a'.repeat(300) + '@h')) },
    { name: 'a send_name framed for TLS (4-byte length) without TLS', bytes: reframe32(good) },
    { name: 'an HTTP request (GET / HTTP/1.1)', bytes: HTTP_GET },
    { name: 'a WebSocket upgrade request', bytes: WS_UPGRADE },
    { name: 'an SSH banner', bytes: Buffer.from('SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n') },
    { name: 'an EPMD NAMES request', bytes: bytes(0, 1, 110) },
    { name: 'an AEMP greeting line', bytes: Buffer.from('aemp;1;x;hmac_sha3_512;json\n') },
    // Record length fields: 0, 1, the maxima, beyond them, beyond the bytes sent.
    { name: 'a handshake record of length 0', bytes: record(RECORD.HANDSHAKE, Buffer.alloc(0)) },
    { name: 'a handshake record of length 0, then a real ClientHello', bytes: concat(record(RECORD.HANDSHAKE, Buffer.alloc(0)), hello) },
    { name: 'a handshake record of length 1', bytes: record(RECORD.HANDSHAKE, bytes(HS.CLIENT_HELLO)) },
    { name: 'a handshake record of 2^14 zero bytes (the plaintext maximum)', bytes: record(RECORD.HANDSHAKE, Buffer.alloc(MAX_PLAINTEXT)) },
    { name: 'a handshake record of 2^14 + 1 bytes', bytes: record(RECORD.HANDSHAKE, Buffer.alloc(MAX_PLAINTEXT + 1, 1)) },
    { name: 'a handshake record of 2^14 + 2048 bytes (the ciphertext maximum)', bytes: record(RECORD.HANDSHAKE, Buffer.alloc(MAX_CIPHERTEXT, 2)) },
    { name: 'a handshake record of 2^14 + 2049 bytes', bytes: record(RECORD.HANDSHAKE, Buffer.alloc(MAX_CIPHERTEXT + 1, 3)) },
    { name: 'a handshake record of 65535 bytes, all sent', bytes: record(RECORD.HANDSHAKE, Buffer.alloc(0xffff, 0x41)) },
    { name: 'a handshake record of length 65535, 3 bytes sent', bytes: record(RECORD.HANDSHAKE, bytes(HS.CLIENT_HELLO, 0, 0), { length: 0xffff }) },
    { name: 'a handshake record of length 100, 10 bytes sent', bytes: record(RECORD.HANDSHAKE, Buffer.alloc(10, 1), { length: 100 }) },
    { name: 'an application-data record of 65535 bytes before any handshake', bytes: record(RECORD.APPLICATION_DATA, Buffer.alloc(0xffff, 0x17)) },
    // Truncated.
    { name: 'one byte (0x16)', bytes: bytes(RECORD.HANDSHAKE) },
    { name: 'three bytes of a record header', bytes: bytes(RECORD.HANDSHAKE, 3, 1) },
    { name: 'a record header only', bytes: hello.subarray(0, 5) },
    { name: 'a real ClientHello cut in half', bytes: hello.subarray(0, hello.length >> 1) },
    { name: 'a real ClientHello without its last byte', bytes: hello.subarray(0, hello.length - 1) },
    { name: 'a real ClientHello, one byte at a time', bytes: hello, opts: { pieces: 1 } },
    // Wrong types and versions.
    { name: 'record type 0', bytes: record(0, hello.subarray(5)) },
    { name: 'record type 255', bytes: record(255, hello.subarray(5)) },
    { name: 'a ChangeCipherSpec before the ClientHello', bytes: concat(record(RECORD.CHANGE_CIPHER_SPEC, bytes(1)), hello) },
    { name: 'a fatal alert before the ClientHello', bytes: concat(record(RECORD.ALERT, bytes(2, 40)), hello) },
    { name: 'an alert record of 1000 bytes', bytes: record(RECORD.ALERT, Buffer.alloc(1000, 2)) },
    { name: 'application data before the handshake', bytes: record(RECORD.APPLICATION_DATA, Buffer.from('hello before the handshake')) },
    { name: 'a heartbeat request claiming 16 KiB (Heartbleed)', bytes: record(RECORD.HEARTBEAT, bytes(1, 0x40, 0x00, 0x41)) },
    { name: 'a ServerHello sent to the server', bytes: record(RECORD.HANDSHAKE, handshakeMessage(HS.SERVER_HELLO, hello.subarray(9))) },
    { name: 'a Finished before the ClientHello', bytes: record(RECORD.HANDSHAKE, handshakeMessage(HS.FINISHED, Buffer.alloc(12))) },
    { name: 'handshake message type 255', bytes: record(RECORD.HANDSHAKE, handshakeMessage(255, hello.subarray(9))) },
    { name: 'record version 0x0000', bytes: patched(hello, 1, 0, 2) },
    { name: 'record version 0xffff', bytes: patched(hello, 1, 0xffff, 2) },
    { name: 'an SSLv2-style ClientHello', bytes: concat(bytes(0x80, 0x2e, 0x01, 0x03, 0x01, 0x00, 0x15, 0x00, 0x00, 0x00, 0x10), Buffer.alloc(21, 1), Buffer.alloc(16, 7)) },
    {
      name: 'a ClientHello offering SSL 3.0 only',
      bytes: record(RECORD.HANDSHAKE, handshakeMessage(HS.CLIENT_HELLO, concat(bytes(3, 0), Buffer.alloc(32, 9), bytes(0, 0, 2, 0, 0x2f, 1, 0)))),
    },
    { name: 'the synthetic ClientHello of the TCP suite', bytes: clientHello() },
    // A real ClientHello with its inner length fields at 0, at their maximum, beyond the message.
    { name: 'ClientHello with handshake length 0', bytes: patched(hello, 6, 0, 3) },
    { name: 'ClientHello with handshake length 2^24 - 1', bytes: patched(hello, 6, 0xffffff, 3) },
    { name: 'ClientHello with handshake length one beyond its record', bytes: patched(hello, 6, hsLen + 1, 3) },
    { name: 'ClientHello with record length shorter than its handshake', bytes: patched(hello, 3, hello.length - 5 - 1, 2) },
    { name: 'ClientHello with a session id length of 255', bytes: patched(hello, sid, 255, 1) },
    { name: 'ClientHello with a session id length of 33', bytes: patched(hello, sid, 33, 1) },
    { name: 'ClientHello with cipher suites length 0', bytes: patched(hello, suites, 0, 2) },
    { name: 'ClientHello with an odd cipher suites length', bytes: patched(hello, suites, 3, 2) },
    { name: 'ClientHello with cipher suites length 65535', bytes: patched(hello, suites, 0xffff, 2) },
    { name: 'ClientHello with no compression methods', bytes: patched(hello, compression, 0, 1) },
    { name: 'ClientHello with 255 compression methods', bytes: patched(hello, compression, 255, 1) },
    { name: 'ClientHello with extensions length 0 (extensions follow)', bytes: patched(hello, extensions, 0, 2) },
    { name: 'ClientHello with extensions length 65535', bytes: patched(hello, extensions, 0xffff, 2) },
    { name: 'ClientHello with its first extension of length 65535', bytes: patched(hello, extensions + 4, 0xffff, 2) },
    { name: 'ClientHello with client version 0xffff', bytes: patched(hello, 9, 0xffff, 2) },
    // Sizes and sequences.
    { name: 'a real ClientHello split into 1-byte records', bytes: fragmented(hello.subarray(5), 1) },
    { name: 'a 60 KiB ClientHello over four records', bytes: paddedHello(hello, 60_000) },
    { name: 'a 200 KiB ClientHello over 13 records', bytes: fragmented(handshakeMessage(HS.CLIENT_HELLO, concat(hello.subarray(9), Buffer.alloc(200_000))), MAX_PLAINTEXT) },
    { name: 'two real ClientHellos back to back', bytes: concat(hello, hello) },
    { name: 'a real ClientHello, then 1 MiB of random bytes', bytes: concat(hello, random) },
    { name: '1 MiB of random bytes after 0x16', bytes: concat(bytes(RECORD.HANDSHAKE), random) },
  ];
}

/** `<<Len:16, Body>>…` as `<<Len:32, Body>>…` (inet_tls_dist's {packet, 4}); a length that claims more than follows keeps its claim. */
export function reframe32(b: Uint8Array): Buffer {
  const out: Buffer[] = [];
  let i = 0;
  while (b.length - i >= 2) {
    const len = ((b[i] ?? 0) << 8) | (b[i + 1] ?? 0);
    const body = b.subarray(i + 2, i + 2 + len);
    const h = Buffer.alloc(4);
    h.writeUInt32BE(len);
    out.push(h, Buffer.from(body));
    i += 2 + body.length;
  }
  if (i < b.length) out.push(bytes(0, 0), Buffer.from(b.subarray(i)));
  return concat(...out);
}

/** `<<Len:32, Body>>`. */
export function frame32(body: Uint8Array, length = body.length): Buffer {
  const h = Buffer.alloc(4);
  h.writeUInt32BE(length);
  return concat(h, body);
}

/** Named cases inside a TLS session a trusted certificate opened: the TCP suite's, re-framed, and the 4-byte length at its extremes. */
export function tlsSessionNamedCases(hello: Buffer): NamedCase[] {
  const full = sendNameBody('x@h');
  const reframed = distNamedCases().map((c) => (c.unframed ? c : { ...c, bytes: reframe32(c.bytes) }));
  return [
    ...reframed,
    { name: 'handshake length 2^32 - 1, 3 bytes sent', bytes: frame32(bytes(SEND_NAME, 0, 0), 0xffff_ffff) },
    { name: 'handshake length 2^31, 3 bytes sent', bytes: frame32(bytes(SEND_NAME, 0, 0), 0x8000_0000) },
    { name: 'handshake length 2049 (past the 2048-byte limit), all sent', bytes: frame32(concat(full, Buffer.alloc(2049 - full.length, 0x61))) },
    { name: 'handshake length 65536 of zeros, all sent', bytes: frame32(Buffer.alloc(0x10000)) },
    { name: 'handshake length 16 MiB, 64 KiB sent', bytes: frame32(Buffer.alloc(0x10000, 0x4e), 1 << 24) },
    { name: 'a send_name filling a 2048-byte message (a 2033-byte name)', bytes: frame32(sendNameBody('a'.repeat(2048 - 15 - 2) + '@h')), refuse: true },
    { name: 'a send_name with a 2-byte length inside TLS', bytes: frame16(sendNameBody('hostile_peer@127.0.0.1')) },
    { name: 'an HTTP request inside TLS (HTTPS to the distribution port)', bytes: HTTP_GET },
    { name: 'a real ClientHello inside TLS', bytes: hello },
  ];
}

/** Generated cases on the raw TLS port: random bytes, random records, mutations of real and synthetic ClientHellos. */
export function tlsRawArbitrary(hello: Buffer): fc.Arbitrary<{ bytes: Buffer; pieces: boolean }> {
  const raw = fc.uint8Array({ minLength: 1, maxLength: 300 }).map((b) => Buffer.from(b));
  const type = fc.oneof(fc.constantFrom(...Object.values(RECORD)), fc.integer({ min: 0, max: 255 }));
  const version = fc.oneof(fc.constantFrom(0x0300, TLS10, 0x0302, TLS12, 0x0304), fc.integer({ min: 0, max: 0xffff }));
  const length = fc.option(fc.oneof(fc.constantFrom(0, 1, MAX_PLAINTEXT, MAX_CIPHERTEXT, MAX_CIPHERTEXT + 1, 0xffff), fc.integer({ min: 0, max: 0xffff })));
  const rec = fc.tuple(type, version, fc.uint8Array({ maxLength: 300 }), length).map(([ty, v, frag, len]) => record(ty, frag, { version: v, length: len ?? undefined }));
  const records = fc.array(rec, { minLength: 1, maxLength: 4 }).map((rs) => concat(...rs));
  const handshake = fc
    .tuple(fc.integer({ min: 0, max: 255 }), fc.uint8Array({ maxLength: 300 }), fc.option(fc.integer({ min: 0, max: 0xffffff })))
    .map(([ty, body, len]) => record(RECORD.HANDSHAKE, handshakeMessage(ty, body, len ?? body.length)));
  const mutated = mutatedOf(hello, clientHello(), concat(record(RECORD.HANDSHAKE, Buffer.alloc(0)), hello));
  const inner = fc.tuple(fc.integer({ min: 5, max: hello.length - 1 }), fc.integer({ min: 0, max: 0xffff })).map(([at, v]) => patched(hello, Math.min(at, hello.length - 2), v, 2));
  return fc.record({ bytes: fc.oneof(raw, records, handshake, mutated, mutated, inner), pieces: fc.boolean() });
}

/** Generated cases inside an authenticated TLS session: the TCP suite's generator re-framed, and random 4-byte frames. */
export function tlsSessionArbitrary(): fc.Arbitrary<{ bytes: Buffer; pieces: boolean }> {
  const dist = distArbitrary().map(({ bytes: b, pieces }) => ({ bytes: reframe32(b), pieces }));
  const framed = fc
    .tuple(fc.uint8Array({ maxLength: 300 }), fc.option(fc.oneof(fc.integer({ min: 0, max: 4096 }), fc.nat())), fc.boolean())
    .map(([body, len, pieces]) => ({ bytes: frame32(body, len ?? body.length), pieces }));
  return fc.oneof(dist, dist, framed);
}
