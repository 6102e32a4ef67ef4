import { Pid, Ref, Tuple, atom, listItems, type Term } from '@courier/term';

/**
 * The messages pg.erl's scope processes exchange (OTP 25, kernel-8.5.3 src/pg.erl), by their names
 * there, and the ones a scope sends to the processes that monitor it:
 * - `{discover, Peer}`: a plain message to `{Scope, Node}`, on start (to every node in `nodes()`) and
 *   on `nodeup`; the answer is a sync, and a discover back when the peer was not yet known;
 * - `{'$gen_cast', {sync, Peer, [{Group, [Pid]}]}}`: every local member of the sender, replacing
 *   all the receiver knows of that peer;
 * - `{join, Peer, Group, Pid | [Pid]}` and `{leave, Peer, Pid | [Pid], [Group]}`: plain messages;
 * - `{Ref, join | leave, Group, [Pid]}`: to processes that called monitor_scope/monitor (OTP 25.1+).
 */
export const DISCOVER = atom('discover');
export const SYNC = atom('sync');
export const JOIN = atom('join');
export const LEAVE = atom('leave');
export const GEN_CAST = atom('$gen_cast');
export const GEN_CALL = atom('$gen_call');
export const MONITOR = atom('monitor');
export const DEMONITOR = atom('demonitor');

export const discover = (self: Pid): Tuple => new Tuple([DISCOVER, self]);

export const syncCast = (self: Pid, groups: ReadonlyArray<readonly [Term, Pid[]]>): Tuple =>
  new Tuple([GEN_CAST, new Tuple([SYNC, self, groups.map(([g, pids]) => new Tuple([g, pids]))])]);

export const joinMsg = (self: Pid, group: Term, pidOrPids: Pid | Pid[]): Tuple => new Tuple([JOIN, self, group, pidOrPids]);

export const leaveMsg = (self: Pid, pidOrPids: Pid | Pid[], groups: Term[]): Tuple => new Tuple([LEAVE, self, pidOrPids, groups]);

export const monitorMsg = (ref: Ref, action: 'join' | 'leave', group: Term, pids: readonly Pid[]): Tuple => new Tuple([ref, action === 'join' ? JOIN : LEAVE, group, [...pids]]);

/** `Pid | [Pid]` as a list; undefined when it is neither (a peer's mistake). */
export function pidList(t: Term): Pid[] | undefined {
  if (t instanceof Pid) return [t];
  const items = listItems(t);
  if (items === undefined || !items.every((p) => p instanceof Pid)) return undefined;
  return items;
}

/** A sync's `[{Group, [Pid]}]`; undefined when malformed. */
export function syncGroups(t: Term): Array<[Term, Pid[]]> | undefined {
  const items = listItems(t);
  if (items === undefined) return undefined;
  const out: Array<[Term, Pid[]]> = [];
  for (const it of items) {
    if (!(it instanceof Tuple) || it.elements.length !== 2) return undefined;
    const pids = Array.isArray(it.elements[1]) ? pidList(it.elements[1]) : undefined;
    if (pids === undefined) return undefined;
    out.push([it.elements[0], pids]);
  }
  return out;
}
