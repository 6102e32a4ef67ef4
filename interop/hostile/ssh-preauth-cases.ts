import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { HTTP_GET, WS_UPGRADE, clientHello, frame16, mutatedOf, sendNameBody } from './dist-cases.js';
import type { ExchangeOptions } from './raw-exchange.js';

/**
 * Hostile input for the SSH listener before authentication (RFC 4253): the client's first line
 * is its identification `SSH-2.0-softwareversion [comments] CR LF` (at most 255 bytes), then
 * binary packets `packet_length:32 padding_length:8 payload random_padding` (unencrypted until
 * NEWKEYS; packet_length + 4 a multiple of 8, at least 16 bytes in all), the first payload
 * SSH_MSG_KEXINIT. ssh2 refuses client greetings, lines of 8 KiB and packets over 35,000 bytes.
 */
export const BANNER = Buffer.from('SSH-2.0-hostile_1.0\r\n');
const KEXINIT = 20;
const SERVICE_REQUEST = 5;
const KEX_ECDH_INIT = 30;
const KEXDH_GEX_REQUEST = 34;

export interface RawCase {
  readonly name: string;
  readonly bytes: Uint8Array;
  readonly opts?: ExchangeOptions;
  /** The node must close the connection by itself (we send no FIN): it detected the bad input. */
  readonly nodeCloses?: boolean;
}

const bytes = (...xs: number[]): Buffer => Buffer.from(xs);
const concat = (...bs: Uint8Array[]): Buffer => Buffer.concat(bs);
const u32 = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
};
const sshString = (s: string | Uint8Array): Buffer => {
  const b = typeof s === 'string' ? Buffer.from(s, 'latin1') : Buffer.from(s);
  return concat(u32(b.length), b);
};

/** One binary packet around `payload`; `len`/`pad` override packet_length and padding_length. */
export function packet(payload: Uint8Array, o: { len?: number; pad?: number } = {}): Buffer {
  let padding = 8 - ((5 + payload.length) % 8);
  if (padding < 4) padding += 8;
  const body = concat(bytes(o.pad ?? padding), payload, Buffer.alloc(padding, 0x5a));
  return concat(u32(o.len ?? body.length), body);
}

/** SSH_MSG_KEXINIT with the given name-lists (kex, host key, ciphers, macs, compression, languages). */
export function kexinit(lists: Partial<Record<'kex' | 'hostKey' | 'cipher' | 'mac' | 'comp', string>> = {}, o: { listLen?: number } = {}): Buffer {
  const kex = lists.kex ?? 'curve25519-sha256';
  const hostKey = lists.hostKey ?? 'ssh-ed25519';
  const cipher = lists.cipher ?? 'aes128-ctr';
  const mac = lists.mac ?? 'hmac-sha2-256';
  const comp = lists.comp ?? 'none';
  const first = o.listLen === undefined ? sshString(kex) : concat(u32(o.listLen), Buffer.from(kex));
  return concat(bytes(KEXINIT), Buffer.alloc(16, 0x11), first, ...[hostKey, cipher, cipher, mac, mac, comp, comp, '', ''].map((l) => sshString(l)), bytes(0), u32(0));
}

/** The first flight of a client: banner and KEXINIT. */
export const FIRST_FLIGHT = concat(BANNER, packet(kexinit()));

export function preauthNamedCases(): RawCase[] {
  const keep = (ms = 3000): ExchangeOptions => ({ keepOpen: true, closeWaitMs: ms });
  const withKex = (...ps: Buffer[]): Buffer => concat(FIRST_FLIGHT, ...ps);
  return [
    // The identification line.
    {
      name: 'binary garbage instead of the banner, with a newline',
      bytes: concat(
        randomBytes(64).map((b) => (b === 10 ? 11 : b)),
        bytes(10),
      ),
      opts: keep(),
      nodeCloses: true,
    },
    { name: 'binary garbage instead of the banner, no newline', bytes: Buffer.from(Array.from({ length: 600 }, (_, i) => ((i * 2654435761) >>> 24) | 1)) },
    { name: 'a line that is not SSH- (clients may not greet first)', bytes: Buffer.from('hello there\r\n'), opts: keep(), nodeCloses: true },
    { name: 'a banner of 9000 bytes (over the 8 KiB line limit)', bytes: Buffer.from(`SSH-2.0-${'a'.repeat(9000)}\r\n`), opts: keep(), nodeCloses: true },
    { name: 'a banner of 300 bytes (over RFC 4253’s 255; OpenSSH and ssh2 allow 8 KiB)', bytes: Buffer.from(`SSH-2.0-${'b'.repeat(290)}\r\n`), opts: keep(1000) },
    { name: 'a 1 MiB line without a newline', bytes: Buffer.alloc(1 << 20, 0x61), opts: keep(), nodeCloses: true },
    { name: 'a banner with an empty software version', bytes: Buffer.from('SSH-2.0-\r\n'), opts: keep(), nodeCloses: true },
    { name: 'SSH protocol 1.5', bytes: Buffer.from('SSH-1.5-OpenSSH_2.0\r\n'), opts: keep(), nodeCloses: true },
    { name: 'a banner with NUL and escape bytes', bytes: Buffer.from('SSH-2.0-\u0000\u001b[2J\u001b]0;x\u0007\r\n'), opts: keep(1000) },
    { name: 'a banner with CR not followed by LF', bytes: Buffer.from('SSH-2.0-x\rSSH\r\n'), opts: keep(), nodeCloses: true },
    { name: '64 KiB of CR', bytes: Buffer.alloc(65536, 13) },
    { name: '10 000 empty lines', bytes: Buffer.alloc(10_000, 10), opts: keep(), nodeCloses: true },
    { name: 'the banner one byte at a time', bytes: FIRST_FLIGHT, opts: { pieces: 1 } },
    { name: 'two banners', bytes: concat(BANNER, BANNER), opts: keep(), nodeCloses: true },
    // Binary packets after a good banner.
    { name: 'a banner, then random bytes', bytes: concat(BANNER, randomBytes(200)), opts: keep(), nodeCloses: true },
    { name: 'packet length 0', bytes: concat(BANNER, u32(0), Buffer.alloc(16)), opts: keep(), nodeCloses: true },
    { name: 'packet length 0xFFFFFFFF', bytes: concat(BANNER, u32(0xffff_ffff), Buffer.alloc(16)), opts: keep(), nodeCloses: true },
    { name: 'packet length 35 004 (past the 35 000 limit)', bytes: concat(BANNER, u32(35_004), Buffer.alloc(64)), opts: keep(), nodeCloses: true },
    { name: 'packet length 34 996 of zeros (at the limit, payload type 0)', bytes: concat(BANNER, u32(34_996), Buffer.alloc(34_996)), opts: keep(), nodeCloses: true },
    { name: 'packet length 1000, 10 bytes sent', bytes: concat(BANNER, u32(1000), Buffer.alloc(10)) },
    { name: 'packet length not a multiple of the block size', bytes: concat(BANNER, u32(13), Buffer.alloc(13)), opts: keep(), nodeCloses: true },
    { name: 'padding length past the packet', bytes: concat(BANNER, packet(kexinit(), { pad: 255 })), opts: keep(), nodeCloses: true },
    // ssh2 tolerates padding under RFC 4253's minimum of 4 (the login grace time bounds the rest).
    { name: 'padding length 0', bytes: concat(BANNER, packet(kexinit(), { pad: 0 })) },
    { name: 'an empty payload', bytes: concat(BANNER, packet(Buffer.alloc(0))), opts: keep(1000) },
    {
      name: 'SERVICE_REQUEST ssh-userauth before any key exchange',
      bytes: concat(BANNER, packet(concat(bytes(SERVICE_REQUEST), sshString('ssh-userauth')))),
      opts: keep(),
      nodeCloses: true,
    },
    { name: 'message type 255 first', bytes: concat(BANNER, packet(bytes(255, 1, 2, 3))), opts: keep(1000) },
    // KEXINIT and the key exchange.
    { name: 'KEXINIT with empty name-lists', bytes: concat(BANNER, packet(kexinit({ kex: '', hostKey: '', cipher: '', mac: '', comp: '' }))), opts: keep(), nodeCloses: true },
    { name: 'KEXINIT with no algorithm in common', bytes: concat(BANNER, packet(kexinit({ kex: 'rot13-kex', cipher: 'none' }))), opts: keep(), nodeCloses: true },
    { name: 'KEXINIT whose first name-list claims 0xFFFFFFFF bytes', bytes: concat(BANNER, packet(kexinit({}, { listLen: 0xffff_ffff }))), opts: keep(), nodeCloses: true },
    { name: 'KEXINIT with 2000 kex names', bytes: concat(BANNER, packet(kexinit({ kex: Array.from({ length: 2000 }, (_, i) => `k${i}`).join(',') + ',curve25519-sha256' }))) },
    { name: 'KEXINIT cut short', bytes: concat(BANNER, packet(kexinit().subarray(0, 30))), opts: keep(), nodeCloses: true },
    { name: 'two KEXINITs', bytes: withKex(packet(kexinit())), opts: keep(), nodeCloses: true },
    { name: 'ECDH_INIT with an empty key', bytes: withKex(packet(concat(bytes(KEX_ECDH_INIT), sshString('')))), opts: keep(), nodeCloses: true },
    { name: 'ECDH_INIT with a 1000-byte key', bytes: withKex(packet(concat(bytes(KEX_ECDH_INIT), sshString(Buffer.alloc(1000, 7))))), opts: keep(), nodeCloses: true },
    {
      name: 'ECDH_INIT with the all-zero (low-order) X25519 point',
      bytes: withKex(packet(concat(bytes(KEX_ECDH_INIT), sshString(Buffer.alloc(32))))),
      opts: keep(),
      nodeCloses: true,
    },
    {
      name: 'ECDH_INIT whose key length runs past the packet',
      bytes: withKex(packet(concat(bytes(KEX_ECDH_INIT), u32(0x7fff_ffff), Buffer.alloc(8)))),
      opts: keep(),
      nodeCloses: true,
    },
    {
      name: 'DH group exchange asking for 8192-bit groups',
      bytes: concat(BANNER, packet(kexinit({ kex: 'diffie-hellman-group-exchange-sha256' })), packet(concat(bytes(KEXDH_GEX_REQUEST), u32(8192), u32(8192), u32(8192)))),
      opts: keep(),
      nodeCloses: true,
    },
    { name: 'KEXINIT, then NEWKEYS without a key exchange', bytes: withKex(packet(bytes(21))), opts: keep(), nodeCloses: true },
    // Other protocols on this port.
    { name: 'an HTTP request (GET / HTTP/1.1)', bytes: HTTP_GET, opts: keep(), nodeCloses: true },
    { name: 'a WebSocket upgrade request', bytes: WS_UPGRADE, opts: keep(), nodeCloses: true },
    { name: 'a TLS ClientHello', bytes: clientHello() },
    { name: 'an Erlang send_name', bytes: frame16(sendNameBody('x@h')) },
    { name: 'an EPMD NAMES request', bytes: bytes(0, 1, 110) },
    { name: 'an AEMP greeting line', bytes: Buffer.from('aemp;1;x;hmac_sha3_512;json\n'), opts: keep(), nodeCloses: true },
    { name: '1 MiB of random bytes', bytes: randomBytes(1 << 20) },
  ];
}

/** Generated cases: random bytes, banners from hostile text, random packets after a banner, mutated first flights. */
export function preauthArbitrary(): fc.Arbitrary<{ bytes: Buffer; pieces: boolean }> {
  const raw = fc.uint8Array({ minLength: 1, maxLength: 400 }).map((b) => Buffer.from(b));
  const banner = fc
    .tuple(
      fc.constantFrom('SSH-2.0-', 'SSH-1.99-', 'SSH-', 'SSH-2.0', ''),
      fc.string({ unit: 'binary', maxLength: 300 }),
      fc.constantFrom('\r\n', '\n', '\r', ''),
      fc.uint8Array({ maxLength: 64 }),
    )
    .map(([p, s, end, tail]) => concat(Buffer.from(`${p}${s}${end}`, 'utf8'), tail));
  const packets = fc
    .tuple(
      fc.array(
        fc.tuple(
          fc.uint8Array({ maxLength: 200 }),
          fc.option(fc.oneof(fc.constantFrom(0, 1, 4, 5, 12, 35_000, 35_004, 0xffff_ffff), fc.nat())),
          fc.option(fc.integer({ min: 0, max: 255 })),
        ),
        { minLength: 1, maxLength: 4 },
      ),
      fc.boolean(),
    )
    .map(([ps, kex]) => concat(kex ? FIRST_FLIGHT : BANNER, ...ps.map(([payload, len, pad]) => packet(payload, { len: len ?? undefined, pad: pad ?? undefined }))));
  const names = fc.array(fc.string({ unit: 'binary', maxLength: 30 }), { maxLength: 6 }).map((xs) => xs.join(','));
  const kexes = fc
    .record({ kex: names, hostKey: names, cipher: names, mac: names, comp: names })
    .map((l) => concat(BANNER, packet(kexinit({ kex: `${l.kex},curve25519-sha256`, hostKey: `${l.hostKey},ssh-ed25519`, cipher: l.cipher, mac: l.mac, comp: l.comp }))));
  const mutated = mutatedOf(concat(FIRST_FLIGHT, packet(concat(bytes(KEX_ECDH_INIT), sshString(Buffer.alloc(32, 9))))), FIRST_FLIGHT);
  return fc.record({ bytes: fc.oneof(raw, banner, packets, packets, kexes, mutated, mutated), pieces: fc.boolean() });
}
