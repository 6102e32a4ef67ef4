import { termKey, type Pid, type Ref, type Term } from '@courier/term';
import { refKey } from '@courier/core';

/** A process watching a whole scope (group undefined) or one group. */
export interface PgMonitor {
  readonly pid: Pid;
  readonly ref: Ref;
  readonly group?: Term;
}

/**
 * Who watches a scope's membership (OTP 25.1+ pg:monitor_scope/1 and pg:monitor/2): pg.erl's
 * `scope_monitors`, `group_monitors` and their reverse map `monitored_groups`. The scope process
 * monitors each watcher; its ref names the watch and is the first element of every message.
 */
export class PgMonitors {
  private readonly scope = new Map<string, PgMonitor>();
  private readonly byRef = new Map<string, PgMonitor>();
  /** Group key → its watchers, newest first. */
  private readonly byGroup = new Map<string, PgMonitor[]>();

  addScope(pid: Pid, ref: Ref): void {
    this.scope.set(refKey(ref), { pid, ref });
  }

  addGroup(pid: Pid, ref: Ref, group: Term): void {
    const m = { pid, ref, group };
    this.byRef.set(refKey(ref), m);
    const gk = termKey(group);
    this.byGroup.set(gk, [m, ...(this.byGroup.get(gk) ?? [])]);
  }

  /** Forget the watch `ref` (demonitor, or its process went): false when there is none. */
  remove(ref: Ref): boolean {
    const k = refKey(ref);
    if (this.scope.delete(k)) return true;
    const m = this.byRef.get(k);
    if (m === undefined) return false;
    this.byRef.delete(k);
    const gk = termKey(m.group);
    const rest = (this.byGroup.get(gk) ?? []).filter((x) => x !== m);
    if (rest.length === 0) this.byGroup.delete(gk);
    else this.byGroup.set(gk, rest);
    return true;
  }

  /** Every watcher to tell about a change in `group`: the scope's, then the group's. */
  *watchers(group: Term): Iterable<PgMonitor> {
    yield* this.scope.values();
    yield* this.byGroup.get(termKey(group)) ?? [];
  }

  clear(): void {
    this.scope.clear();
    this.byRef.clear();
    this.byGroup.clear();
  }
}
