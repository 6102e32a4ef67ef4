import { Atom, atom } from '@courier/term';
import { UsageError, type Node } from '@courier/core';
import { PgScope } from './pg-scope.js';

/** The scope kernel starts with `-kernel start_pg true` (pg.erl's ?DEFAULT_SCOPE). */
export const DEFAULT_PG_SCOPE = 'pg';

const scopes = new WeakMap<Node, Map<Atom, PgScope>>();

/**
 * Start the pg scope `scope` on `node` (pg:start/1), or return the one already running there. The
 * scope is a process registered under its name that exchanges membership with the scopes of the
 * same name on the node's visible peers (Erlang nodes running pg, and other Courier nodes); hidden
 * connections take no part, as in OTP.
 */
export function startPg(node: Node, scope: string | Atom = DEFAULT_PG_SCOPE): PgScope {
  const name = scope instanceof Atom ? scope : atom(scope);
  let byName = scopes.get(node);
  if (byName === undefined) scopes.set(node, (byName = new Map<Atom, PgScope>()));
  const running = byName.get(name);
  if (running !== undefined && running.alive) return running;
  const holder = node.whereis(name);
  if (holder !== undefined) {
    throw new UsageError('NAME_TAKEN', `cannot start the pg scope ${name.name}: another process (${String(holder)}) is registered under that name; pick another scope name`);
  }
  const s = new PgScope(node, name);
  byName.set(name, s);
  return s;
}
