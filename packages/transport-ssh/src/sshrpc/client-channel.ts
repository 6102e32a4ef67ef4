import { ProtocolError, Tuple, decode, type Term } from '@courier/term';
import type { Carrier, Logger } from '@courier/core';
import { LengthPrefixedReader } from '@courier/stream';
import { SshRpcError } from '../errors.js';
import { settleFlat, type Settled } from './answers.js';
import { FrameWriter } from './frame-writer.js';
import { A } from './protocol.js';

interface Waiter {
  readonly settle: (answer: Term) => Settled;
  readonly resolve: (v: Term) => void;
  readonly reject: (e: Error) => void;
}

/**
 * The client end of one sshrpc channel: requests framed out (coalesced per tick), answers matched
 * back — `{reply, Id, _}` by id, everything else in order to the oldest request that waits for an
 * answer by position (the `{mfa, …}` forms, `{whoami}`). A channel that closes, or sends bytes
 * that do not decode, fails everything still waiting.
 */
export class SshRpcClientChannel {
  private readonly reader: LengthPrefixedReader;
  readonly out: FrameWriter;
  private readonly byId = new Map<number, Waiter>();
  private readonly fifo: Waiter[] = [];
  private drainWaiters: Array<() => void> = [];
  private failure: SshRpcError | undefined;

  constructor(
    readonly carrier: Carrier,
    maxFrame: number,
    private readonly log: Logger,
  ) {
    this.out = new FrameWriter(carrier);
    this.reader = new LengthPrefixedReader(
      maxFrame,
      (f) => this.onFrame(f),
      () => this.fail(new SshRpcError('BAD_ANSWER', 'the server sent an empty frame')),
    );
    carrier.setReceiver({
      onData: (chunk) => {
        try {
          this.reader.push(chunk);
        } catch (err) {
          if (!(err instanceof ProtocolError)) throw err;
          this.fail(new SshRpcError('FRAME_TOO_LARGE', `answer refused: ${err.message}`, undefined, { cause: err }));
        }
      },
      onDrain: () => {
        this.out.drained();
        for (const w of this.drainWaiters.splice(0)) w();
      },
      onClose: (err) => this.fail(new SshRpcError('CLOSED', `the sshrpc channel to ${carrier.remote} closed${err ? `: ${err.message}` : ''}`, undefined, { cause: err })),
    });
  }

  /** Requests waiting for an answer. */
  get pending(): number {
    return this.byId.size + this.fifo.length;
  }

  get closed(): SshRpcError | undefined {
    return this.failure;
  }

  /** Resolves once the carrier takes more (immediately when it does). */
  writable(): Promise<void> {
    if (!this.out.busy || this.failure !== undefined) return Promise.resolve();
    return new Promise((r) => this.drainWaiters.push(r));
  }

  /** Send `req`; when `id` is given the answer is `{reply, id, Body}` settled by `settle(Body)`, else the next positional answer. */
  request(req: Term, settle: (a: Term) => Settled = settleFlat, id?: number): Promise<Term> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      const w = { settle, resolve, reject };
      this.out.write(req);
      if (id === undefined) this.fifo.push(w);
      else this.byId.set(id, w);
    });
  }

  /** Send without waiting for anything (cast, send). */
  post(req: Term): void {
    if (this.failure !== undefined) throw this.failure;
    this.out.write(req);
  }

  close(): void {
    this.out.flush();
    this.carrier.close();
  }

  private onFrame(frame: Uint8Array): void {
    let a: Term;
    try {
      a = decode(frame);
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw err;
      return this.fail(new SshRpcError('BAD_ANSWER', `the server sent a frame that does not decode: ${err.message}`, undefined, { cause: err }));
    }
    let w: Waiter | undefined;
    if (a instanceof Tuple && a.elements.length === 3 && a.elements[0] === A.reply && typeof a.elements[1] === 'number') {
      w = this.byId.get(a.elements[1]);
      this.byId.delete(a.elements[1]);
      a = a.elements[2];
    } else {
      w = this.fifo.shift();
    }
    if (w === undefined) {
      this.log.warn({ remote: this.carrier.remote }, 'sshrpc answer matches no request');
      return;
    }
    const s = w.settle(a);
    if (s.ok) w.resolve(s.value);
    else w.reject(s.error);
  }

  private fail(err: SshRpcError): void {
    if (this.failure !== undefined) return;
    this.failure = err;
    this.out.closed = true;
    for (const w of this.byId.values()) w.reject(err);
    for (const w of this.fifo.splice(0)) w.reject(err);
    this.byId.clear();
    for (const d of this.drainWaiters.splice(0)) d();
    this.carrier.abort();
  }
}
