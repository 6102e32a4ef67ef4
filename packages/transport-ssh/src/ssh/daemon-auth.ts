import type { AuthContext } from 'ssh2';
import type { Logger } from '@courier/core';
import type { AuthorizedKey, AuthorizedKeys } from '../keys/authorized-keys.js';
import { fingerprint } from '../keys/fingerprint.js';

/** Who may log in, by role (`sshrpc`, `dist`, …): one authorized_keys table per role. */
export type RoleKeys = ReadonlyMap<string, AuthorizedKeys>;

export type AuthResult = { readonly result: 'refused' | 'asked' | 'accepted' };

/**
 * Public-key authentication bound to node names and roles: the key must be in the table of at
 * least one role, its comment there must be the SSH user name the peer logs in with (its node
 * name), it must not have expired, and the signature must verify. The login carries every role
 * whose table lists the key for that name, unexpired; subsystems check the role they need. Every
 * other method is refused. Refusals are logged once per attempt at warn, with the key's
 * fingerprint (never the key), and a `code`: `NOT_ALLOWED` (unknown or expired key) or
 * `NAME_MISMATCH` (a known key claiming another name). `refused` counts against MaxAuthTries
 * (every refusal but the method `none`, which clients send first to learn the methods, as
 * OpenSSH counts them). `onAccept` learns the login's roles before ssh2 is told to accept (its
 * `ready` event fires inside `accept()`).
 */
export function authenticate(ctx: AuthContext, tables: RoleKeys, log: Logger, onAccept: (roles: ReadonlySet<string>) => void): AuthResult {
  if (ctx.method !== 'publickey') {
    if (ctx.method !== 'none') log.warn({ user: ctx.username, method: ctx.method, code: 'NOT_ALLOWED' }, 'authentication method refused: public keys only');
    ctx.reject(['publickey']);
    return { result: ctx.method === 'none' ? 'asked' : 'refused' };
  }
  const blob = ctx.key.data;
  const fp = fingerprint(blob);
  const found: Array<{ role: string; entry: AuthorizedKey }> = [];
  for (const [role, table] of tables) {
    const entry = table.lookup(blob);
    if (entry !== undefined) found.push({ role, entry });
  }
  const refuse = (fields: Record<string, unknown>, msg: string): AuthResult => {
    log.warn({ user: ctx.username, fingerprint: fp, ...fields }, msg);
    ctx.reject(['publickey']);
    return { result: 'refused' };
  };
  if (found.length === 0) return refuse({ code: 'NOT_ALLOWED' }, 'client key refused: not in the authorized keys');
  const named = found.filter((f) => f.entry.names.has(ctx.username));
  if (named.length === 0) {
    const keyNames = [...new Set(found.flatMap((f) => [...f.entry.names]))];
    return refuse({ keyNames, code: 'NAME_MISMATCH' }, 'client key refused: it claims another node name');
  }
  const now = Date.now();
  const live = named.filter((f) => f.entry.expires === undefined || f.entry.expires.getTime() >= now);
  if (live.length === 0) {
    const expired = named.map((f) => (f.entry.expires as Date).toISOString());
    return refuse({ expired, code: 'NOT_ALLOWED' }, 'client key refused: expired');
  }
  // Without a signature the client only asks whether the key would do (PK_OK).
  if (ctx.signature === undefined) {
    ctx.accept();
    return { result: 'asked' };
  }
  const key = (live[0] as { entry: AuthorizedKey }).entry.key;
  if (ctx.blob === undefined || !key.verify(ctx.blob, ctx.signature, ctx.hashAlgo)) return refuse({ code: 'NOT_ALLOWED' }, 'client key refused: bad signature');
  onAccept(new Set(live.map((f) => f.role)));
  ctx.accept();
  return { result: 'accepted' };
}
