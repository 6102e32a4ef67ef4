import type { Ref, Term } from '@courier/term';
import { asError } from './exit-reason.js';
import { wake } from './scheduler.js';
import { startTimeout, stopTimeout, type TimeoutHandle } from './timers.js';

/**
 * A process mailbox: arrival order, selective receive, one waiter.
 *
 * Messages sit in an array read from `head`; taking the first message is O(1), taking one from
 * the middle splices. While a receive waits, only messages that arrive after it started are
 * tested against its matcher: the ones already skipped are never rescanned for the same wait.
 *
 * Receive markers (OTP's receive-marker optimisation): {@link Mailbox.mark} is the queue's end, and
 * {@link Mailbox.bindMark} ties it to a reference made right after. A receive, take or drop given that
 * reference starts at its marker: messages queued before the reference existed cannot carry it,
 * so waiting for a reply costs what arrived since, however long the backlog. The newest
 * `MARKS` (4) markers are kept; a removal before a marker moves it down one. A mailbox without
 * markers pays nothing for them (nothing is recorded per message).
 *
 * A matcher that throws is the receiving process's error, never the sender's: the message stays
 * queued and the receive rejects with what was thrown (push itself never throws).
 *
 * The waiter lives in fields rather than an object: idle processes keep their waiter
 * alive for long, and a per-receive object made V8 pretenure every waiter (measured: ping-pong
 * beside 100k idle processes went from 0.6–1.5M to 2.6–5.1M round trips/s with the fields).
 */
export type Matcher = (msg: Term) => boolean;

/** Returned by a receive whose timeout (`after`) fired. */
export const TIMEOUT: unique symbol = Symbol('timeout');

type Resolve = (msg: Term | typeof TIMEOUT) => void;
type Reject = (err: unknown) => void;
const noop = (): void => undefined;

const COMPACT_AT = 1024;
/** How many references keep a receive marker (OTP keeps a few per process too). */
export const MARKS = 4;

function sameRef(a: Ref, b: Ref): boolean {
  if (a === b) return true;
  if (a.node !== b.node || a.creation !== b.creation || a.ids.length !== b.ids.length) return false;
  for (let i = 0; i < a.ids.length; i++) if (a.ids[i] !== b.ids[i]) return false;
  return true;
}

/** Receive markers, a ring: the reference, and the index its messages start at. */
interface Marks {
  readonly refs: (Ref | undefined)[];
  readonly idx: number[];
  next: number;
}

/**
 * The queue of every empty mailbox, replaced by a fresh array at the first queued message: an
 * idle process holds no array of its own. Never written to (push checks for it first).
 */
const EMPTY: Term[] = [];

/**
 * A process's mailbox: a queue with one waiting receiver, selective receive by a {@link Matcher}, a saved
 * scan position, and receive markers for the reference trick of calls.
 */
export class Mailbox {
  private items: Term[] = EMPTY;
  private head = 0;
  /** Made on first use (most mailboxes never see a marker). */
  private marks: Marks | undefined = undefined;
  /** The waiter: set while a receive waits (its resolve is the "waiting" flag). */
  private wMatch: Matcher | undefined = undefined;
  private wResolve: Resolve | undefined = undefined;
  private wReject: Reject | undefined = undefined;
  private wPromise: Promise<Term | typeof TIMEOUT> | undefined = undefined;
  private wTimer: TimeoutHandle | undefined = undefined;

  /** length Messages queued now. */
  get length(): number {
    return this.items.length - this.head;
  }

  /** The receive marker for now (the queue's end), to {@link bindMark} to a reference made after it. */
  mark(): number {
    return this.items.length;
  }

  /** Tie marker `at` (from {@link mark}, nothing taken since) to `ref`; the oldest of `MARKS` (4) goes. */
  bindMark(ref: Ref, at: number): void {
    const m = (this.marks ??= { refs: new Array<Ref | undefined>(MARKS).fill(undefined), idx: new Array<number>(MARKS).fill(0), next: 0 });
    m.refs[m.next] = ref;
    m.idx[m.next] = at;
    m.next = (m.next + 1) % MARKS;
  }

  /** Deliver a message: hand it to the waiter when it matches, else queue it. Never throws. */
  push(msg: Term): void {
    if (this.wResolve !== undefined) {
      let hit = true;
      if (this.wMatch !== undefined) {
        try {
          hit = this.wMatch(msg);
        } catch (err) {
          // The receiver's bug: its receive fails, the message stays, the sender goes on.
          this.queue(msg);
          const reject = this.wReject as Reject;
          this.clearWaiter();
          wake(reject, asError(err, 'the receive pattern threw'));
          return;
        }
      }
      if (hit) {
        const resolve = this.wResolve;
        this.clearWaiter();
        wake(resolve, msg);
        return;
      }
    }
    this.queue(msg);
  }

  private queue(msg: Term): void {
    if (this.items === EMPTY) this.items = [msg];
    else this.items.push(msg);
  }

  /**
   * Take the first matching message now, or return TIMEOUT when none is there. With `ref` (bound
   * to a marker), only messages queued after its marker are tested. A throwing matcher throws here.
   */
  take(match: Matcher | undefined, ref?: Ref): Term | typeof TIMEOUT {
    const items = this.items;
    const from = ref === undefined ? this.head : this.startOf(ref);
    if (match === undefined) {
      if (from === items.length) return TIMEOUT;
      return this.removeAt(from);
    }
    for (let i = from; i < items.length; i++) {
      if (match(items[i])) return this.removeAt(i);
    }
    return TIMEOUT;
  }

  /**
   * Wait for a matching message. Resolves with TIMEOUT after `timeoutMs` (0 polls; Infinity or
   * undefined waits forever; any length, past setTimeout's limit too). Only one wait at a time
   * per mailbox. With `ref`, messages queued before its marker are not tested. Rejects when the
   * matcher throws, or when the mailbox is closed with an error while waiting.
   */
  receive(match: Matcher | undefined, timeoutMs?: number, ref?: Ref): Promise<Term | typeof TIMEOUT> {
    let now: Term | typeof TIMEOUT;
    try {
      now = this.take(match, ref);
    } catch (err) {
      return Promise.reject(asError(err, 'the receive pattern threw'));
    }
    if (now !== TIMEOUT || timeoutMs === 0) return new Promise((resolve) => wake(resolve, now));
    const p = new Promise<Term | typeof TIMEOUT>((resolve, reject) => {
      this.wMatch = match;
      this.wResolve = resolve;
      this.wReject = reject;
      if (timeoutMs !== undefined && timeoutMs !== Infinity) {
        this.wTimer = startTimeout(() => {
          if (this.wResolve !== resolve) return;
          this.clearWaiter();
          resolve(TIMEOUT);
        }, timeoutMs);
      }
    });
    if (this.wResolve !== undefined) this.wPromise = p;
    return p;
  }

  /** Remove every queued message matching `match` (demonitor's flush); `ref` as in {@link take}. */
  drop(match: Matcher, ref?: Ref): void {
    for (let i = this.startOf(ref); i < this.items.length;) {
      if (match(this.items[i])) this.removeAt(i);
      else i++;
    }
  }

  /**
   * The process is gone: the queue goes, and a pending receive rejects with `err` (so the body's
   * `finally` blocks run) or, without one, is forgotten unresolved. `err` may be a function
   * making the error, called only when a receive is pending.
   */
  close(err?: Error | (() => Error)): void {
    const reject = this.wReject;
    const pending = this.wPromise;
    this.clearWaiter();
    this.items = EMPTY;
    this.head = 0;
    this.marks = undefined;
    if (err !== undefined && reject !== undefined) {
      // Handled here too, so a receive nobody awaits any more is no unhandled rejection.
      pending?.catch(noop);
      reject(typeof err === 'function' ? err() : err);
    }
  }

  /** Queued messages, oldest first (for observation and tests). */
  peek(): Term[] {
    return this.items.slice(this.head);
  }

  /** Where a scan for messages carrying `ref` starts: its marker, or the head when it has none. */
  private startOf(ref: Ref | undefined): number {
    const m = this.marks;
    if (ref === undefined || m === undefined) return this.head;
    for (let k = 0; k < MARKS; k++) {
      const r = m.refs[k];
      if (r !== undefined && sameRef(r, ref)) return Math.max(this.head, m.idx[k] as number);
    }
    return this.head;
  }

  private clearWaiter(): void {
    if (this.wTimer !== undefined) stopTimeout(this.wTimer);
    this.wMatch = undefined;
    this.wResolve = undefined;
    this.wReject = undefined;
    this.wPromise = undefined;
    this.wTimer = undefined;
  }

  private removeAt(i: number): Term {
    const items = this.items;
    const msg = items[i];
    if (i === this.head) {
      // A marker at or before the head starts at the head (startOf): taking the head moves none.
      items[i] = undefined;
      this.head++;
      if (this.head === items.length) {
        this.items = EMPTY;
        this.rebaseMarks(this.head);
        this.head = 0;
      } else if (this.head >= COMPACT_AT && this.head * 2 >= items.length) {
        this.items = items.slice(this.head);
        this.rebaseMarks(this.head);
        this.head = 0;
      }
    } else {
      items.splice(i, 1);
      const idx = this.marks?.idx;
      if (idx !== undefined) for (let k = 0; k < MARKS; k++) if ((idx[k] as number) > i) idx[k] = (idx[k] as number) - 1;
    }
    return msg;
  }

  /** The queue now starts `by` entries later (head reset to 0): markers move with it, none below 0. */
  private rebaseMarks(by: number): void {
    const idx = this.marks?.idx;
    if (idx !== undefined) for (let k = 0; k < MARKS; k++) idx[k] = Math.max(0, (idx[k] as number) - by);
  }
}
