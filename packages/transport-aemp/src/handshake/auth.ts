import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Auth line (Transport.pm:262-302): `<method>;<auth data>;<framing I send>`. The data proves the
 * secret over the four greeting lines, the sender's own first: `own1 LF own2 LF peer1 LF peer2 LF`.
 *
 * | method          | data                                         |
 * |-----------------|----------------------------------------------|
 * | hmac_sha3_512   | hex HMAC-SHA3-512(secret, lines)             |
 * | cleartext       | hex of the secret's bytes                    |
 * | tls_sha3_512    | hex SHA3-512(lines) — under TLS only         |
 * | tls_anon        | empty — under TLS only                       |
 */
export const AuthMethod = {
  HMAC_SHA3_512: 'hmac_sha3_512',
  CLEARTEXT: 'cleartext',
  TLS_SHA3_512: 'tls_sha3_512',
  TLS_ANON: 'tls_anon',
} as const;
export type AuthMethod = (typeof AuthMethod)[keyof typeof AuthMethod];

/** The message the sender of an auth line signs: its own two lines first, each followed by LF. */
export function authMessage(own1: string, own2: string, peer1: string, peer2: string): Buffer {
  return Buffer.from(`${own1}\n${own2}\n${peer1}\n${peer2}\n`, 'utf8');
}

/** `Digest::HMAC::hmac_hex($msg, $secret, \&sha3_512, 72)`: standard HMAC, block 72, lowercase hex. */
export function hmacSha3512Hex(secret: string | Uint8Array, msg: Uint8Array): string {
  return createHmac('sha3-512', secret).update(msg).digest('hex');
}

/** SHA3-512 of `msg` as lowercase hex. */
export function sha3512Hex(msg: Uint8Array): string {
  return createHash('sha3-512').update(msg).digest('hex');
}

/** `unpack "H*", $secret` */
export function cleartextHex(secret: string): string {
  return Buffer.from(secret, 'utf8').toString('hex');
}

/** The auth data `method` asks the sender of `msg` for; undefined for a method Courier never sends. */
export function authData(method: string, secret: string | undefined, msg: Uint8Array): string | undefined {
  switch (method) {
    case AuthMethod.HMAC_SHA3_512:
      return secret === undefined ? undefined : hmacSha3512Hex(secret, msg);
    case AuthMethod.TLS_SHA3_512:
      return sha3512Hex(msg);
    case AuthMethod.CLEARTEXT:
      return secret === undefined ? undefined : cleartextHex(secret);
    case AuthMethod.TLS_ANON:
      return '';
    default:
      return undefined;
  }
}

/** Constant-time comparison of two hex strings. */
export function sameHex(a: string, b: string): boolean {
  const x = Buffer.from(a, 'latin1');
  const y = Buffer.from(b, 'latin1');
  return x.length === y.length && timingSafeEqual(x, y);
}
