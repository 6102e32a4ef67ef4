import type { Carrier, CarrierReceiver } from '@courier/core';

/**
 * A carrier that keeps what the session writes: copies of the chunks by default (the session may
 * reuse its buffers), or the very chunks with `keepChunks` (to see a referenced binary come through
 * as itself). `full` makes writes answer "full" (backpressure).
 */
export class FakeCarrier implements Carrier {
  readonly remote = 'fake';
  readonly out: Uint8Array[] = [];
  full = false;

  constructor(private readonly keepChunks = false) {}

  write(chunk: Uint8Array): boolean {
    this.out.push(this.keepChunks ? chunk : chunk.slice());
    return !this.full;
  }
  writev(chunks: readonly Uint8Array[]): boolean {
    for (const c of chunks) this.out.push(this.keepChunks ? c : c.slice());
    return !this.full;
  }
  setReceiver(_r: CarrierReceiver): void {}
  pause(): void {}
  resume(): void {}
  close(): void {}
  abort(): void {}
}
