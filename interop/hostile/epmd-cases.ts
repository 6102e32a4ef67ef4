import fc from 'fast-check';
import { HTTP_GET, WS_UPGRADE, clientHello, frame16, mutatedOf, type NamedCase } from './dist-cases.js';

/**
 * Hostile input for EPMD (erl_dist_protocol, "EPMD Protocol"): requests are `Length:16 Body`,
 * the body's first byte the request code. ALIVE2_REQ is `120 PortNo:16 NodeType:8 Protocol:8
 * Highest:16 Lowest:16 Nlen:16 Name Elen:16 Extra`; PORT_PLEASE2_REQ `122 Name`; NAMES_REQ `110`.
 */
const ALIVE2_REQ = 120; // 'x'
const PORT_PLEASE2_REQ = 122; // 'z'
const NAMES_REQ = 110; // 'n'
const DUMP_REQ = 100; // 'd'
const KILL_REQ = 107; // 'k'
const STOP_REQ = 115; // 's'

/** The body of ALIVE2_REQ; `nlen`/`elen` override the length fields. */
export function alive2Body(name: Uint8Array | string, o: { port?: number; nlen?: number; extra?: Uint8Array; elen?: number; highest?: number; lowest?: number } = {}): Buffer {
  const n = typeof name === 'string' ? Buffer.from(name, 'utf8') : Buffer.from(name);
  const extra = Buffer.from(o.extra ?? new Uint8Array(0));
  const b = Buffer.alloc(13 + n.length + extra.length);
  b[0] = ALIVE2_REQ;
  b.writeUInt16BE(o.port ?? 40000, 1);
  b[3] = 72; // 'H', hidden
  b[4] = 0; // TCP
  b.writeUInt16BE(o.highest ?? 6, 5);
  b.writeUInt16BE(o.lowest ?? 6, 7);
  b.writeUInt16BE(o.nlen ?? n.length, 9);
  n.copy(b, 11);
  b.writeUInt16BE(o.elen ?? extra.length, 11 + n.length);
  extra.copy(b, 13 + n.length);
  return b;
}

const req = (...parts: Array<number | string | Uint8Array>): Buffer =>
  frame16(Buffer.concat(parts.map((p) => (typeof p === 'number' ? Buffer.from([p]) : typeof p === 'string' ? Buffer.from(p, 'utf8') : Buffer.from(p)))));
const bytes = (...xs: number[]): Buffer => Buffer.from(xs);

export function epmdNamedCases(): NamedCase[] {
  const alive = frame16(alive2Body('hostile_reg'));
  return [
    // The request length.
    { name: 'request length 0', bytes: bytes(0, 0) },
    { name: 'request length 65535 with 3 bytes', bytes: bytes(0xff, 0xff, NAMES_REQ) },
    { name: 'request length 65535 with all its bytes (oversized)', bytes: Buffer.concat([bytes(0xff, 0xff, ALIVE2_REQ), Buffer.alloc(0xfffe, 0x61)]) },
    { name: 'request length 1025', bytes: Buffer.concat([bytes(0x04, 0x01, PORT_PLEASE2_REQ), Buffer.alloc(1024, 0x61)]) },
    { name: 'request length beyond the bytes sent', bytes: bytes(0, 40, ALIVE2_REQ, 0x9c, 0x40) },
    { name: 'one byte only', bytes: bytes(0) },
    // ALIVE2_REQ.
    { name: 'ALIVE2 with only its tag', bytes: req(ALIVE2_REQ) },
    { name: 'ALIVE2 cut before Nlen', bytes: frame16(alive2Body('x').subarray(0, 9)) },
    { name: 'ALIVE2 with Nlen 65535', bytes: frame16(alive2Body('x', { nlen: 0xffff })) },
    { name: 'ALIVE2 with Nlen 0', bytes: frame16(alive2Body('')) },
    { name: 'ALIVE2 with Nlen beyond the frame by one', bytes: frame16(alive2Body('abc', { nlen: 4 })) },
    { name: 'ALIVE2 with Elen 65535', bytes: frame16(alive2Body('x', { elen: 0xffff })) },
    { name: 'ALIVE2 without its Elen field', bytes: frame16(alive2Body('x').subarray(0, 12)) },
    { name: 'ALIVE2 with a 300-character name', bytes: frame16(alive2Body('a'.repeat(300))) },
    { name: 'ALIVE2 with a 1000-byte name and 10 bytes of extra', bytes: frame16(alive2Body('b'.repeat(1000), { extra: Buffer.alloc(10) })) },
    { name: 'ALIVE2 with a non-UTF-8 name', bytes: frame16(alive2Body(bytes(0xff, 0xc0, 0x80))) },
    { name: 'ALIVE2 with NUL and control characters in the name', bytes: frame16(alive2Body('a\u0000b\u001b[2J')) },
    { name: 'ALIVE2 with versions 0 and 65535', bytes: frame16(alive2Body('ver', { highest: 0xffff, lowest: 0 })) },
    { name: 'ALIVE2 with port 0', bytes: frame16(alive2Body('port0', { port: 0 })) },
    { name: 'ALIVE2 of a valid name, then a second request on the same connection', bytes: Buffer.concat([alive, req(NAMES_REQ)]) },
    { name: 'ALIVE2 of a valid name, then bytes in a later packet', bytes: Buffer.concat([alive, Buffer.from('more')]), opts: { pieces: alive.length } },
    // PORT_PLEASE2_REQ.
    { name: 'PORT_PLEASE2 with no name', bytes: req(PORT_PLEASE2_REQ) },
    { name: 'PORT_PLEASE2 with a 1000-byte name', bytes: req(PORT_PLEASE2_REQ, 'p'.repeat(1000)) },
    { name: 'PORT_PLEASE2 with a non-UTF-8 name', bytes: req(PORT_PLEASE2_REQ, bytes(0xfe, 0xff)) },
    { name: 'PORT_PLEASE2 with NUL inside the name', bytes: req(PORT_PLEASE2_REQ, 'a\u0000b') },
    { name: 'PORT_PLEASE2 of an unknown name', bytes: req(PORT_PLEASE2_REQ, 'nobody_here') },
    { name: 'PORT_PLEASE2 cut short', bytes: bytes(0, 10, PORT_PLEASE2_REQ, 0x61) },
    // NAMES_REQ and the rest.
    { name: 'NAMES with trailing bytes inside the request', bytes: req(NAMES_REQ, 'trailing') },
    { name: 'NAMES followed by another request', bytes: Buffer.concat([req(NAMES_REQ), req(NAMES_REQ)]) },
    { name: 'DUMP_REQ', bytes: req(DUMP_REQ) },
    { name: 'KILL_REQ', bytes: req(KILL_REQ) },
    { name: 'STOP_REQ of the echo node', bytes: req(STOP_REQ, 'hostile') },
    { name: 'unknown request code 0', bytes: req(0) },
    { name: 'unknown request code 255 with a body', bytes: req(255, 'x'.repeat(100)) },
    // Other protocols on this port.
    { name: 'an HTTP request (GET / HTTP/1.1)', bytes: HTTP_GET },
    { name: 'a WebSocket upgrade request', bytes: WS_UPGRADE },
    { name: 'a TLS ClientHello', bytes: clientHello() },
    { name: 'an Erlang send_name', bytes: frame16(Buffer.concat([bytes(0x4e), Buffer.alloc(12), bytes(0, 3), Buffer.from('x@h')])) },
  ];
}

/** Generated cases: random bytes, random requests of every code, mutations of valid requests. */
export function epmdArbitrary(): fc.Arbitrary<{ bytes: Buffer; pieces: boolean }> {
  const raw = fc.uint8Array({ minLength: 1, maxLength: 300 }).map((b) => Buffer.from(b));
  const code = fc.oneof(fc.constantFrom(ALIVE2_REQ, PORT_PLEASE2_REQ, NAMES_REQ, DUMP_REQ, KILL_REQ, STOP_REQ), fc.integer({ min: 0, max: 255 }));
  const framed = fc.tuple(code, fc.uint8Array({ maxLength: 300 }), fc.oneof(fc.constant(undefined), fc.integer({ min: 0, max: 0xffff }))).map(([c, body, len]) => {
    const f = frame16(Buffer.concat([Buffer.from([c]), body]));
    if (len !== undefined) f.writeUInt16BE(len, 0);
    return f;
  });
  const name = fc.oneof(
    fc.string({ maxLength: 40 }).map((s) => Buffer.from(s)),
    fc.uint8Array({ maxLength: 400 }).map((b) => Buffer.from(b)),
    fc.integer({ min: 250, max: 400 }).map((n) => Buffer.from('a'.repeat(n))),
  );
  const alive2 = fc
    .tuple(name, fc.option(fc.integer({ min: 0, max: 0xffff })), fc.option(fc.integer({ min: 0, max: 0xffff })), fc.uint8Array({ maxLength: 20 }))
    .map(([n, nlen, elen, extra]) => frame16(alive2Body(n, { nlen: nlen ?? undefined, elen: elen ?? undefined, extra })));
  const portPlease = name.map((n) => frame16(Buffer.concat([Buffer.from([PORT_PLEASE2_REQ]), n])));
  const mutated = mutatedOf(frame16(alive2Body('hostile_mut')), frame16(Buffer.from([PORT_PLEASE2_REQ, 0x61, 0x62])), frame16(Buffer.from([NAMES_REQ])));
  return fc.record({ bytes: fc.oneof(raw, framed, alive2, portPlease, mutated, mutated), pieces: fc.boolean() });
}
