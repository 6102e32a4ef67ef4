import type { AuthContext } from 'ssh2';
import type { Logger } from '@courier/core';
import type { AuthorizedKeys } from '../keys/authorized-keys.js';
import { fingerprint } from '../keys/fingerprint.js';

/**
 * Public-key authentication bound to node names: the key must be in the authorized keys, its
 * comment must be the SSH user name the peer logs in with (its node name), it must not have
 * expired, and the signature must verify. Every other method is refused. Refusals are logged
 * once per attempt at warn, with the key's fingerprint (never the key), and a `code`:
 * `NOT_ALLOWED` (unknown or expired key) or `NAME_MISMATCH` (a known key claiming another name).
 * Returns 'refused' for an attempt that counts against MaxAuthTries (every refusal but the
 * method `none`, which clients send first to learn the methods, as OpenSSH counts them).
 */
export function authenticate(ctx: AuthContext, keys: AuthorizedKeys, log: Logger): 'accepted' | 'refused' | 'asked' {
  if (ctx.method !== 'publickey') {
    if (ctx.method !== 'none') log.warn({ user: ctx.username, method: ctx.method, code: 'NOT_ALLOWED' }, 'authentication method refused: public keys only');
    ctx.reject(['publickey']);
    return ctx.method === 'none' ? 'asked' : 'refused';
  }
  const blob = ctx.key.data;
  const entry = keys.lookup(blob);
  const fp = fingerprint(blob);
  if (entry === undefined) {
    log.warn({ user: ctx.username, fingerprint: fp, code: 'NOT_ALLOWED' }, 'client key refused: not in the authorized keys');
    ctx.reject(['publickey']);
    return 'refused';
  }
  if (!entry.names.has(ctx.username)) {
    log.warn({ user: ctx.username, fingerprint: fp, keyNames: [...entry.names], code: 'NAME_MISMATCH' }, 'client key refused: it claims another node name');
    ctx.reject(['publickey']);
    return 'refused';
  }
  if (entry.expires !== undefined && entry.expires.getTime() < Date.now()) {
    log.warn({ user: ctx.username, fingerprint: fp, expired: entry.expires.toISOString(), code: 'NOT_ALLOWED' }, 'client key refused: expired');
    ctx.reject(['publickey']);
    return 'refused';
  }
  // Without a signature the client only asks whether the key would do (PK_OK).
  if (ctx.signature === undefined) {
    ctx.accept();
    return 'asked';
  }
  if (ctx.blob === undefined || !entry.key.verify(ctx.blob, ctx.signature, ctx.hashAlgo)) {
    log.warn({ user: ctx.username, fingerprint: fp, code: 'NOT_ALLOWED' }, 'client key refused: bad signature');
    ctx.reject(['publickey']);
    return 'refused';
  }
  ctx.accept();
  return 'accepted';
}
