import { termKey, type Pid, type Term } from '@courier/term';
import { pidKey } from '@courier/core';

/**
 * One scope's membership table: pg.erl's ETS table `{Group, AllPids, LocalPids}`, keyed by the
 * group's term key (any term is a group). Lists keep pg's order (newest first) and duplicates: a
 * pid joined twice is listed twice and must leave twice. Each update reports what it did through
 * `notify`, as pg.erl's `*_update_ets` functions call `notify_group`.
 */
export interface PgEntry {
  readonly group: Term;
  all: Pid[];
  local: Pid[];
}

export type PgNotify = (action: 'join' | 'leave', group: Term, pids: readonly Pid[], local: boolean) => void;

export class PgTable {
  private readonly entries = new Map<string, PgEntry>();

  constructor(private readonly notify: PgNotify) {}

  get(group: Term): PgEntry | undefined {
    return this.entries.get(termKey(group));
  }

  groups(): Term[] {
    return [...this.entries.values()].map((e) => e.group);
  }

  localGroups(): Term[] {
    return [...this.entries.values()].filter((e) => e.local.length > 0).map((e) => e.group);
  }

  /** Every group with all its members (monitor_scope's reply). */
  snapshot(): PgEntry[] {
    return [...this.entries.values()];
  }

  clear(): void {
    this.entries.clear();
  }

  /** join_local_update_ets: the new pids go first, to both lists. */
  joinLocal(group: Term, pids: readonly Pid[]): void {
    const e = this.get(group);
    if (e !== undefined) {
      e.all = [...pids, ...e.all];
      e.local = [...pids, ...e.local];
    } else {
      this.entries.set(termKey(group), { group, all: [...pids], local: [...pids] });
    }
    this.notify('join', group, pids, true);
  }

  /** join_remote_update_ets. */
  joinRemote(group: Term, pids: readonly Pid[]): void {
    const e = this.get(group);
    if (e !== undefined) e.all = [...pids, ...e.all];
    else this.entries.set(termKey(group), { group, all: [...pids], local: [] });
    this.notify('join', group, pids, false);
  }

  /** leave_local_update_ets: one occurrence of each pid leaves; the group goes when it is empty. */
  leaveLocal(group: Term, pids: readonly Pid[]): void {
    const key = termKey(group);
    const e = this.entries.get(key);
    if (e === undefined) return; // a DOWN still queued while the process was leaving: nothing left
    const all = subtract(e.all, pids);
    if (all.length === 0) this.entries.delete(key);
    else {
      e.all = all;
      e.local = subtract(e.local, pids);
    }
    this.notify('leave', group, pids, true);
  }

  /** leave_remote_update_ets, for each of `groups`. */
  leaveRemote(pids: readonly Pid[], groups: readonly Term[]): void {
    for (const group of groups) {
      const key = termKey(group);
      const e = this.entries.get(key);
      if (e === undefined) continue;
      const all = subtract(e.all, pids);
      if (all.length === 0 && e.local.length === 0) this.entries.delete(key);
      else e.all = all;
      this.notify('leave', group, pids, false);
    }
  }

  /**
   * A sync changed the pids a peer has in `group` from `oldPids` to `pids`: `Pids ++ (All -- OldPids)`,
   * without notifying monitors (pg.erl's sync_groups does not; "should be really rare").
   */
  replaceRemote(group: Term, oldPids: readonly Pid[], pids: readonly Pid[]): void {
    const e = this.get(group);
    if (e === undefined) {
      this.entries.set(termKey(group), { group, all: [...pids], local: [] });
      return;
    }
    e.all = [...pids, ...subtract(e.all, oldPids)];
    if (e.all.length === 0 && e.local.length === 0) this.entries.delete(termKey(group));
  }
}

/**
 * Erlang's `A -- B`: each element of B removes its first occurrence from A. Linear (a count per
 * pid of B), so a peer's leave of many pids from a large group costs no quadratic time.
 */
export function subtract(a: readonly Pid[], b: readonly Pid[]): Pid[] {
  if (b.length === 0) return [...a];
  const left = new Map<string, number>();
  for (const p of b) {
    const k = pidKey(p);
    left.set(k, (left.get(k) ?? 0) + 1);
  }
  const out: Pid[] = [];
  for (const p of a) {
    const k = pidKey(p);
    const n = left.get(k);
    if (n === undefined || n === 0) out.push(p);
    else left.set(k, n - 1);
  }
  return out;
}

/** Erlang `=:=` on two pid lists (order and duplicates matter). */
export function samePids(a: readonly Pid[], b: readonly Pid[]): boolean {
  return a.length === b.length && a.every((p, i) => pidKey(p) === pidKey(b[i] as Pid));
}
