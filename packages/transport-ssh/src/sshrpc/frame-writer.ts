import { Encoder, type Term } from '@courier/term';
import type { Carrier } from '@courier/core';

/** Pending output past this many bytes goes out at once rather than at the end of the tick. */
const FLUSH_AT = 256 * 1024;

class RewindableEncoder extends Encoder {
  rewind(to: number): void {
    this.pos = to;
  }
}

/**
 * Writes sshrpc frames (`<<Len:32/big, 131, Term/binary>>`) into one reusable buffer and hands
 * everything encoded during a tick to the carrier as one write, after that tick's microtasks: a
 * burst of answers becomes one SSH packet instead of one each. `busy` is true while the carrier
 * has refused more (until its onDrain, reported through `drained()`).
 */
export class FrameWriter {
  private readonly enc = new RewindableEncoder({ initialCapacity: 16 * 1024 });
  private scheduled = false;
  busy = false;
  closed = false;

  constructor(
    private readonly carrier: Carrier,
    private readonly onBusyChange?: (busy: boolean) => void,
  ) {}

  /** Queue one term as a frame. Throws EncodeError (nothing is written) for a term with no Erlang form. */
  write(term: Term): void {
    if (this.closed) return;
    const e = this.enc;
    const start = e.length;
    e.writeUint32(0);
    try {
      e.writeVersion();
      e.writeTerm(term);
    } catch (err) {
      e.rewind(start);
      throw err;
    }
    e.setUint32At(start, e.length - start - 4);
    if (e.length >= FLUSH_AT) this.flush();
    else if (!this.scheduled) {
      this.scheduled = true;
      process.nextTick(this.onTick);
    }
  }

  private readonly onTick = (): void => {
    this.scheduled = false;
    this.flush();
  };

  flush(): void {
    if (this.closed || this.enc.length === 0) return;
    if (!this.carrier.write(this.enc.take()) && !this.busy) {
      this.busy = true;
      this.onBusyChange?.(true);
    }
  }

  drained(): void {
    if (!this.busy) return;
    this.busy = false;
    this.onBusyChange?.(false);
  }
}
