import type { Carrier, CarrierReceiver } from '@courier/core';
import { decodeTerm, type Term } from '@courier/term';
import { LengthPrefixedReader } from '@courier/stream/length-prefixed';
import { AtomCache, parseFrame } from '../../src/session/dist-header.js';
import { Reassembler } from '../../src/session/fragments.js';

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

/** One message a session wrote: its control term and its payload (none for a signal without one). */
export interface Written {
  readonly control: Term;
  readonly payload: Term | undefined;
}

/**
 * Every message written to `carrier` so far, whole (fragments reassembled), in the order its
 * last byte went out: what the peer would decode (frames with 131,68 headers, as to a peer
 * with DFLAG_FRAGMENTS).
 */
export function writtenMessages(carrier: FakeCarrier): Written[] {
  const out: Written[] = [];
  const cache = new AtomCache();
  const r = new Reassembler(1 << 30);
  const reader = new LengthPrefixedReader(
    1 << 30,
    (f) => {
      const p = parseFrame(f, cache);
      const body = p.kind === 'message' ? { bytes: p.body, at: p.offset } : p.kind === 'fragment' ? r.add(p.first, p.seq, p.fragId, p.refs, p.data) : undefined;
      if (body === undefined) return;
      const [bytes, at] = 'bytes' in body ? [body.bytes, body.at] : [body.body, 0];
      const c = decodeTerm(bytes, at);
      out.push({ control: c.term, payload: c.end < bytes.length ? decodeTerm(bytes, c.end).term : undefined });
    },
    () => undefined,
  );
  // Copies: the reader may keep views of what it is given, and the tests reuse nothing.
  for (const c of carrier.out) reader.push(c.slice());
  return out;
}
