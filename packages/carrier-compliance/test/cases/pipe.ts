import type { Carrier, CarrierReceiver } from '@courier/core';

/** Faults a test pipe can be built with, each breaking one carrier guarantee. */
export interface Faults {
  /** Drop the last byte of every n-th delivered chunk. */
  readonly dropEvery?: number;
  /** Keep a reference to written buffers instead of copying them. */
  /** write() always returns true. */
  readonly neverBusy?: boolean;
  /** Report onClose twice on each end. */
  readonly doubleClose?: boolean;
  /** close() drops queued bytes, like abort. */
  readonly eagerClose?: boolean;
}

/** A small in-test byte pipe: correct unless given faults. Delivery is on a later turn. */
export class Pipe implements Carrier {
  peer!: Pipe;
  readonly remote = 'pipe';
  private receiver: CarrierReceiver | undefined;
  private readonly queue: Uint8Array[] = [];
  private inflight = 0;
  private paused = false;
  private needDrain = false;
  private state: 'open' | 'closing' | 'closed' = 'open';
  private closeDue = false;
  private delivered = 0;

  constructor(
    private readonly faults: Faults,
    private readonly hwm: number,
  ) {}

  write(chunk: Uint8Array): boolean {
    if (this.state !== 'open') return false;
    const data = Uint8Array.from(chunk);
    this.peer.queue.push(data);
    this.inflight += data.length;
    this.peer.kick();
    if (this.faults.neverBusy || this.inflight < this.hwm) return true;
    this.needDrain = true;
    return false;
  }
  setReceiver(r: CarrierReceiver): void {
    this.receiver = r;
    this.kick();
  }
  pause(): void {
    this.paused = true;
  }
  resume(): void {
    this.paused = false;
    this.kick();
  }
  close(): void {
    if (this.state !== 'open') return;
    if (this.faults.eagerClose) return this.abort();
    this.state = 'closing';
    this.peer.kick();
  }
  abort(): void {
    if (this.state === 'closed') return;
    for (const end of [this, this.peer]) {
      end.state = 'closed';
      end.queue.length = 0;
      end.closeDue = true;
      end.kick();
    }
  }

  private kick(): void {
    setImmediate(() => this.flush());
  }

  private flush(): void {
    while (this.state !== 'closed' && !this.paused && this.receiver && this.queue.length > 0) {
      let c = this.queue.shift() as Uint8Array;
      this.peer.inflight -= c.length;
      if (this.faults.dropEvery !== undefined && ++this.delivered % this.faults.dropEvery === 0) c = c.subarray(0, c.length - 1);
      this.receiver.onData(c);
    }
    if (this.queue.length === 0 && this.peer.needDrain) {
      this.peer.needDrain = false;
      this.peer.receiver?.onDrain();
    }
    if (this.queue.length === 0 && this.peer.state === 'closing') this.peer.abort();
    if (this.closeDue && this.receiver) {
      this.closeDue = false;
      this.receiver.onClose();
      if (this.faults.doubleClose) this.receiver.onClose();
    }
  }
}

export function pipePair(faults: Faults = {}, hwm = 64 * 1024): Promise<readonly [Carrier, Carrier]> {
  const a = new Pipe(faults, hwm);
  const b = new Pipe(faults, hwm);
  a.peer = b;
  b.peer = a;
  return Promise.resolve([a, b]);
}
