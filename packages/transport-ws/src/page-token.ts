import { createHmac, timingSafeEqual } from 'node:crypto';
import { UsageError } from '@courier/core';
import { PageAuthError } from './page-auth-error.js';
import type { Authorize, PageAuthorization, PageGrants } from './page-types.js';

/**
 * The page token (docs/ws.md): a JWT signed with HS256 by the application's server, with a secret
 * it shares with the gateway. Claims: `sub` (the page's identity), `exp` (required; seconds since
 * the epoch), `grants` (`{ names: [{ name, node }], ports: ["nodeid#port"] }`), optionally `nbf`,
 * `iat` and `aud`. Anything but `alg: HS256` (`none` above all) is refused.
 */
export interface PageTokenClaims {
  readonly sub: string;
  readonly grants: PageGrants;
  /** Seconds since the epoch. */
  readonly exp: number;
  readonly nbf?: number;
  readonly iat?: number;
  readonly aud?: string;
}

/** Shortest shared secret accepted: 32 bytes, HS256's key size. */
export const MIN_SECRET_BYTES = 32;
/** Longest life a page token may have by default (`exp` − now): 1 hour. */
export const DEFAULT_MAX_TOKEN_LIFETIME_S = 3600;

const enc = new TextEncoder();
const HEADER = b64url(enc.encode(JSON.stringify({ alg: 'HS256', typ: 'JWT' })));

function b64url(b: Uint8Array): string {
  return Buffer.from(b).toString('base64url');
}

function checkSecret(secret: string | Uint8Array): Uint8Array {
  const key = typeof secret === 'string' ? enc.encode(secret) : secret;
  if (key.length < MIN_SECRET_BYTES) {
    throw new UsageError('WEAK_SECRET', `a page token secret needs at least ${MIN_SECRET_BYTES} bytes (got ${key.length}): use e.g. crypto.randomBytes(32).toString('hex')`);
  }
  return key;
}

function mac(key: Uint8Array, signingInput: string): Buffer {
  return createHmac('sha256', key).update(signingInput).digest();
}

/**
 * Sign a page token (for the application's server): `ttlS` seconds from now (default 300),
 * for identity `sub`, reaching what `grants` lists.
 */
export function signPageToken(
  secret: string | Uint8Array,
  claims: { readonly sub: string; readonly grants: PageGrants; readonly ttlS?: number; readonly aud?: string },
  now = Date.now(),
): string {
  const key = checkSecret(secret);
  const iat = Math.floor(now / 1000);
  const body: PageTokenClaims = { sub: claims.sub, grants: claims.grants, iat, exp: iat + (claims.ttlS ?? 300), ...(claims.aud !== undefined ? { aud: claims.aud } : {}) };
  const input = `${HEADER}.${b64url(enc.encode(JSON.stringify(body)))}`;
  return `${input}.${b64url(mac(key, input))}`;
}

/**
 * Options of page-token verification: the longest lifetime accepted, the audience, and the clock skew
 * allowed.
 */
export interface VerifyPageTokenOptions {
  /** Longest `exp` − now accepted, seconds. Default DEFAULT_MAX_TOKEN_LIFETIME_S. */
  readonly maxLifetimeS?: number;
  /** When set, the token's `aud` must be this. */
  readonly audience?: string;
  /** Clock skew allowed on `exp` and `nbf`, seconds. Default 0. */
  readonly leewayS?: number;
}

function bad(why: string): never {
  throw new PageAuthError('BAD_TOKEN', `the page token is refused: ${why}; get a fresh one from the application`);
}

function json(part: string, what: string): Record<string, unknown> {
  if (!/^[A-Za-z0-9_-]*$/.test(part)) bad(`its ${what} is not base64url`);
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  } catch {
    bad(`its ${what} is not JSON`);
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) bad(`its ${what} is not a JSON object`);
  return v as Record<string, unknown>;
}

/** The grants claim, checked field by field (a peer's data: no prototype is reached). */
function grantsOf(v: unknown): PageGrants {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) bad('its grants claim is not an object');
  const g = v as { names?: unknown; ports?: unknown };
  const names = g.names ?? [];
  const ports = g.ports ?? [];
  if (!Array.isArray(names) || !Array.isArray(ports)) bad('grants.names and grants.ports must be arrays');
  const okName = (x: unknown): x is { name: string; node: string } =>
    x !== null && typeof x === 'object' && typeof (x as { name?: unknown }).name === 'string' && typeof (x as { node?: unknown }).node === 'string';
  if (!names.every(okName)) bad('each of grants.names must be { name, node } (strings)');
  if (!ports.every((p) => typeof p === 'string')) bad('each of grants.ports must be a port id string "nodeid#port"');
  return { names: names.map((n) => ({ name: n.name, node: n.node })), ports: [...ports] };
}

/**
 * Verify a page token: HS256 only, the signature (constant-time), `exp` (required, in the future,
 * at most `maxLifetimeS` away), `nbf`, `aud`, `sub` and `grants`. Throws {@link PageAuthError}.
 */
export function verifyPageToken(secret: string | Uint8Array, token: string, o: VerifyPageTokenOptions = {}, now = Date.now()): PageTokenClaims {
  const key = checkSecret(secret);
  if (token === '') throw new PageAuthError('NO_TOKEN', 'no page token was sent: send the token from the application as the first WebSocket message');
  const parts = token.split('.');
  if (parts.length !== 3) bad('it is not a JWT (three dot-separated parts)');
  const [h, p, s] = parts as [string, string, string];
  const header = json(h, 'header');
  if (header['alg'] !== 'HS256') bad(`its alg is ${JSON.stringify(header['alg'])}; only HS256 is accepted`);
  if (header['crit'] !== undefined) bad('it has critical header parameters');
  if (!/^[A-Za-z0-9_-]+$/.test(s)) bad('its signature is not base64url');
  const given = Buffer.from(s, 'base64url');
  const want = mac(key, `${h}.${p}`);
  if (given.length !== want.length || !timingSafeEqual(given, want)) bad('its signature does not match (another secret, or an altered token)');
  const c = json(p, 'payload');
  const t = now / 1000;
  const leeway = o.leewayS ?? 0;
  const exp = c['exp'];
  if (typeof exp !== 'number' || !Number.isFinite(exp)) bad('it has no exp claim');
  if (exp + leeway <= t) throw new PageAuthError('TOKEN_EXPIRED', `the page token expired at ${new Date(exp * 1000).toISOString()}: get a fresh one from the application`);
  const max = o.maxLifetimeS ?? DEFAULT_MAX_TOKEN_LIFETIME_S;
  if (exp - t > max) throw new PageAuthError('TOKEN_TOO_LONG_LIVED', `the page token lives ${Math.round(exp - t)} s; at most ${max} s is accepted: issue short-lived tokens`);
  const nbf = c['nbf'];
  if (nbf !== undefined && (typeof nbf !== 'number' || nbf - leeway > t)) bad('it is not valid yet (nbf)');
  if (o.audience !== undefined && c['aud'] !== o.audience) bad(`its aud is not ${o.audience}`);
  const sub = c['sub'];
  if (typeof sub !== 'string' || sub === '' || sub.length > 256) bad('its sub claim (the identity) must be a string of 1 to 256 characters');
  return { sub, exp, grants: grantsOf(c['grants']), ...(typeof c['iat'] === 'number' ? { iat: c['iat'] } : {}), ...(typeof c['aud'] === 'string' ? { aud: c['aud'] } : {}) };
}

/**
 * The shipped `authorize`: the credential is a page token signed with `secret`
 * ({@link verifyPageToken}); identity `sub`, its grants, and the session ends at `exp`.
 */
export function tokenAuthorizer(secret: string | Uint8Array, o: VerifyPageTokenOptions = {}): Authorize {
  checkSecret(secret);
  return (req): PageAuthorization => {
    const c = verifyPageToken(secret, req.credential, o);
    return { identity: c.sub, grants: c.grants, expiresAt: c.exp * 1000 };
  };
}
