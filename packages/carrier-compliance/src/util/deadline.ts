/** Waiting with deadlines: a case that waits never hangs, and never sleeps to synchronise. */

/** `p`, or a rejection naming `what` once `ms` have passed. */
export function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  // A rejection of `p` goes through unchanged: the cases inspect what they awaited.
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms);
  });
  return Promise.race([p, deadline]).finally(() => clearTimeout(timer));
}

/** The rejection of `p` (fails if it resolves, or nothing happens within `ms`). */
export async function rejection(p: Promise<unknown>, ms: number, what: string): Promise<unknown> {
  const outcome = await within(
    p.then(
      () => ({ ok: true as const }),
      (error: unknown) => ({ ok: false as const, error }),
    ),
    ms,
    what,
  );
  if (outcome.ok) throw new Error(`${what}: expected a failure, it succeeded`);
  return outcome.error;
}

/** Let `n` turns of the event loop pass (after every I/O callback and immediate queued so far). */
export async function turns(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise<void>((r) => setImmediate(r));
}

/** Something observable (rxjs Subject, …) reduced to what the suite uses. */
export interface Subscribable<T> {
  /** Calls `next` with every value from now on, until unsubscribed. */
  subscribe(next: (value: T) => void): {
    /** Stops the calls. */
    unsubscribe(): void;
  };
}

/** Every value `source` emits from now on, with waits for the ones to come. */
export class Recorder<T> {
  readonly values: T[] = [];
  private readonly sub: { unsubscribe(): void };
  private waiters: Array<{ pred: (v: T) => boolean; resolve: (v: T) => void }> = [];

  constructor(source: Subscribable<T>) {
    this.sub = source.subscribe((v) => {
      this.values.push(v);
      this.waiters = this.waiters.filter((w) => {
        if (!w.pred(v)) return true;
        w.resolve(v);
        return false;
      });
    });
  }

  /** The first value (recorded already, or to come) satisfying `pred`. */
  next(pred: (v: T) => boolean, ms: number, what: string): Promise<T> {
    const seen = this.values.find(pred);
    if (seen !== undefined) return Promise.resolve(seen);
    return within(new Promise<T>((resolve) => this.waiters.push({ pred, resolve })), ms, what);
  }

  /** How many values recorded so far satisfy `pred`. */
  count(pred: (v: T) => boolean): number {
    return this.values.filter(pred).length;
  }

  /** Stops recording. */
  stop(): void {
    this.sub.unsubscribe();
  }
}
