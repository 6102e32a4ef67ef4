import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { PageAuthError, signPageToken, tokenAuthorizer, verifyPageToken } from '@courier/transport-ws';

const SECRET = 'a-secret-of-at-least-thirty-two-bytes!!';
const GRANTS = { names: [{ name: 'echo', node: 'erl@host' }], ports: ['n1#echo'] };
const b64 = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');
/** A JWT made by hand: any header, any payload, signed with `secret` (or unsigned). */
function jwt(header: unknown, payload: unknown, secret: string | undefined = SECRET): string {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${secret === undefined ? '' : createHmac('sha256', secret).update(input).digest('base64url')}`;
}
const now = Math.floor(Date.now() / 1000);
const code = (f: () => unknown): string => {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(PageAuthError);
    return (e as PageAuthError).code;
  }
  return 'ACCEPTED';
};

describe('page tokens (HS256)', () => {
  it('a token signed by signPageToken verifies: identity, grants, exp', () => {
    const t = signPageToken(SECRET, { sub: 'alice', grants: GRANTS, ttlS: 60 });
    const c = verifyPageToken(SECRET, t);
    expect(c).toMatchObject({ sub: 'alice', grants: GRANTS });
    expect(c.exp).toBeGreaterThanOrEqual(now + 59);
    expect(tokenAuthorizer(SECRET)({ credential: t, origin: undefined, remoteAddress: '127.0.0.1', url: '/', headers: {} })).toMatchObject({
      identity: 'alice',
      grants: GRANTS,
      expiresAt: c.exp * 1000,
    });
  });

  it('refuses a forged token: another secret, an altered payload, alg none, alg HS512, no signature', () => {
    const good = signPageToken(SECRET, { sub: 'alice', grants: GRANTS });
    expect(code(() => verifyPageToken(SECRET, signPageToken('another-secret-of-thirty-two-bytes!!!!', { sub: 'alice', grants: GRANTS })))).toBe('BAD_TOKEN');
    const [h, , s] = good.split('.');
    const more = b64({ sub: 'alice', grants: { names: [{ name: 'rex', node: 'erl@host' }], ports: [] }, exp: now + 60 });
    expect(code(() => verifyPageToken(SECRET, `${h}.${more}.${s}`))).toBe('BAD_TOKEN');
    expect(code(() => verifyPageToken(SECRET, jwt({ alg: 'none', typ: 'JWT' }, { sub: 'alice', grants: GRANTS, exp: now + 60 }, undefined)))).toBe('BAD_TOKEN');
    // alg none with a valid HS256 signature anyway: the header decides, and it is refused.
    expect(code(() => verifyPageToken(SECRET, jwt({ alg: 'none' }, { sub: 'alice', grants: GRANTS, exp: now + 60 })))).toBe('BAD_TOKEN');
    expect(code(() => verifyPageToken(SECRET, jwt({ alg: 'HS512' }, { sub: 'alice', grants: GRANTS, exp: now + 60 })))).toBe('BAD_TOKEN');
    expect(code(() => verifyPageToken(SECRET, 'not.a-token'))).toBe('BAD_TOKEN');
    expect(code(() => verifyPageToken(SECRET, ''))).toBe('NO_TOKEN');
    // The same hand-made token with the right alg and secret is accepted: the cases above fail for their flaw only.
    expect(code(() => verifyPageToken(SECRET, jwt({ alg: 'HS256' }, { sub: 'alice', grants: GRANTS, exp: now + 60 })))).toBe('ACCEPTED');
  });

  it('refuses an expired token, one without exp, one living longer than allowed, one not valid yet', () => {
    expect(code(() => verifyPageToken(SECRET, jwt({ alg: 'HS256' }, { sub: 'alice', grants: GRANTS, exp: now - 1 })))).toBe('TOKEN_EXPIRED');
    expect(code(() => verifyPageToken(SECRET, jwt({ alg: 'HS256' }, { sub: 'alice', grants: GRANTS })))).toBe('BAD_TOKEN');
    expect(code(() => verifyPageToken(SECRET, jwt({ alg: 'HS256' }, { sub: 'alice', grants: GRANTS, exp: now + 7200 })))).toBe('TOKEN_TOO_LONG_LIVED');
    expect(code(() => verifyPageToken(SECRET, jwt({ alg: 'HS256' }, { sub: 'alice', grants: GRANTS, exp: now + 60, nbf: now + 30 })))).toBe('BAD_TOKEN');
  });

  it('refuses claims of the wrong shape, and a short secret', () => {
    expect(code(() => verifyPageToken(SECRET, jwt({ alg: 'HS256' }, { sub: '', grants: GRANTS, exp: now + 60 })))).toBe('BAD_TOKEN');
    expect(code(() => verifyPageToken(SECRET, jwt({ alg: 'HS256' }, { sub: 'a', grants: { names: ['echo'] }, exp: now + 60 })))).toBe('BAD_TOKEN');
    expect(code(() => verifyPageToken(SECRET, jwt({ alg: 'HS256' }, { sub: 'a', grants: { ports: [1] }, exp: now + 60 })))).toBe('BAD_TOKEN');
    expect(() => verifyPageToken('short', 'x.y.z')).toThrow(/at least 32 bytes/);
  });
});
