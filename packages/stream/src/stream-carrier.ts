import type { Duplex } from 'node:stream';
import type { Carrier, CarrierReceiver } from '@courier/core';

/**
 * What every Carrier over a Node stream shares (a TCP or TLS socket, an SSH channel): data that
 * arrives while no receiver is set is kept and handed to the next receiver in order; writes stop
 * once the carrier is closing; onClose reaches the receiver exactly once, with the first error
 * seen. Subclasses say how the stream closes.
 */
export abstract class StreamCarrier implements Carrier {
  private receiver: CarrierReceiver | undefined;
  private early: Uint8Array[] = [];
  protected closed = false;
  protected ending = false;
  protected error: Error | undefined;
  private lingerTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    protected readonly stream: Duplex,
    readonly remote: string,
  ) {
    stream.on('data', (c: Buffer) => this.deliver(c));
    stream.on('drain', () => this.receiver?.onDrain());
    stream.on('error', (err: Error) => {
      this.error ??= err;
    });
  }

  /** Bytes the receiver may keep: to it, or kept for the next receiver. */
  protected deliver(c: Uint8Array): void {
    if (this.receiver !== undefined) this.receiver.onData(c);
    else this.early.push(c);
  }

  /** The receiver set now. */
  protected get current(): CarrierReceiver | undefined {
    return this.receiver;
  }

  write(chunk: Uint8Array): boolean {
    if (this.closed || this.ending) return false;
    return this.stream.write(chunk);
  }

  /** Bytes written and not yet taken by the operating system (what the session's busy limit counts). */
  get queuedBytes(): number {
    return this.stream.writableLength;
  }

  setReceiver(r: CarrierReceiver): void {
    this.receiver = r;
    if (this.early.length > 0) {
      const early = this.early;
      this.early = [];
      for (const c of early) r.onData(c);
    }
    if (this.closed) r.onClose(this.error);
  }

  pause(): void {
    this.stream.pause();
  }

  /** Delivers `onData` again after `pause` (resumes the stream). */
  resume(): void {
    this.stream.resume();
  }

  abstract close(): void;
  abstract abort(error?: Error): void;

  /**
   * After a graceful close: `abort` if the stream has not closed within `ms` (a peer that never
   * answers our end must not hold it forever). The timer is dropped once the stream closes: armed,
   * it would keep this carrier, its stream and their buffers alive for the whole `ms` after a
   * close that took a millisecond (a peer opening and closing connections fast would pin memory
   * in proportion to its rate).
   */
  protected lingerThenAbort(ms: number): void {
    if (this.closed || this.lingerTimer !== undefined) return;
    this.lingerTimer = setTimeout(() => this.abort(), ms);
    this.lingerTimer.unref();
  }

  /** The stream is gone: tell the receiver, once. */
  protected closedNow(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.lingerTimer);
    this.lingerTimer = undefined;
    this.early = [];
    this.receiver?.onClose(this.error);
  }
}
