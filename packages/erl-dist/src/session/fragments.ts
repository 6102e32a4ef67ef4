import { ProtocolError } from '@courier/core';
import type { Atom } from '@courier/term';

/**
 * Reassembly of fragmented messages (131,69 then 131,70…). FragId counts down to 1; sequences
 * from different senders may interleave, so parts are kept per SeqId. Limits: total bytes
 * buffered across sequences and the number of open sequences.
 */
interface Sequence {
  readonly refs: readonly Atom[];
  readonly parts: Uint8Array[];
  size: number;
  next: bigint;
}

export class Reassembler {
  private readonly open = new Map<bigint, Sequence>();
  private total = 0;

  constructor(
    private readonly maxBytes: number,
    private readonly maxSequences = 1024,
  ) {}

  /** Add a fragment; returns the whole message (refs + bytes) when its last fragment arrived. */
  add(first: boolean, seq: bigint, fragId: bigint, refs: readonly Atom[], data: Uint8Array): { refs: readonly Atom[]; body: Uint8Array } | undefined {
    if (fragId < 1n) throw bad(`fragment id ${fragId}`);
    let s = this.open.get(seq);
    if (first) {
      if (s !== undefined) throw bad(`sequence ${seq} started twice`);
      if (fragId === 1n) return { refs, body: data };
      if (this.open.size >= this.maxSequences) throw bad(`more than ${this.maxSequences} fragmented messages open`);
      s = { refs, parts: [], size: 0, next: fragId - 1n };
      this.open.set(seq, s);
    } else {
      if (s === undefined) throw bad(`fragment of unknown sequence ${seq}`);
      if (fragId !== s.next) throw bad(`fragment ${fragId} of sequence ${seq} out of order (expected ${s.next})`);
      s.next = fragId - 1n;
    }
    this.total += data.length;
    s.size += data.length;
    if (this.total > this.maxBytes) throw bad(`fragmented messages exceed ${this.maxBytes} bytes`);
    // Carriers never reuse chunks, so a view is safe to keep; but a small view would pin its whole
    // socket chunk, and maxBytes would no longer bound memory: copy those.
    s.parts.push(data.byteLength * 2 < data.buffer.byteLength ? data.slice() : data);
    if (first || fragId !== 1n) return undefined;
    this.open.delete(seq);
    this.total -= s.size;
    const body = new Uint8Array(s.size);
    let at = 0;
    for (const part of s.parts) {
      body.set(part, at);
      at += part.length;
    }
    return { refs: s.refs, body };
  }

  get openSequences(): number {
    return this.open.size;
  }
}

function bad(msg: string): ProtocolError {
  return new ProtocolError('BAD_FRAGMENT', msg, 0);
}
