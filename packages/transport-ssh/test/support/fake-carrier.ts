import { decode, encode, type Term } from '@courier/term';
import type { CarrierReceiver } from '@courier/core';
import type { EofCarrier } from '../../src/sshrpc/server-channel.js';

/** A carrier the test drives by hand: feed bytes in, read frames out, see pauses and the close. */
export class FakeCarrier implements EofCarrier {
  readonly remote = 'fake';
  readonly written: Uint8Array[] = [];
  receiver: CarrierReceiver | undefined;
  onPeerEof: (() => void) | undefined;
  paused = false;
  closedWith: number | undefined | 'abort' = undefined;
  closed = false;
  /** write() answers this (false: backpressure). */
  accept = true;

  write(chunk: Uint8Array): boolean {
    this.written.push(chunk);
    return this.accept;
  }
  setReceiver(r: CarrierReceiver): void {
    this.receiver = r;
  }
  pause(): void {
    this.paused = true;
  }
  resume(): void {
    this.paused = false;
  }
  close(exitStatus?: number): void {
    this.closed = true;
    this.closedWith = exitStatus;
  }
  abort(): void {
    this.closed = true;
    this.closedWith = 'abort';
  }

  feed(bytes: Uint8Array, size = 0): void {
    const n = size === 0 ? bytes.length : size;
    for (let at = 0; at < bytes.length; at += n) this.receiver?.onData(bytes.slice(at, Math.min(at + n, bytes.length)));
  }

  /** Every frame written so far, decoded. */
  frames(): Term[] {
    const all = Buffer.concat(this.written);
    const out: Term[] = [];
    for (let o = 0; o + 4 <= all.length;) {
      const n = all.readUInt32BE(o);
      out.push(decode(all.subarray(o + 4, o + 4 + n)));
      o += 4 + n;
    }
    return out;
  }
}

export function frame(t: Term): Buffer {
  const b = encode(t);
  const h = Buffer.alloc(4);
  h.writeUInt32BE(b.length);
  return Buffer.concat([h, b]);
}

/** Resolves after pending microtasks, ticks and immediates. */
export const settle = (rounds = 3): Promise<void> =>
  new Promise((r) => {
    let n = rounds;
    const step = () => (--n <= 0 ? r() : setImmediate(step));
    setImmediate(step);
  });
