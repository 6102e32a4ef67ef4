import { Pid, type Ref, type Term } from '@courier/term';
import { UsageError } from '../errors.js';
import type { Dest } from './dest.js';
import { refKey } from './keys.js';
import type { Node } from './node.js';
import type { Process } from './process.js';

/**
 * The longest delay setTimeout takes: Node fires a longer one after 1 ms (with a
 * TimeoutOverflowWarning), browsers at once. Longer timers are chained in steps of this size.
 */
export const MAX_TIMEOUT = 2 ** 31 - 1;

/** A monotonic clock in ms: wall-clock steps (NTP, a user changing the date) move no timer. */
export const monotonicNow = (): number => performance.now();

/** A timer longer than {@link MAX_TIMEOUT}: re-armed in steps until its due time on the monotonic clock. */
class ChainedTimeout {
  private handle: ReturnType<typeof setTimeout> | undefined;

  constructor(
    readonly due: number,
    private readonly fn: () => void,
  ) {
    this.arm();
  }

  private arm(): void {
    const left = this.due - monotonicNow();
    this.handle = left > MAX_TIMEOUT ? setTimeout(() => this.arm(), MAX_TIMEOUT) : setTimeout(this.fn, Math.max(0, left));
  }

  stop(): void {
    clearTimeout(this.handle);
  }
}

export type TimeoutHandle = ReturnType<typeof setTimeout> | ChainedTimeout;

/** setTimeout for any delay: up to {@link MAX_TIMEOUT} it is setTimeout itself, past it a chain. */
export function startTimeout(fn: () => void, ms: number): TimeoutHandle {
  return ms <= MAX_TIMEOUT ? setTimeout(fn, ms) : new ChainedTimeout(monotonicNow() + ms, fn);
}

export function stopTimeout(h: TimeoutHandle): void {
  if (h instanceof ChainedTimeout) h.stop();
  else clearTimeout(h);
}

/** Milliseconds a timer of `ms` waits: a finite number ≥ 0 (a fraction waits the next whole ms). */
export function timerDelay(ms: number, what: string): number {
  if (typeof ms !== 'number' || !(ms >= 0) || ms === Infinity) {
    throw new UsageError('BAD_TIME', `${what}: the time must be a finite number of milliseconds ≥ 0, not ${String(ms)} (badarg)`);
  }
  return Math.ceil(ms);
}

/** OTP's clock for timers: whole milliseconds, a partial one counted as begun (erl_hl_timer.c). */
const tick = (): number => Math.ceil(monotonicNow());

interface Timer {
  readonly handle: TimeoutHandle;
  /** Due, in {@link tick}s. */
  readonly due: number;
  /** The local process the timer sends to, when its destination is a pid: the timer dies with it. */
  readonly target: Process | undefined;
}

/**
 * erlang:send_after / cancel_timer / read_timer. A timer belongs to the node, not to the process
 * that set it: it fires even if that process has exited. As OTP, a timer whose destination is a
 * local pid is cancelled when that process exits (and never armed if it is already gone); one to
 * a name or a remote process fires whatever happens, and a message to a dead pid is dropped.
 */
export class Timers {
  private readonly table = new Map<string, Timer>();

  constructor(private readonly node: Node) {}

  sendAfter(from: Pid | undefined, ms: number, dest: Dest, msg: Term): Ref {
    const delay = timerDelay(ms, 'sendAfter');
    const ref = this.node.makeRef();
    let target: Process | undefined;
    if (dest instanceof Pid && this.node.isLocal(dest)) {
      target = this.node.lookup(dest);
      // OTP: a timer to a process that is not alive is cancelled at once (cancelTimer gives false).
      if (target === undefined) return ref;
    }
    const key = refKey(ref);
    const handle = startTimeout(() => {
      this.table.delete(key);
      target?.timers?.delete(key);
      try {
        this.node.sendFrom(from, dest, msg);
      } catch (err) {
        this.node.log.debug({ err }, 'timer message dropped');
      }
    }, delay);
    this.table.set(key, { handle, due: tick() + delay, target });
    if (target !== undefined) (target.timers ??= new Set()).add(key);
    return ref;
  }

  /**
   * erlang:cancel_timer/1: the whole milliseconds the timer had left, or false when there is no
   * such timer (it fired, was cancelled, or its process exited). 0 for a timer due but not yet run.
   */
  cancel(ref: Ref): number | false {
    const key = refKey(ref);
    const t = this.table.get(key);
    if (t === undefined) return false;
    stopTimeout(t.handle);
    this.table.delete(key);
    t.target?.timers?.delete(key);
    return Math.max(0, t.due - tick());
  }

  /** erlang:read_timer/1: the milliseconds left, or false as {@link cancel}. */
  read(ref: Ref): number | false {
    const t = this.table.get(refKey(ref));
    return t === undefined ? false : Math.max(0, t.due - tick());
  }

  /** `p` exited: the timers addressed to its pid go (OTP cancels them with the process). */
  processExited(p: Process): void {
    const keys = p.timers;
    if (keys === undefined) return;
    p.timers = undefined;
    for (const key of keys) {
      const t = this.table.get(key);
      if (t === undefined) continue;
      stopTimeout(t.handle);
      this.table.delete(key);
    }
  }

  clear(): void {
    for (const t of this.table.values()) stopTimeout(t.handle);
    this.table.clear();
  }
}
