import type { Pid, Ref, Term } from '@courier/term';
import type { Dest } from './dest.js';
import { refKey } from './keys.js';
import type { Node } from './node.js';

/**
 * erlang:send_after / cancel_timer. A timer belongs to the node, not to the process that set
 * it: it fires even if that process has exited, and a message to a dead pid is dropped.
 */
interface Timer {
  readonly handle: ReturnType<typeof setTimeout>;
  readonly due: number;
}

export class Timers {
  private readonly table = new Map<string, Timer>();

  constructor(private readonly node: Node) {}

  sendAfter(from: Pid | undefined, ms: number, dest: Dest, msg: Term): Ref {
    const ref = this.node.makeRef();
    const key = refKey(ref);
    const handle = setTimeout(() => {
      this.table.delete(key);
      try {
        this.node.sendFrom(from, dest, msg);
      } catch (err) {
        this.node.log.debug({ err }, 'timer message dropped');
      }
    }, ms);
    this.table.set(key, { handle, due: Date.now() + ms });
    return ref;
  }

  cancel(ref: Ref): number | false {
    const key = refKey(ref);
    const t = this.table.get(key);
    if (t === undefined) return false;
    clearTimeout(t.handle);
    this.table.delete(key);
    return Math.max(0, t.due - Date.now());
  }

  clear(): void {
    for (const t of this.table.values()) clearTimeout(t.handle);
    this.table.clear();
  }
}
