import fc from 'fast-check';
import { HTTP_GET, WS_UPGRADE, clientHello, frame16, mutatedOf, sendNameBody } from './dist-cases.js';
import type { ExchangeOptions } from './raw-exchange.js';

/**
 * Hostile input for the observer's listener: HTTP/1.1 (RFC 9112) for the page and /metrics, and
 * the WebSocket at /ws (RFC 6455): an upgrade request, then frames `FIN RSV1-3 Opcode:4 MASK
 * Len:7 [Len:16 | Len:64] [MaskKey:32] Payload`, which a client must mask. The page channel
 * carries JSON text messages of at most 4096 bytes.
 */
export interface ObserverCase {
  readonly name: string;
  readonly bytes: Uint8Array;
  readonly opts?: ExchangeOptions;
  /** The HTTP status the node must answer with (the first response's). */
  readonly status?: number;
  /** The WebSocket close code the node must send (after its 101). */
  readonly close?: number;
  /** A valid page: the node answers 101 and does not close it. */
  readonly kept?: boolean;
}

export const OP = { CONTINUATION: 0x0, TEXT: 0x1, BINARY: 0x2, CLOSE: 0x8, PING: 0x9, PONG: 0xa } as const;
/** RFC 6455 close codes the node answers hostile frames with. */
export const CLOSE = { PROTOCOL_ERROR: 1002, INVALID_DATA: 1007, POLICY: 1008, TOO_BIG: 1009 } as const;
/** The observer's WebSocket message limit (maxPayload in packages/observer). */
export const MAX_WS_MESSAGE = 4096;
const MASK = Buffer.from([0x37, 0xfa, 0x21, 0x3d]);

/** One WebSocket frame; `len` overrides the length field (its width chosen by the value), `mask: false` sends it unmasked. */
export function wsFrame(opcode: number, payload: Uint8Array | string, o: { fin?: boolean; rsv?: number; mask?: boolean; len?: bigint } = {}): Buffer {
  const p = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : Buffer.from(payload);
  const len = o.len ?? BigInt(p.length);
  const masked = o.mask ?? true;
  const head = [((o.fin ?? true) ? 0x80 : 0) | ((o.rsv ?? 0) << 4) | (opcode & 0x0f)];
  const maskBit = masked ? 0x80 : 0;
  let ext = Buffer.alloc(0);
  if (len < 126n) head.push(maskBit | Number(len));
  else if (len <= 0xffffn) {
    head.push(maskBit | 126);
    ext = Buffer.alloc(2);
    ext.writeUInt16BE(Number(len));
  } else {
    head.push(maskBit | 127);
    ext = Buffer.alloc(8);
    ext.writeBigUInt64BE(len);
  }
  const body = masked ? Buffer.from(p.map((b, i) => b ^ (MASK[i % 4] as number))) : p;
  return Buffer.concat([Buffer.from(head), ext, masked ? MASK : Buffer.alloc(0), body]);
}

const text = (s: string | Uint8Array): Buffer => wsFrame(OP.TEXT, s);
const closeFrame = (code: number, reason: Uint8Array | string = ''): Buffer => {
  const c = Buffer.alloc(2);
  c.writeUInt16BE(code);
  return wsFrame(OP.CLOSE, Buffer.concat([c, Buffer.from(reason)]));
};
/** A good upgrade to /ws, then `frames` in the same packet (the server reads them after its 101). */
export const ws = (...frames: Uint8Array[]): Buffer => Buffer.concat([WS_UPGRADE, ...frames]);
const upgrade = (headers: Record<string, string>, path = '/ws', method = 'GET', version = '1.1', host = 'localhost'): Buffer =>
  Buffer.from(
    `${method} ${path} HTTP/${version}\r\nHost: ${host}\r\n${Object.entries(headers)
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join('')}\r\n`,
  );
const good = { Upgrade: 'websocket', Connection: 'Upgrade', 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Version': '13' };
const http = (s: string): Buffer => Buffer.from(s.replace(/\n/g, '\r\n'));
const GET_METRICS = http('GET /metrics HTTP/1.1\nHost: localhost\n\n');

export function httpNamedCases(): ObserverCase[] {
  return [
    // The request line.
    { name: 'a request line of garbage', bytes: http('GARBAGE\n\n'), status: 400 },
    { name: 'binary garbage', bytes: Buffer.from([0, 0xff, 0xfe, 0x80, 0x0d, 0x0a, 0x0d, 0x0a]), status: 400 },
    { name: 'a method only', bytes: http('GET\n\n'), status: 400 },
    { name: 'HTTP/9.9', bytes: http('GET / HTTP/9.9\nHost: localhost\n\n'), status: 400 },
    { name: 'a request line without its line end', bytes: Buffer.from('GET / HTTP/1.1') },
    { name: 'bare LF line ends', bytes: Buffer.from('GET / HTTP/1.1\nHost: localhost\n\n'), status: 400 },
    { name: 'a huge URL (1 MiB)', bytes: http(`GET /${'a'.repeat(1 << 20)} HTTP/1.1\nHost: localhost\n\n`), status: 431 },
    { name: 'a URL with NUL', bytes: Buffer.from('GET /\u0000 HTTP/1.1\r\nHost: localhost\r\n\r\n'), status: 400 },
    { name: 'a path that climbs out of the page directory', bytes: http('GET /../../../../etc/passwd HTTP/1.1\nHost: localhost\n\n'), status: 404 },
    { name: 'an encoded climb out of the page directory', bytes: http('GET /%2e%2e/%2e%2e/package.json HTTP/1.1\nHost: localhost\n\n'), status: 404 },
    { name: 'an absolute-form URL', bytes: http('GET http://evil.example/metrics HTTP/1.1\nHost: localhost\n\n'), status: 404 },
    { name: '/metrics with a query of 8 KiB', bytes: http(`GET /metrics?${'q=1&'.repeat(2048)} HTTP/1.1\nHost: localhost\n\n`), status: 200 },
    // Methods.
    { name: 'an unknown method (FOO)', bytes: http('FOO / HTTP/1.1\nHost: localhost\n\n'), status: 400 },
    { name: 'a lower-case method (get)', bytes: http('get / HTTP/1.1\nHost: localhost\n\n'), status: 400 },
    { name: 'a 1000-character method', bytes: http(`${'G'.repeat(1000)} / HTTP/1.1\nHost: localhost\n\n`), status: 400 },
    { name: 'DELETE /', bytes: http('DELETE / HTTP/1.1\nHost: localhost\n\n'), status: 405 },
    { name: 'OPTIONS *', bytes: http('OPTIONS * HTTP/1.1\nHost: localhost\n\n'), status: 405 },
    { name: 'TRACE /', bytes: http('TRACE / HTTP/1.1\nHost: localhost\n\n'), status: 405 },
    { name: 'CONNECT to another host', bytes: http('CONNECT evil.example:443 HTTP/1.1\nHost: evil.example:443\n\n') },
    { name: 'PUT /metrics with a body', bytes: http('PUT /metrics HTTP/1.1\nHost: localhost\nContent-Length: 5\n\nhello'), status: 405 },
    {
      name: 'POST claiming a 1 GB body, 64 KiB sent',
      bytes: Buffer.concat([http('POST / HTTP/1.1\nHost: localhost\nContent-Length: 1000000000\n\n'), Buffer.alloc(1 << 16, 0x61)]),
      status: 405,
    },
    // Headers.
    { name: 'one header of 100 KiB', bytes: http(`GET / HTTP/1.1\nHost: localhost\nX-Big: ${'b'.repeat(100 * 1024)}\n\n`), status: 431 },
    { name: '10,000 small headers', bytes: http(`GET / HTTP/1.1\nHost: localhost\n${'X-A: 1\n'.repeat(10_000)}\n`), status: 431 },
    { name: 'a header without a colon', bytes: http('GET / HTTP/1.1\nHost: localhost\nNoColonHere\n\n'), status: 400 },
    { name: 'a header with NUL in its value', bytes: Buffer.from('GET / HTTP/1.1\r\nHost: localhost\r\nX-N: a\u0000b\r\n\r\n'), status: 400 },
    { name: 'an obsolete folded header line', bytes: http('GET / HTTP/1.1\nHost: localhost\nX-F: a\n  folded\n\n'), status: 400 },
    { name: 'no Host header (HTTP/1.1)', bytes: http('GET /metrics HTTP/1.1\n\n') },
    { name: 'two different Content-Lengths', bytes: http('POST / HTTP/1.1\nHost: localhost\nContent-Length: 1\nContent-Length: 2\n\nab'), status: 400 },
    { name: 'a negative Content-Length', bytes: http('POST / HTTP/1.1\nHost: localhost\nContent-Length: -1\n\n'), status: 400 },
    { name: 'Content-Length and Transfer-Encoding together', bytes: http('POST / HTTP/1.1\nHost: localhost\nContent-Length: 4\nTransfer-Encoding: chunked\n\n0\n\n'), status: 400 },
    { name: 'a chunk size that is not hex', bytes: http('POST / HTTP/1.1\nHost: localhost\nTransfer-Encoding: chunked\n\nzz\nhello\n0\n\n') },
    { name: 'a chunk size of 2^48', bytes: http('POST / HTTP/1.1\nHost: localhost\nTransfer-Encoding: chunked\n\nffffffffffff\nhello') },
    // Requests not addressed to this listener (docs/observer.md: Host and Origin).
    { name: 'a Host of another name (DNS rebinding)', bytes: http('GET / HTTP/1.1\nHost: evil.example\n\n'), status: 403 },
    { name: '/metrics with a Host of another name', bytes: http('GET /metrics HTTP/1.1\nHost: rebind.evil.example\n\n'), status: 403 },
    { name: 'a Host of 127.0.0.1 on another port', bytes: http('GET / HTTP/1.1\nHost: 127.0.0.1:1\n\n'), status: 403 },
    { name: 'no Host header (HTTP/1.0)', bytes: http('GET /metrics HTTP/1.0\n\n'), status: 403 },
    { name: 'an Origin of another site', bytes: http('GET /metrics HTTP/1.1\nHost: localhost\nOrigin: http://evil.example\n\n'), status: 403 },
    // Sequences.
    { name: '1000 pipelined GET /metrics', bytes: Buffer.concat(Array.from({ length: 1000 }, () => GET_METRICS)), status: 200 },
    { name: 'a request cut in its headers', bytes: http('GET / HTTP/1.1\nHost: localhost\nX-Cut: '), opts: { pieces: 3 } },
    { name: 'a good request one byte at a time', bytes: GET_METRICS, opts: { pieces: 1 }, status: 200 },
    // Other protocols on this port.
    { name: 'the HTTP/2 connection preface', bytes: http('PRI * HTTP/2.0\n\nSM\n\n') },
    { name: 'a TLS ClientHello', bytes: clientHello(), status: 400 },
    { name: 'an Erlang send_name', bytes: frame16(sendNameBody('hostile_peer@127.0.0.1')), status: 400 },
    { name: 'an EPMD NAMES request', bytes: Buffer.from([0, 1, 110]) },
    { name: 'an SSH banner', bytes: Buffer.from('SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n'), status: 400 },
    { name: 'an AEMP greeting line', bytes: Buffer.from('aemp;1;x;hmac_sha3_512;json\n'), status: 400 },
  ];
}

export function wsNamedCases(): ObserverCase[] {
  /** A valid command (of a name no process has) padded to `n` bytes. */
  const big = (n: number): string => JSON.stringify({ op: 'kill', name: 'nobody_here', pad: 'x'.repeat(n - 43) });
  return [
    // The upgrade request.
    { name: 'an upgrade without Sec-WebSocket-Key', bytes: upgrade({ ...good, 'Sec-WebSocket-Key': '' }), status: 400 },
    { name: 'an upgrade with a key that is not base64', bytes: upgrade({ ...good, 'Sec-WebSocket-Key': '!!!!not base64!!!!!!!!==' }), status: 400 },
    { name: 'an upgrade with a key of 15 bytes', bytes: upgrade({ ...good, 'Sec-WebSocket-Key': 'AAAAAAAAAAAAAAAAAAAA' }), status: 400 },
    { name: 'an upgrade with a key of 64 KiB', bytes: upgrade({ ...good, 'Sec-WebSocket-Key': 'A'.repeat(1 << 16) }), status: 431 },
    { name: 'an upgrade with version 12', bytes: upgrade({ ...good, 'Sec-WebSocket-Version': '12' }), status: 400 },
    { name: 'an upgrade with version abc', bytes: upgrade({ ...good, 'Sec-WebSocket-Version': 'abc' }), status: 400 },
    { name: 'an upgrade with version 2^64', bytes: upgrade({ ...good, 'Sec-WebSocket-Version': '18446744073709551616' }), status: 400 },
    { name: 'an upgrade without a version', bytes: upgrade({ ...good, 'Sec-WebSocket-Version': '' }), status: 400 },
    { name: 'an upgrade to another path', bytes: upgrade(good, '/other'), status: 400 },
    { name: 'an upgrade by POST', bytes: upgrade(good, '/ws', 'POST'), status: 405 },
    { name: 'an upgrade over HTTP/1.0', bytes: upgrade(good, '/ws', 'GET', '1.0') },
    { name: 'an upgrade from a page of another site (Origin)', bytes: upgrade({ ...good, Origin: 'http://evil.example' }), status: 403 },
    { name: 'an upgrade from Origin null', bytes: upgrade({ ...good, Origin: 'null' }), status: 403 },
    { name: 'an upgrade from localhost on port 80 (another origin)', bytes: upgrade({ ...good, Origin: 'http://localhost' }), status: 403 },
    { name: 'an upgrade with a Host of another name (DNS rebinding)', bytes: upgrade(good, '/ws', 'GET', '1.1', 'evil.example'), status: 403 },
    { name: 'an upgrade to h2c', bytes: upgrade({ ...good, Upgrade: 'h2c' }), status: 400 },
    { name: 'an upgrade with 1000 protocols offered', bytes: upgrade({ ...good, 'Sec-WebSocket-Protocol': Array.from({ length: 1000 }, (_, i) => `p${i}`).join(', ') }) },
    { name: 'an upgrade with a malformed extension offer', bytes: upgrade({ ...good, 'Sec-WebSocket-Extensions': 'permessage-deflate; ;;=; client_max_window_bits=99' }) },
    // Message sizes.
    { name: `a text message of exactly ${MAX_WS_MESSAGE} bytes`, bytes: ws(text(big(MAX_WS_MESSAGE))), kept: true },
    { name: `a text message of ${MAX_WS_MESSAGE + 1} bytes`, bytes: ws(text(big(MAX_WS_MESSAGE + 1))), close: CLOSE.TOO_BIG },
    { name: 'a text message of 1 MiB', bytes: ws(text('x'.repeat(1 << 20))), close: CLOSE.TOO_BIG },
    { name: 'a frame claiming 2^63 - 1 bytes', bytes: ws(wsFrame(OP.TEXT, 'x', { len: (1n << 63n) - 1n })), close: CLOSE.TOO_BIG },
    { name: 'a frame claiming 2^64 - 1 bytes (the top bit set)', bytes: ws(wsFrame(OP.TEXT, 'x', { len: (1n << 64n) - 1n })), close: CLOSE.TOO_BIG },
    {
      name: 'a message in two fragments of 2500 bytes',
      bytes: ws(wsFrame(OP.TEXT, 'a'.repeat(2500), { fin: false }), wsFrame(OP.CONTINUATION, 'a'.repeat(2500))),
      close: CLOSE.TOO_BIG,
    },
    {
      name: 'a message in 5000 one-byte fragments',
      bytes: ws(wsFrame(OP.TEXT, 'a', { fin: false }), ...Array.from({ length: 5000 }, () => wsFrame(OP.CONTINUATION, 'a', { fin: false }))),
      close: CLOSE.TOO_BIG,
    },
    // Framing errors.
    { name: 'an unmasked frame from the client', bytes: ws(wsFrame(OP.TEXT, '{}', { mask: false })), close: CLOSE.PROTOCOL_ERROR },
    { name: 'RSV1 set without an extension', bytes: ws(wsFrame(OP.TEXT, '{}', { rsv: 4 })), close: CLOSE.PROTOCOL_ERROR },
    { name: 'RSV2 and RSV3 set', bytes: ws(wsFrame(OP.TEXT, '{}', { rsv: 3 })), close: CLOSE.PROTOCOL_ERROR },
    ...[3, 7, 0xb, 0xf].map((op) => ({ name: `reserved opcode ${op}`, bytes: ws(wsFrame(op, 'x')), close: CLOSE.PROTOCOL_ERROR })),
    { name: 'a continuation without a start', bytes: ws(wsFrame(OP.CONTINUATION, 'x')), close: CLOSE.PROTOCOL_ERROR },
    { name: 'a new message inside a fragmented one', bytes: ws(wsFrame(OP.TEXT, 'a', { fin: false }), wsFrame(OP.TEXT, 'b')), close: CLOSE.PROTOCOL_ERROR },
    { name: 'a ping of 126 bytes', bytes: ws(wsFrame(OP.PING, Buffer.alloc(126))), close: CLOSE.PROTOCOL_ERROR },
    { name: 'a fragmented ping', bytes: ws(wsFrame(OP.PING, 'p', { fin: false })), close: CLOSE.PROTOCOL_ERROR },
    { name: 'a close frame with a 1-byte payload', bytes: ws(wsFrame(OP.CLOSE, Buffer.from([3]))), close: CLOSE.PROTOCOL_ERROR },
    ...[0, 999, 1005, 1006, 5000].map((code) => ({ name: `a close frame with code ${code}`, bytes: ws(closeFrame(code)), close: CLOSE.PROTOCOL_ERROR })),
    { name: 'a close frame with a reason that is not UTF-8', bytes: ws(closeFrame(1000, Buffer.from([0xc3, 0x28]))), close: CLOSE.INVALID_DATA },
    { name: 'a text message that is not UTF-8', bytes: ws(text(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]))), close: CLOSE.INVALID_DATA },
    { name: 'a text message with a UTF-16 surrogate in UTF-8', bytes: ws(text(Buffer.from([0x22, 0xed, 0xa0, 0x80, 0x22]))), close: CLOSE.INVALID_DATA },
    { name: '1000 pings', bytes: ws(...Array.from({ length: 1000 }, () => wsFrame(OP.PING, 'ping'))) },
    { name: '1000 unsolicited pongs', bytes: ws(...Array.from({ length: 1000 }, () => wsFrame(OP.PONG, 'pong'))), kept: true },
    // Messages the page channel must refuse.
    { name: 'a binary message', bytes: ws(wsFrame(OP.BINARY, Buffer.from('{"op":"kill","name":"echo"}'))), close: CLOSE.POLICY },
    { name: 'invalid JSON', bytes: ws(text('{"op": kill')), close: CLOSE.POLICY },
    { name: 'an empty text message', bytes: ws(text('')), close: CLOSE.POLICY },
    { name: 'JSON that is not an object (an array)', bytes: ws(text('["kill","echo"]')), close: CLOSE.POLICY },
    { name: 'JSON null', bytes: ws(text('null')), close: CLOSE.POLICY },
    { name: 'JSON nested 2000 deep', bytes: ws(text('['.repeat(2000) + ']'.repeat(2000))), close: CLOSE.POLICY },
    { name: 'JSON with __proto__ holding the command', bytes: ws(text('{"__proto__":{"op":"kill","name":"echo"}}')), close: CLOSE.POLICY },
    { name: 'JSON with constructor.prototype', bytes: ws(text('{"constructor":{"prototype":{"op":"kill"}}}')), close: CLOSE.POLICY },
    { name: 'kill of the name __proto__', bytes: ws(text('{"op":"kill","name":"__proto__"}')), kept: true },
    { name: 'kill of the echo process (the observer is read-only)', bytes: ws(text('{"op":"kill","name":"echo"}')), kept: true },
    { name: 'kill with a number for a name', bytes: ws(text('{"op":"kill","name":123}')), close: CLOSE.POLICY },
    { name: 'kill without a name', bytes: ws(text('{"op":"kill"}')), close: CLOSE.POLICY },
    { name: 'kill of a 300-character name', bytes: ws(text(JSON.stringify({ op: 'kill', name: 'a'.repeat(300) }))), close: CLOSE.POLICY },
    { name: 'an unknown command', bytes: ws(text('{"op":"shutdown"}')), close: CLOSE.POLICY },
    { name: 'a message of 300 keys and no command', bytes: ws(text(JSON.stringify(Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`k${i}`, i]))))), close: CLOSE.POLICY },
    { name: 'two commands in one message', bytes: ws(text('{"op":"kill","name":"a"}{"op":"kill","name":"b"}')), close: CLOSE.POLICY },
    // Sequences.
    { name: 'a good upgrade, then an HTTP request as frame bytes', bytes: ws(HTTP_GET), close: CLOSE.PROTOCOL_ERROR },
    { name: 'a good upgrade, then 1 MiB of random bytes', bytes: ws(Buffer.from(Array.from({ length: 1 << 20 }, (_, i) => (i * 2654435761) >>> 24))) },
    { name: 'a good upgrade, one byte at a time, then a close', bytes: ws(closeFrame(1000)), opts: { pieces: 1 } },
  ];
}

/** Generated HTTP-ish requests: random bytes, random request lines and headers, mutations of good requests. */
export function httpArbitrary(): fc.Arbitrary<{ bytes: Buffer; pieces: boolean }> {
  const raw = fc.uint8Array({ minLength: 1, maxLength: 300 }).map((b) => Buffer.from(b));
  const token = fc.oneof(fc.constantFrom('GET', 'POST', 'HEAD', 'PUT', 'OPTIONS', 'PRI', 'CONNECT', 'get', ''), fc.string({ maxLength: 12 }));
  // Not fc.webPath(): building it takes seconds.
  const segment = fc.oneof(fc.constantFrom('..', '.', '%2e%2e', '%00', '%ff', 'metrics', 'ws', '__proto__', ''), fc.string({ maxLength: 12 }));
  const path = fc.oneof(
    fc.constantFrom('/', '/metrics', '/ws', '/observer.js', '*', '//', '/../'),
    fc.array(segment, { maxLength: 5 }).map((s) => `/${s.join('/')}`),
    fc.string({ unit: 'binary', maxLength: 60 }),
  );
  const version = fc.oneof(fc.constantFrom('HTTP/1.1', 'HTTP/1.0', 'HTTP/2.0', 'HTTP/0.9', ''), fc.string({ maxLength: 10 }));
  const header = fc.oneof(
    fc.tuple(
      fc.constantFrom('Host', 'Content-Length', 'Transfer-Encoding', 'Upgrade', 'Connection', 'Sec-WebSocket-Key', 'Sec-WebSocket-Version', 'Expect'),
      fc.string({ maxLength: 40 }),
    ),
    fc.tuple(fc.string({ maxLength: 20 }), fc.string({ unit: 'binary', maxLength: 40 })),
  );
  const request = fc
    .tuple(token, path, version, fc.array(header, { maxLength: 8 }), fc.constantFrom('\r\n', '\n', '\r'), fc.uint8Array({ maxLength: 100 }))
    .map(([m, p, v, hs, eol, body]) => Buffer.concat([Buffer.from(`${m} ${p} ${v}${eol}${hs.map(([k, x]) => `${k}: ${x}${eol}`).join('')}${eol}`), body]));
  const mutated = mutatedOf(HTTP_GET, WS_UPGRADE, GET_METRICS);
  return fc.record({ bytes: fc.oneof(raw, request, request, mutated, mutated), pieces: fc.boolean() });
}

/** Generated WebSocket traffic after a good upgrade: random frames, random JSON and command-shaped messages. */
export function wsArbitrary(): fc.Arbitrary<{ bytes: Buffer; pieces: boolean }> {
  const len = fc.option(fc.oneof(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), fc.integer({ min: 0, max: 70_000 }).map(BigInt)));
  const frame = fc
    .tuple(fc.integer({ min: 0, max: 15 }), fc.uint8Array({ maxLength: 300 }), fc.boolean(), fc.constantFrom(0, 0, 0, 1, 2, 4), fc.constantFrom(true, true, true, false), len)
    .map(([op, p, fin, rsv, mask, l]) => wsFrame(op, p, { fin, rsv, mask, len: l ?? undefined }));
  const command = fc
    .record(
      {
        op: fc.oneof(fc.constantFrom('kill', 'noop', '__proto__', 'constructor'), fc.string()),
        name: fc.oneof(fc.constantFrom('echo', '__proto__', 'net_kernel'), fc.string(), fc.jsonValue()),
      },
      { requiredKeys: [] },
    )
    .map((o) => text(JSON.stringify(o)));
  const json = fc.jsonValue().map((v) => text(JSON.stringify(v) ?? 'null'));
  const strings = fc.string({ unit: 'binary', maxLength: 200 }).map((s) => text(s));
  const message = fc.oneof(frame, command, json, strings);
  return fc.record({ bytes: fc.array(message, { minLength: 1, maxLength: 4 }).map((ms) => ws(...ms)), pieces: fc.boolean() });
}
