import { UsageError } from '../errors.js';

/**
 * Busy polling after network traffic (Linux's SO_BUSY_POLL, DPDK's poll loop, the BEAM's
 * scheduler busy wait), off unless {@link NodeOptions.busyPollMicros} is set. A Node.js process
 * that waits for the next message sleeps in epoll_wait, and the kernel wakes its thread when the
 * bytes come: on this 2-core machine that wake-up is about a quarter of a 45 µs round trip between
 * two processes. For `micros` after the last message a connection delivered, the node keeps its
 * event loop turning with setImmediate instead, so libuv polls with a zero timeout and picks the
 * next message up without sleeping. It costs a core for that window after every burst of traffic:
 * worth it for request/response latency between few nodes, not on a machine where the CPU is
 * shared with the peers doing the work (docs/performance.md, "Busy polling").
 *
 * The cost on the message path is one store: a message only marks itself seen; the spinning turn
 * reads the clock, and a new spin starts only when none is under way.
 */
export class BusyPoll {
  private readonly windowNs: bigint;
  private spinning = false;
  private seen = false;
  private last = 0n;
  /** On (a window > 0) and not stopped: a plain field, read on every message. */
  private on: boolean;

  /** `micros` 0 turns it off: {@link touch} then does nothing. Anything but a finite number ≥ 0 is a UsageError. */
  constructor(micros: number) {
    if (!Number.isFinite(micros) || micros < 0) throw new UsageError('BAD_OPTION', `busyPollMicros must be a number of microseconds ≥ 0 (0: off), not ${String(micros)}`);
    this.windowNs = BigInt(Math.round(micros * 1000));
    this.on = this.windowNs > 0n;
  }

  get enabled(): boolean {
    return this.on;
  }

  /** Whether the event loop is being kept turning now. */
  get active(): boolean {
    return this.spinning;
  }

  /** A connection delivered a message: keep polling for `micros` from now. */
  touch(): void {
    if (this.spinning) {
      this.seen = true;
      return;
    }
    if (!this.on) return;
    this.spinning = true;
    this.last = process.hrtime.bigint();
    setImmediate(this.spin);
  }

  /** No spinning after this (node stop); a spin under way ends at its next turn. */
  stop(): void {
    this.on = false;
  }

  private readonly spin = (): void => {
    const now = process.hrtime.bigint();
    if (this.seen) {
      this.seen = false;
      this.last = now;
    }
    if (this.on && now - this.last < this.windowNs) setImmediate(this.spin);
    else this.spinning = false;
  };
}
