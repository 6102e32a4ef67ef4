import fc from 'fast-check';
import { authData, authMessage, formatGreeting } from '@courier/transport-aemp';
import { HTTP_GET, clientHello, frame16, mutatedOf, sendNameBody, type NamedCase } from './dist-cases.js';
import type { ExchangeOptions } from './raw-exchange.js';

/**
 * Hostile input for an AEMP listener (AnyEvent::MP::Transport, docs/aemp.md): each side sends
 * two lines at once, `aemp;1;<nodeid>;<auths>;<framings>[;k=v]*` and a nonce, then the auth line
 * `<method>;<data>;<framing it sends>`; then JSON or CBOR packets. A line longer than 4096 bytes
 * ends the handshake (Perl's rbuf_max).
 */
const line = (...ls: string[]): Buffer => Buffer.from(ls.map((l) => `${l}\n`).join(''), 'utf8');
const greeting = (nodeid: string, rest = 'hmac_sha3_512;json'): string => `aemp;1;${nodeid};${rest}`;
const NONCE = 'bm9uY2Ugb2YgdGhlIGhvc3RpbGUgcGVlcg==';
const HEX128 = 'ab'.repeat(64);
const bytes = (...xs: number[]): Buffer => Buffer.from(xs);
const concat = (...bs: Uint8Array[]): Buffer => Buffer.concat(bs);
/** A good greeting and nonce from the peer `id` (each case its own id: one connection per node id). */
const padded = (s: string, n: number): string => s + 'p'.repeat(n - s.length);
const hello = (id: string): Buffer => line(greeting(id), NONCE);

/** Packets a framing reader must refuse (or hold) without harm. */
const JSON_GARBAGE: ReadonlyArray<readonly [string, Buffer]> = [
  ['a JSON object instead of an array', Buffer.from('{"not":"an array"}')],
  ['unbalanced JSON brackets', Buffer.from(']]]}}}')],
  ['an unterminated JSON array', Buffer.from('["', 'utf8')],
  ['JSON nested 100 000 deep', Buffer.from('['.repeat(100_000))],
  ['a lone UTF-16 surrogate in JSON', Buffer.from('["\\ud800"]')],
  ['a JSON number of 1e400', Buffer.from('[1e400]')],
  ['invalid UTF-8 in JSON', concat(Buffer.from('["'), bytes(0xff, 0xfe), Buffer.from('"]'))],
];
const CBOR_GARBAGE: ReadonlyArray<readonly [string, Buffer]> = [
  ['a CBOR break byte', bytes(0xff)],
  ['a CBOR byte string claiming 4 GiB', bytes(0x5b, 0, 0, 0, 1, 0, 0, 0, 0)],
  ['an unterminated indefinite CBOR array', bytes(0x9f, 0x01, 0x02)],
  ['a CBOR map claiming 2^32 entries', bytes(0xba, 0xff, 0xff, 0xff, 0xff)],
  ['CBOR arrays nested 100 000 deep', Buffer.alloc(100_000, 0x81)],
  ['an unknown CBOR tag', bytes(0xd9, 0xff, 0xff, 0x81, 0x01)],
  ['reserved CBOR additional info', bytes(0x1c, 0x3d, 0x5e)],
];

export function aempNamedCases(): NamedCase[] {
  const badAuth = `hmac_sha3_512;${HEX128};json`;
  return [
    // Node ids: the issue's crash first.
    { name: 'a greeting with a 256-character node id', bytes: line(greeting('x'.repeat(256)), NONCE) },
    { name: 'a greeting with a 300-character node id, no nonce line', bytes: line(greeting('x'.repeat(300))) },
    { name: 'a greeting with a 4000-character node id', bytes: line(greeting('x'.repeat(4000)), NONCE) },
    { name: 'a greeting with 256 code points of é (512 bytes)', bytes: line(greeting('é'.repeat(256)), NONCE) },
    { name: 'a greeting with a 255-character node id (the limit)', bytes: line(greeting('y'.repeat(255)), NONCE) },
    { name: 'a node id with NUL', bytes: line(greeting('a\u0000b'), NONCE) },
    { name: 'a node id with terminal escapes', bytes: line(greeting('\u001b[2J\u001b]0;pwned\u0007'), NONCE) },
    { name: 'a node id with CR, TAB and DEL', bytes: line(greeting('a\rb\tc\u007f'), NONCE) },
    { name: 'a node id with C1 controls and a BOM', bytes: line(greeting('\u0085\u009b\ufeffid'), NONCE) },
    { name: 'a node id with invalid UTF-8', bytes: concat(Buffer.from('aemp;1;'), bytes(0xff, 0xfe, 0xc0, 0x80), line(';hmac_sha3_512;json', NONCE)) },
    { name: 'a node id with a lone surrogate in UTF-8', bytes: concat(Buffer.from('aemp;1;a'), bytes(0xed, 0xa0, 0x80), line(';hmac_sha3_512;json', NONCE)) },
    { name: 'a node id that is the echo node’s own id', bytes: line(greeting('hostile-aemp-target'), NONCE) },
    { name: 'a node id like a port id (id#port)', bytes: line(greeting('a#b'), NONCE) },
    // Empty fields.
    { name: 'an empty line', bytes: line('') },
    { name: 'a thousand empty lines', bytes: Buffer.alloc(1000, 0x0a) },
    { name: 'an empty node id', bytes: line(greeting(''), NONCE) },
    { name: 'only separators (;;;;)', bytes: line(';;;;', NONCE) },
    { name: 'no auth methods', bytes: line(greeting('e1', ';json'), NONCE) },
    { name: 'no framings', bytes: line(greeting('e2', 'hmac_sha3_512;'), NONCE) },
    { name: 'an empty nonce line', bytes: line(greeting('e3'), '') },
    { name: 'an empty auth line', bytes: concat(hello('e4'), line('')) },
    { name: 'an auth line of separators only', bytes: concat(hello('e5'), line(';;')) },
    // Wrong protocol or version; too few fields.
    { name: 'protocol AEMP (upper case)', bytes: line('AEMP;1;w1;hmac_sha3_512;json', NONCE) },
    { name: 'protocol amp', bytes: line('amp;1;w2;hmac_sha3_512;json', NONCE) },
    { name: 'version 2', bytes: line('aemp;2;w3;hmac_sha3_512;json', NONCE) },
    { name: 'version 0', bytes: line('aemp;0;w4;hmac_sha3_512;json', NONCE) },
    { name: 'version NaN', bytes: line('aemp;NaN;w5;hmac_sha3_512;json', NONCE) },
    { name: 'version 1e999', bytes: line('aemp;1e999;w6;hmac_sha3_512;json', NONCE) },
    { name: 'three fields', bytes: line('aemp;1;w7', NONCE) },
    { name: 'unknown auths and framings only', bytes: concat(line(greeting('w8', 'md5,rot13;storable,xml'), NONCE), line(badAuth)) },
    // key=value pairs (they become an object's keys).
    { name: 'kv __proto__, constructor and toString', bytes: line(`${greeting('k1')};__proto__=1;constructor=x;toString=y;hasOwnProperty=z`, NONCE) },
    { name: 'kv tls=1.0 to a node without TLS', bytes: concat(line(`${greeting('k2')};tls=1.0`, NONCE), line(badAuth)) },
    { name: 'kv: 1000 pairs in one line', bytes: line(`${greeting('k3')}${';a=b'.repeat(1000)}`, NONCE) },
    { name: 'kv without key (=v) and without =', bytes: line(`${greeting('k4')};=v;novalue;==;courier=1`, NONCE) },
    // Binary garbage and lines without an end.
    { name: 'binary garbage with newlines', bytes: Buffer.from(Array.from({ length: 4096 }, (_, i) => (i % 97 === 0 ? 0x0a : (i * 2654435761) >>> 24))) },
    { name: '64 KiB of NUL bytes', bytes: Buffer.alloc(65536) },
    { name: '1 MiB of random bytes', bytes: Buffer.from(Array.from({ length: 1 << 20 }, (_, i) => (i * 2246822519) >>> 24)) },
    { name: 'a 4096-byte greeting line (the limit), then a nonce', bytes: line(padded(greeting('z1', 'hmac_sha3_512;json;pad='), 4096), NONCE) },
    { name: 'a 4097-byte line without a newline is dropped at once', bytes: Buffer.alloc(4097, 0x61), opts: { keepOpen: true, closeWaitMs: 3000 } },
    { name: 'a 1 MiB line without a newline, one connection', bytes: Buffer.alloc(1 << 20, 0x62), opts: { keepOpen: true, closeWaitMs: 3000 } },
    { name: 'a good greeting one byte at a time', bytes: hello('slow1'), opts: { pieces: 1 } },
    { name: 'a greeting cut before its newline', bytes: Buffer.from(greeting('cut1')) },
    // A correct greeting, then a bad auth line.
    { name: 'a wrong HMAC', bytes: concat(hello('a1'), line(badAuth)) },
    { name: 'an HMAC of the wrong length', bytes: concat(hello('a2'), line('hmac_sha3_512;abcd;json')) },
    { name: 'an HMAC that is not hex', bytes: concat(hello('a3'), line(`hmac_sha3_512;${'zz'.repeat(64)};json`)) },
    { name: 'cleartext auth (not allowed)', bytes: concat(hello('a4'), line(`cleartext;${Buffer.from('S').toString('hex')};json`)) },
    { name: 'tls_anon without TLS', bytes: concat(hello('a5'), line('tls_anon;;json')) },
    { name: 'tls_sha3_512 without TLS', bytes: concat(hello('a6'), line(`tls_sha3_512;${HEX128};json`)) },
    { name: 'an unknown auth method', bytes: concat(hello('a7'), line(`rot13;${HEX128};json`)) },
    { name: 'courier_refused with an unknown code', bytes: concat(hello('a8'), line('courier_refused;\u001b[31m;x')) },
    { name: 'an auth line naming framing storable', bytes: concat(hello('a9'), line(`hmac_sha3_512;${HEX128};storable`)) },
    { name: 'an auth line longer than 4096 bytes', bytes: concat(hello('a10'), line(`hmac_sha3_512;${'ab'.repeat(3000)};json`)) },
    { name: 'two greetings, no auth line', bytes: concat(hello('a11'), hello('a12')) },
    // A failed auth, then framing garbage.
    ...JSON_GARBAGE.map(([what, g]) => ({ name: `a wrong HMAC, then ${what}`, bytes: concat(hello('j'), line(badAuth), g) })),
    ...CBOR_GARBAGE.map(([what, g]) => ({ name: `a wrong HMAC naming cbor, then ${what}`, bytes: concat(hello('c'), line(`hmac_sha3_512;${HEX128};cbor`), g) })),
    // Other protocols on this port.
    { name: 'a TLS ClientHello', bytes: clientHello() },
    { name: 'an HTTP request (GET / HTTP/1.1)', bytes: HTTP_GET },
    { name: 'an SSH banner', bytes: Buffer.from('SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n') },
    { name: 'an Erlang send_name', bytes: frame16(sendNameBody('x@h')) },
  ];
}

/**
 * After a CORRECT auth (the suite knows the secret, read when the case runs): the greeting, nonce and auth line answer the
 * node's own greeting, then `garbage` in the framing named. The node must close this connection.
 */
export function authedCases(secret: () => string): Array<NamedCase & { readonly opts: ExchangeOptions }> {
  let n = 0;
  const authed = (framing: 'json' | 'cbor'): ExchangeOptions => {
    const id = `authed-${process.pid}-${++n}`;
    const own1 = formatGreeting({ nodeid: id, auths: ['hmac_sha3_512'], framings: ['json', 'cbor'], kv: {} });
    return {
      closeWaitMs: 3000,
      first: (answer) => {
        const lines = answer.toString('utf8').split('\n');
        if (lines.length < 3) return undefined;
        const [peer1, peer2] = lines as [string, string];
        const data = authData('hmac_sha3_512', secret(), authMessage(own1, NONCE, peer1, peer2)) as string;
        return line(own1, NONCE, `hmac_sha3_512;${data};${framing}`);
      },
    };
  };
  return [
    ...JSON_GARBAGE.map(([what, g]) => ({ name: `after a correct auth (json): ${what}`, bytes: g, opts: authed('json') })),
    ...CBOR_GARBAGE.map(([what, g]) => ({ name: `after a correct auth (cbor): ${what}`, bytes: g, opts: authed('cbor') })),
    { name: 'after a correct auth (json): a second greeting', bytes: hello('again'), opts: authed('json') },
  ];
}

/** Generated cases: random bytes and lines, greetings built from hostile fields, mutated handshakes. */
export function aempArbitrary(): fc.Arbitrary<{ bytes: Buffer; pieces: boolean }> {
  const raw = fc.uint8Array({ minLength: 1, maxLength: 300 }).map((b) => Buffer.from(b));
  const text = fc.string({ unit: 'binary', maxLength: 60 });
  const lines = fc.array(text, { minLength: 1, maxLength: 4 }).map((ls) => line(...ls));
  const nodeid = fc.oneof(
    fc.string({ maxLength: 40 }),
    text,
    fc.integer({ min: 250, max: 300 }).map((k) => 'n'.repeat(k)),
    fc.string({ unit: fc.integer({ min: 0, max: 0x9f }).map((c) => String.fromCharCode(c)), maxLength: 20 }),
  );
  const field = fc.oneof(fc.constant('hmac_sha3_512'), fc.constant('json'), fc.constant('cbor'), fc.constant(''), text);
  const built = fc
    .tuple(
      fc.oneof(fc.constant('aemp'), text),
      fc.oneof(fc.constant('1'), text),
      nodeid,
      field,
      field,
      fc.array(fc.tuple(text, text), { maxLength: 4 }),
      fc.option(text),
      fc.option(fc.tuple(field, fc.oneof(fc.constant(HEX128), text), field)),
      fc.uint8Array({ maxLength: 40 }),
    )
    .map(([proto, version, id, auths, framings, kv, nonce, auth, tail]) =>
      concat(
        Buffer.from(`${proto};${version};${id};${auths};${framings}${kv.map(([k, v]) => `;${k}=${v}`).join('')}\n`, 'utf8'),
        nonce === null ? Buffer.alloc(0) : line(nonce),
        auth === null ? Buffer.alloc(0) : line(auth.join(';')),
        tail,
      ),
    );
  const mutated = mutatedOf(concat(hello('mut'), line(`hmac_sha3_512;${HEX128};json`), Buffer.from('[1,2]')), line(greeting('x'.repeat(256)), NONCE));
  return fc.record({ bytes: fc.oneof(raw, lines, built, built, mutated, mutated), pieces: fc.boolean() });
}
