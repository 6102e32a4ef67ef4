import fc from 'fast-check';
import { HTTP_GET, OTP25_FLAGS, clientHello, distArbitrary, frame16, sendNameBody } from './dist-cases.js';
import { OP, binaryMessages, closePayload, fragmentedMessage, frame, upgradeRequest } from './ws-frames.js';

/**
 * Hostile input for the echo node's WebSocket listener (`--ws`), before authentication: the HTTP
 * request that should upgrade, the frames after the upgrade (RFC 6455), and the Erlang handshake
 * carried inside binary messages (the Courier subprotocol: messages are pieces of a byte stream).
 */

/** The subprotocol's largest message (MAX_WS_MESSAGE of @courier/transport-ws). */
export const WS_MESSAGE = 64 * 1024;

export interface WsCase {
  readonly name: string;
  /** The HTTP request; default a valid upgrade to /courier. */
  readonly request?: Buffer;
  /** Written once the node answered 101. */
  readonly after?: Buffer;
  /** Write `after` this many bytes per event-loop turn. */
  readonly pieces?: number;
  /** The HTTP status the node must answer. Default 101. */
  readonly status?: number;
  /** The status code of the close frame the node must send. */
  readonly close?: number;
  /** An invalid node name inside: the node must not answer `sok`. */
  readonly refuse?: boolean;
}

const ascii = (s: string): Buffer => Buffer.from(s, 'latin1');
const bin = (payload: Uint8Array | string, o: Partial<Parameters<typeof frame>[0]> = {}): Buffer =>
  frame({ opcode: OP.BINARY, payload: typeof payload === 'string' ? ascii(payload) : payload, ...o });
const good = frame16(sendNameBody('hostile_ws_peer@127.0.0.1'));

/** Cases for the HTTP request (nothing is written after the node's answer but FIN). */
export function httpCases(): WsCase[] {
  const huge = (n: number): string[] => [`X-Filler: ${'a'.repeat(n)}`];
  return [
    { name: 'a plain HTTP request (GET /)', request: HTTP_GET, status: 426 },
    { name: 'GET /courier without Upgrade', request: ascii('GET /courier HTTP/1.1\r\nHost: x\r\n\r\n'), status: 426 },
    { name: 'HTTP/1.0 GET', request: ascii('GET /courier HTTP/1.0\r\n\r\n'), status: 426 },
    { name: 'keep-alive: two requests in one packet', request: Buffer.concat([HTTP_GET, HTTP_GET]), status: 426 },
    {
      name: 'POST with a 1 GiB Content-Length and 64 KiB of body',
      request: Buffer.concat([ascii('POST /courier HTTP/1.1\r\nHost: x\r\nContent-Length: 1073741824\r\n\r\n'), Buffer.alloc(64 * 1024, 0x61)]),
      status: 426,
    },
    { name: 'chunked POST that never ends its chunks', request: ascii('POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nffffffff\r\nabc'), status: 426 },
    { name: 'a malformed request line', request: ascii('HELLO\r\n\r\n'), status: 400 },
    { name: 'a request line of 20 KiB', request: ascii(`GET /${'a'.repeat(20 * 1024)} HTTP/1.1\r\n\r\n`), status: 431 },
    { name: 'a TLS ClientHello', request: clientHello(), status: 400 },
    { name: 'an Erlang send_name', request: good, status: 400 },
    { name: 'an SSH banner', request: ascii('SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n'), status: 400 },
    { name: 'NUL bytes in a header', request: upgradeRequest({ extra: ['X-Bad: a\u0000b'] }), status: 400 },
    // Upgrade headers that are not a WebSocket upgrade of ours.
    { name: 'upgrade on another path', request: upgradeRequest({ path: '/other' }), status: 400 },
    { name: 'upgrade without Sec-WebSocket-Key', request: upgradeRequest({ headers: { 'Sec-WebSocket-Key': undefined } }), status: 400 },
    { name: 'upgrade with a 15-byte key', request: upgradeRequest({ headers: { 'Sec-WebSocket-Key': Buffer.alloc(15, 1).toString('base64') } }), status: 400 },
    { name: 'upgrade with a key that is not base64', request: upgradeRequest({ headers: { 'Sec-WebSocket-Key': '!!!!!!!!!!!!!!!!!!!!!!==' } }), status: 400 },
    { name: 'upgrade with Sec-WebSocket-Version 12', request: upgradeRequest({ headers: { 'Sec-WebSocket-Version': '12' } }), status: 400 },
    { name: 'upgrade without Sec-WebSocket-Version', request: upgradeRequest({ headers: { 'Sec-WebSocket-Version': undefined } }), status: 400 },
    { name: 'Upgrade: h2c', request: upgradeRequest({ headers: { Upgrade: 'h2c' } }), status: 400 },
    { name: 'upgrade with POST', request: upgradeRequest({ method: 'POST' }), status: 405 },
    { name: 'a malformed Sec-WebSocket-Protocol', request: upgradeRequest({ headers: { 'Sec-WebSocket-Protocol': 'a,,b c' } }), status: 400 },
    { name: 'two Sec-WebSocket-Key headers', request: upgradeRequest({ extra: [`Sec-WebSocket-Key: ${Buffer.alloc(16, 2).toString('base64')}`] }), status: 400 },
    // Huge headers.
    { name: 'a 17 KiB header', request: upgradeRequest({ extra: huge(17 * 1024) }), status: 431 },
    { name: '1 MiB of headers', request: upgradeRequest({ extra: Array.from({ length: 1024 }, (_, i) => `X-H${i}: ${'b'.repeat(1000)}`) }), status: 431 },
    { name: '20,000 empty-valued headers', request: upgradeRequest({ extra: Array.from({ length: 20_000 }, (_, i) => `X${i}:`) }), status: 431 },
    { name: 'a header line without a colon', request: upgradeRequest({ extra: ['no colon here'] }), status: 400 },
  ];
}

/** A close frame with `code` (and `reason`). */
const closeFrame = (code: number, reason: Uint8Array | string = ''): Buffer => frame({ opcode: OP.CLOSE, payload: closePayload(code, reason) });

/** Cases for the frames after a valid upgrade. */
export function frameCases(): WsCase[] {
  const big = Buffer.alloc(WS_MESSAGE + 1, 0x61);
  return [
    // Data frames the Courier subprotocol does not carry, or RFC 6455 forbids.
    { name: 'a text frame', after: frame({ opcode: OP.TEXT, payload: ascii('{"hello":"node"}') }) },
    { name: 'a text frame with invalid UTF-8', after: frame({ opcode: OP.TEXT, payload: Buffer.from([0xc3, 0x28, 0xff]) }), close: 1007 },
    { name: 'a binary message one byte over 64 KiB', after: bin(big), close: 1009 },
    { name: 'a frame declaring 1 MiB, 100 bytes sent', after: bin(Buffer.alloc(100), { declared: 1n << 20n }), close: 1009 },
    { name: 'a frame declaring 2^63 - 1 bytes', after: bin(Buffer.alloc(8), { declared: (1n << 63n) - 1n }), close: 1009 },
    { name: 'a frame declaring 2^64 - 1 bytes (MSB set)', after: bin(Buffer.alloc(8), { declared: (1n << 64n) - 1n }), close: 1009 },
    { name: 'a 10-byte frame with a 64-bit length (not minimal)', after: Buffer.concat([bin(good, { lengthAs: 64 })]) },
    { name: 'a fragmented message totalling 64 KiB + 1 (1 KiB fragments)', after: fragmentedMessage(big, 1024), close: 1009 },
    { name: '2,000 one-byte fragments of one message', after: fragmentedMessage(Buffer.alloc(2000, 0x62), 1), close: 1008 },
    {
      name: '1,000 empty fragments, then the end of the message',
      after: Buffer.concat([
        bin(Buffer.alloc(0), { fin: false }),
        ...Array.from({ length: 999 }, () => frame({ opcode: OP.CONTINUATION, fin: false })),
        frame({ opcode: OP.CONTINUATION }),
      ]),
    },
    { name: 'a continuation frame with no message started', after: frame({ opcode: OP.CONTINUATION, payload: good }), close: 1002 },
    { name: 'a new binary frame inside a fragmented message', after: Buffer.concat([bin(good.subarray(0, 4), { fin: false }), bin(good.subarray(4))]), close: 1002 },
    { name: 'a fragmented message left unfinished, then FIN', after: bin(good.subarray(0, 6), { fin: false }) },
    ...[3, 4, 5, 6, 7, 0xb, 0xc, 0xd, 0xe, 0xf].map((op) => ({ name: `reserved opcode 0x${op.toString(16)}`, after: frame({ opcode: op, payload: good }), close: 1002 })),
    { name: 'RSV1 set without an extension (a permessage-deflate frame)', after: bin(good, { rsv: 4 }), close: 1002 },
    { name: 'RSV2 set', after: bin(good, { rsv: 2 }), close: 1002 },
    { name: 'RSV3 set', after: bin(good, { rsv: 1 }), close: 1002 },
    // Masking.
    { name: 'an unmasked client frame', after: bin(good, { mask: false }), close: 1002 },
    { name: 'an unmasked ping', after: frame({ opcode: OP.PING, mask: false }), close: 1002 },
    { name: 'a masked frame with an all-zero key', after: bin(good, { mask: Buffer.alloc(4) }) },
    { name: 'a masked frame, then an unmasked one', after: Buffer.concat([bin(good.subarray(0, 5)), bin(good.subarray(5), { mask: false })]), close: 1002 },
    // Control frames.
    { name: 'a ping with 126 bytes (control frames carry at most 125)', after: frame({ opcode: OP.PING, payload: Buffer.alloc(126) }), close: 1002 },
    { name: 'a close frame with a 16-bit length of 200', after: frame({ opcode: OP.CLOSE, payload: closePayload(1000, 'x'.repeat(198)) }), close: 1002 },
    { name: 'a fragmented ping (FIN clear)', after: frame({ opcode: OP.PING, fin: false, payload: ascii('p') }), close: 1002 },
    {
      name: 'a ping between the fragments of a message (allowed)',
      after: Buffer.concat([
        bin(good.subarray(0, 4), { fin: false }),
        frame({ opcode: OP.PING, payload: ascii('mid') }),
        frame({ opcode: OP.CONTINUATION, payload: good.subarray(4) }),
      ]),
    },
    { name: '1,000 pings, pongs never read', after: Buffer.concat(Array.from({ length: 1000 }, () => frame({ opcode: OP.PING, payload: Buffer.alloc(125, 0x70) }))) },
    { name: 'an unsolicited pong', after: frame({ opcode: OP.PONG, payload: ascii('surprise') }) },
    // Close frames.
    ...[0, 999, 1004, 1005, 1006, 1015, 1016, 2000, 2999, 5000, 65535].map((code) => ({ name: `a close frame with code ${code}`, after: closeFrame(code), close: 1002 })),
    { name: 'a close frame with a 1-byte payload', after: frame({ opcode: OP.CLOSE, payload: Buffer.from([3]) }), close: 1002 },
    { name: 'a close frame with an invalid UTF-8 reason', after: closeFrame(1000, Buffer.from([0xff, 0xfe])), close: 1007 },
    { name: 'a close frame with code 4000 and a 123-byte reason (valid)', after: closeFrame(4000, 'r'.repeat(123)), close: 4000 },
    { name: 'an empty close frame (valid)', after: frame({ opcode: OP.CLOSE }) },
    { name: 'a close frame, then more binary messages', after: Buffer.concat([closeFrame(1000), bin(good), bin(good)]), close: 1000 },
    // Framing in pieces.
    { name: 'a valid send_name frame written one byte at a time', after: bin(good), pieces: 1 },
    { name: 'an empty binary message, then a valid send_name', after: Buffer.concat([bin(Buffer.alloc(0)), bin(good)]) },
    { name: 'a 64 KiB binary message of zeros (the largest allowed)', after: bin(Buffer.alloc(WS_MESSAGE)) },
    { name: 'a frame header cut after its length', after: bin(good).subarray(0, 2) },
    { name: 'a frame cut in its mask key', after: bin(good).subarray(0, 4) },
  ];
}

/** Named Erlang-handshake cases (dist-cases.ts) carried inside binary messages of at most 64 KiB. */
export function handshakeCases(named: ReadonlyArray<{ name: string; bytes: Uint8Array; refuse?: boolean }>): WsCase[] {
  return named.map((c) => ({ name: `${c.name}, in binary messages`, after: binaryMessages(c.bytes, WS_MESSAGE), refuse: c.refuse }));
}

/** A valid send_name whose name is 300 × a + @h, one byte per WebSocket message. */
export function longNameInTinyMessages(): WsCase {
  return {
    name: 'send_name with a 300-character name, one byte per message',
    after: binaryMessages(frame16(sendNameBody('a'.repeat(300) + '@h', { flags: OTP25_FLAGS })), 1),
    refuse: true,
  };
}

/**
 * Generated: random bytes after a valid upgrade — raw bytes, random frames (any FIN, RSV, opcode,
 * mask, length encoding, lying lengths), and valid frames with bytes overwritten.
 */
export function wsRawArbitrary(): fc.Arbitrary<{ bytes: Buffer; pieces: boolean }> {
  const raw = fc.uint8Array({ minLength: 1, maxLength: 300 }).map((b) => Buffer.from(b));
  const oneFrame = fc
    .record({
      fin: fc.boolean(),
      rsv: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 7 })),
      opcode: fc.oneof(fc.constant(OP.BINARY), fc.constant(OP.CONTINUATION), fc.integer({ min: 0, max: 15 })),
      mask: fc.oneof(fc.constant(true), fc.boolean()),
      payload: fc.uint8Array({ maxLength: 200 }),
      lengthAs: fc.constantFrom(undefined, 7 as const, 16 as const, 64 as const),
      declared: fc.option(fc.oneof(fc.bigInt({ min: 0n, max: 300n }), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n })), { nil: undefined }),
    })
    .map((f) => frame(f));
  const frames = fc.array(oneFrame, { minLength: 1, maxLength: 5 }).map((fs) => Buffer.concat(fs));
  const mutated = fc
    .tuple(
      fc.constantFrom(bin(good), fragmentedMessage(good, 3), frame({ opcode: OP.PING, payload: ascii('ping') })),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
    )
    .map(([b, flips]) => {
      const out = Buffer.from(b);
      for (const [at, v] of flips) out[at % out.length] = v;
      return out;
    });
  return fc.record({ bytes: fc.oneof(raw, frames, frames, mutated), pieces: fc.boolean() });
}

/** Generated: the Erlang-handshake bytes of dist-cases.ts inside well-formed binary messages (whole, split, or fragmented). */
export function wsHandshakeArbitrary(): fc.Arbitrary<{ bytes: Buffer; pieces: boolean }> {
  return fc.tuple(distArbitrary(), fc.integer({ min: 1, max: 400 }), fc.boolean()).map(([{ bytes, pieces }, size, fragmented]) => ({
    bytes: fragmented ? fragmentedMessage(bytes, size) : binaryMessages(bytes, size),
    pieces,
  }));
}
