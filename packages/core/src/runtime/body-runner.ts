import { atoms, type Term } from '@courier/term';
import type { Logger } from '../log.js';
import { ExceptionReason, reasonFromThrow } from './exit-reason.js';
import type { Body, Process } from './process.js';

/**
 * Runs the bodies of spawned processes and turns how each ends into its exit: `normal` when it
 * returns (or its promise resolves), the thrown reason when it throws (an exception logged as a
 * crash). Bodies start in one microtask per batch of spawns, not one each.
 */
export class BodyRunner {
  /** Process, body, process, body, … waiting for the next batch. */
  private readonly starting: Array<Process | Body> = [];
  private startQueued = false;

  constructor(
    private readonly log: Logger,
    /** Ends a process with a reason (Signals.terminate). */
    private readonly terminate: (p: Process, reason: Term) => void,
  ) {}

  /** Run `body` for the new process `p` at the next batch. */
  start(p: Process, body: Body): void {
    this.starting.push(p, body);
    if (!this.startQueued) {
      this.startQueued = true;
      queueMicrotask(this.startBatch);
    }
  }

  private readonly startBatch = (): void => {
    this.startQueued = false;
    const list = this.starting;
    // Bodies spawned while this batch starts are appended and started in the same pass.
    for (let i = 0; i < list.length; i += 2) this.run(list[i] as Process, list[i + 1] as Body);
    list.length = 0;
  };

  private run(p: Process, body: Body): void {
    if (!p.alive) return;
    let r: unknown;
    try {
      r = body(p);
    } catch (e) {
      this.ended(p, e, true);
      return;
    }
    if (r instanceof Promise) {
      r.then(
        () => this.ended(p, undefined, false),
        (e: unknown) => this.ended(p, e, true),
      );
    } else {
      this.ended(p, undefined, false);
    }
  }

  private ended(p: Process, e: unknown, threw: boolean): void {
    if (!p.alive) return;
    const reason = threw ? reasonFromThrow(e) : atoms.normal;
    if (reason instanceof ExceptionReason) {
      const err = reason.error;
      this.log.error({ pid: p.pid.toString(), name: p.name?.name, err }, 'process crashed');
    }
    this.terminate(p, reason);
  }
}
