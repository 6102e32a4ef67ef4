import { CarrierError, type Carrier, type CarrierReceiver } from '@courier/core';
import { POOLED_MAX, copyOut } from '@courier/term';

/** Options of a memory carrier pair: backpressure threshold and chunk size. */
export interface MemoryCarrierOptions {
  /** Bytes in flight toward the peer past which `write` returns false. Default 64 KiB. */
  readonly highWaterMark?: number;
  /**
   * Most bytes handed to one `onData`: larger writes arrive split, small writes queued in the
   * same tick arrive coalesced, as a socket would deliver them. Default 64 KiB.
   */
  readonly maxChunk?: number;
  /**
   * How a delivery is scheduled. Default `setImmediate`: bytes arrive on a later turn of the event
   * loop, as a socket's would. `process.nextTick` delivers within the tick, with no event-loop turn
   * in between: what bench/dist/js-cost.ts uses to measure the runtime's own cost per message.
   */
  readonly schedule?: (task: () => void) => void;
}

/** Bytes in flight toward the peer past which a memory carrier's `write` returns false, by default. */
export const DEFAULT_HIGH_WATER_MARK = 64 * 1024;
/** The largest chunk a memory carrier delivers at once, by default. */
export const DEFAULT_MAX_CHUNK = 64 * 1024;
/** Bytes delivered per turn of the event loop before yielding to other work. */
const TURN_BUDGET = 1024 * 1024;

type State = 'open' | 'closing' | 'closed';

/**
 * One end of an in-memory byte pipe. Bytes written at one end reach the other end's receiver
 * asynchronously (on a later turn of the event loop unless `schedule` says otherwise, never
 * inside `write`), in order, copied.
 * `write` returns false while the bytes in flight toward the peer are at or past the high-water
 * mark; `onDrain` follows once the peer's receiver has taken all of them. `close` is graceful
 * (the peer gets the queued bytes first), `abort` drops them; either way both ends see
 * `onClose` exactly once.
 */
export class MemoryCarrier implements Carrier {
  /** @internal */ peer!: MemoryCarrier;
  private receiver: CarrierReceiver | undefined;
  private readonly inbox: Uint8Array[] = [];
  private inboxHead = 0;
  /** Bytes queued toward this end's receiver (= what the peer has in flight). */
  private inboxBytes = 0;
  private paused = false;
  private scheduled = false;
  private state: State = 'open';
  /** The write returned false: owe the receiver an onDrain. */
  private needDrain = false;
  /** onClose is due (with this error) but not delivered yet. */
  private closeDue: { error: Error | undefined } | undefined;
  private closeDelivered = false;
  private readonly hwm: number;
  private readonly maxChunk: number;
  private readonly scheduleTask: (task: () => void) => void;
  private readonly pumpTask = (): void => this.pump();

  /** @internal use {@link memoryCarrierPair} */
  constructor(
    readonly remote: string,
    opts: MemoryCarrierOptions,
  ) {
    this.hwm = opts.highWaterMark ?? DEFAULT_HIGH_WATER_MARK;
    this.maxChunk = opts.maxChunk ?? DEFAULT_MAX_CHUNK;
    this.scheduleTask = opts.schedule ?? setImmediate;
  }

  /** Whether this end is closed (or closing). */
  get closed(): boolean {
    return this.state !== 'open';
  }

  write(chunk: Uint8Array): boolean {
    if (this.state !== 'open') return false;
    if (chunk.length > 0) {
      // A copy (not Buffer#slice, which is a view): the writer may reuse its buffer at once. A
      // small one shares a slab, as a socket's reads would: a fresh ArrayBuffer per 80-byte write
      // costs more than the rest of a round trip between two nodes.
      this.peer.enqueue(copyOut(chunk, 0, chunk.length, chunk.length <= POOLED_MAX));
    }
    return this.afterWrite();
  }

  writev(chunks: readonly Uint8Array[]): boolean {
    if (this.state !== 'open') return false;
    let n = 0;
    for (const c of chunks) n += c.length;
    if (n > 0) {
      const all = new Uint8Array(n);
      let at = 0;
      for (const c of chunks) {
        all.set(c, at);
        at += c.length;
      }
      this.peer.enqueue(all);
    }
    return this.afterWrite();
  }

  setReceiver(receiver: CarrierReceiver): void {
    this.receiver = receiver;
    this.schedule();
  }

  pause(): void {
    this.paused = true;
  }

  /** Delivers data again after `pause`. */
  resume(): void {
    this.paused = false;
    this.schedule();
  }

  close(): void {
    if (this.state !== 'open') return;
    this.state = 'closing';
    if (this.peer.inboxBytes === 0) this.shutdown(undefined, undefined);
  }

  abort(error?: Error): void {
    if (this.state === 'closed') return;
    this.shutdown(error, new CarrierError('CONNECTION_RESET', `${this.peer.remote} aborted the connection`, { cause: error }));
  }

  private afterWrite(): boolean {
    if (this.peer.inboxBytes < this.hwm) return true;
    this.needDrain = true;
    return false;
  }

  private enqueue(chunk: Uint8Array): void {
    if (this.state === 'closed') return;
    this.inbox.push(chunk);
    this.inboxBytes += chunk.length;
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled) return;
    const work = this.closeDue !== undefined ? this.receiver !== undefined && !this.closeDelivered : this.receiver !== undefined && !this.paused && this.inboxBytes > 0;
    if (!work) return;
    this.scheduled = true;
    this.scheduleTask(this.pumpTask);
  }

  /** Deliver queued bytes to the receiver, then a drain to the writer, then a pending close. */
  private pump(): void {
    this.scheduled = false;
    let budget = TURN_BUDGET;
    while (this.state !== 'closed' && !this.paused && this.receiver !== undefined && this.inboxBytes > 0 && budget > 0) {
      const chunk = this.takeChunk();
      budget -= chunk.length;
      this.receiver.onData(chunk);
    }
    const writer = this.peer;
    if (this.inboxBytes === 0 && this.state !== 'closed') {
      if (writer.needDrain) {
        writer.needDrain = false;
        writer.receiver?.onDrain();
      }
      if (writer.state === 'closing') writer.shutdown(undefined, undefined);
    }
    if (this.closeDue !== undefined && !this.closeDelivered && this.receiver !== undefined) {
      this.closeDelivered = true;
      this.receiver.onClose(this.closeDue.error);
      return;
    }
    this.schedule();
  }

  /** Up to maxChunk bytes from the inbox: a view of one large chunk, or small ones joined. */
  private takeChunk(): Uint8Array {
    const first = this.inbox[this.inboxHead] as Uint8Array;
    let out: Uint8Array;
    if (first.length >= this.maxChunk) {
      out = first.subarray(0, this.maxChunk);
      if (first.length === this.maxChunk) this.dropHead();
      else this.inbox[this.inboxHead] = first.subarray(this.maxChunk);
    } else {
      let n = 0;
      let k = this.inboxHead;
      while (k < this.inbox.length && n + (this.inbox[k] as Uint8Array).length <= this.maxChunk) n += (this.inbox[k++] as Uint8Array).length;
      if (k === this.inboxHead + 1) {
        out = first;
        this.dropHead();
      } else {
        out = new Uint8Array(n);
        let at = 0;
        // dropHead may compact the list: count chunks rather than compare indexes.
        for (let left = k - this.inboxHead; left > 0; left--) {
          const c = this.inbox[this.inboxHead] as Uint8Array;
          out.set(c, at);
          at += c.length;
          this.dropHead();
        }
      }
    }
    this.inboxBytes -= out.length;
    return out;
  }

  private dropHead(): void {
    this.inbox[this.inboxHead++] = EMPTY;
    if (this.inboxHead === this.inbox.length) {
      this.inbox.length = 0;
      this.inboxHead = 0;
    } else if (this.inboxHead >= 64 && this.inboxHead * 2 >= this.inbox.length) {
      this.inbox.splice(0, this.inboxHead);
      this.inboxHead = 0;
    }
  }

  /** Both ends are closed now; each receiver hears of it once, on a later turn. */
  private shutdown(mine: Error | undefined, theirs: Error | undefined): void {
    for (const [end, error] of [
      [this, mine],
      [this.peer, theirs],
    ] as const) {
      if (end.state === 'closed') continue;
      end.state = 'closed';
      end.inbox.length = 0;
      end.inboxHead = 0;
      end.inboxBytes = 0;
      end.closeDue = { error };
      end.schedule();
    }
  }
}

const EMPTY = new Uint8Array(0);

let pairs = 0;

/** Two connected ends. `names` label them for logs (`remote` of each is the other's label). */
export function memoryCarrierPair(opts: MemoryCarrierOptions = {}, names: readonly [string, string] = ['memory#a', 'memory#b']): [MemoryCarrier, MemoryCarrier] {
  pairs++;
  const a = new MemoryCarrier(`${names[1]}/${pairs}`, opts);
  const b = new MemoryCarrier(`${names[0]}/${pairs}`, opts);
  a.peer = b;
  b.peer = a;
  return [a, b];
}
