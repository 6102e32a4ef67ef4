import { ProtocolError } from '@courier/core';
import { uninitialized, type Atom } from '@courier/term';
import { copySpanned, type SpannedFrame } from '@courier/stream/length-prefixed';

/**
 * Reassembly of fragmented messages (131,69 then 131,70…). FragId counts down to 1; sequences
 * from different senders may interleave, so each SeqId has its own buffer.
 *
 * Each fragment's bytes are copied once, from the socket chunks they arrived in, into the
 * message's buffer, made when the first fragment arrives: every fragment but the last is as
 * large as the first, so FragId × its size is an upper bound. Past FEW_FRAGMENTS fragments that
 * bound wastes at most a fifth of the buffer; below it, a message of a 64 KiB binary in two
 * fragments (the second one tiny) would get twice its size, so the buffer is made for the full
 * fragments and TAIL_RESERVE bytes of the last one, and grown once, to its exact size, when the
 * last one is larger. The message is handed out as a view of that buffer, which holds nothing
 * else, so its binaries pin no socket chunk. The buffer is not zeroed (every byte is copied
 * into it); an unwritten tail is zeroed before the message is handed out.
 *
 * Limits: the buffers of all open sequences together stay within `maxBytes` (a first fragment
 * gets what is left when its estimate would pass it, and a sequence that outgrows that is
 * refused), and at most `maxSequences` are open.
 */
interface Sequence {
  readonly refs: readonly Atom[];
  buf: Uint8Array;
  size: number;
  next: bigint;
}

/** A fragment's bytes: a view, or a frame that spanned socket chunks (from the frame reader). */
export type FragmentBytes = Uint8Array | SpannedFrame;

/** Up to this many fragments, the buffer is made for all but the last and TAIL_RESERVE bytes of it. */
const FEW_FRAGMENTS = 4;
const TAIL_RESERVE = 4096;

/**
 * Reassembles fragmented messages (131,69 then 131,70…), one buffer per sequence id, each fragment copied
 * once into its message's buffer; the buffers of all open sequences stay within `maxBytes`, and at most
 * `maxSequences` are open.
 */
export class Reassembler {
  private readonly open = new Map<bigint, Sequence>();
  /** Bytes of the buffers of the open sequences. */
  private reserved = 0;
  /** The fragment reserved and not yet committed. */
  private filling: { readonly s: Sequence; readonly seq: bigint; readonly n: number; readonly single: boolean } | undefined;

  constructor(
    private readonly maxBytes: number,
    private readonly maxSequences = 1024,
  ) {}

  /**
   * Add a fragment, its data being the bytes of `src` from `from` on; returns the whole message
   * (refs + bytes) when its last fragment arrived. `reused`: `src` is valid during this call only.
   */
  add(first: boolean, seq: bigint, fragId: bigint, refs: readonly Atom[], src: FragmentBytes, from = 0, reused = false): { refs: readonly Atom[]; body: Uint8Array } | undefined {
    if (first && fragId === 1n && !reused) {
      // A single-fragment message: no sequence, no copy when it lay in one chunk.
      if (this.open.has(seq)) throw bad(`sequence ${seq} started twice`);
      return { refs, body: whole(src, from) };
    }
    const into = this.reserve(first, seq, fragId, refs, src.length - from);
    if (src instanceof Uint8Array) into.set(from === 0 ? src : src.subarray(from));
    else copySpanned(src, from, into, 0);
    return this.commit();
  }

  /**
   * The region of its message's buffer where a fragment of `n` bytes goes; {@link Reassembler.commit}
   * once it is filled, before any other fragment. (add() is reserve, copy, commit; a carrier that
   * reads in place fills the region itself, with no copy.)
   */
  reserve(first: boolean, seq: bigint, fragId: bigint, refs: readonly Atom[], n: number): Uint8Array {
    if (fragId < 1n) throw bad(`fragment id ${fragId}`);
    let s = this.open.get(seq);
    if (first) {
      if (s !== undefined) throw bad(`sequence ${seq} started twice`);
      if (fragId === 1n) {
        // A single-fragment message: a buffer of its own, no sequence.
        if (n > this.maxBytes - this.reserved) throw this.tooMuch();
        s = { refs, buf: uninitialized(n), size: 0, next: 0n };
        this.filling = { s, seq, n, single: true };
        return s.buf;
      }
      if (this.open.size >= this.maxSequences) throw bad(`more than ${this.maxSequences} fragmented messages open`);
      const room = this.maxBytes - this.reserved;
      if (n > room) throw this.tooMuch();
      // fragId × n may pass 2^53 for a hostile fragId: as a float it still compares right.
      const count = Number(fragId);
      const estimate = count <= FEW_FRAGMENTS ? (count - 1) * n + Math.min(n, TAIL_RESERVE) : count * n;
      const size = Math.max(n, Math.min(room, estimate));
      s = { refs, buf: uninitialized(size), size: 0, next: fragId - 1n };
      this.reserved += size;
      this.open.set(seq, s);
    } else {
      if (s === undefined) throw bad(`fragment of unknown sequence ${seq}`);
      if (fragId !== s.next) throw bad(`fragment ${fragId} of sequence ${seq} out of order (expected ${s.next})`);
      s.next = fragId - 1n;
      if (s.size + n > s.buf.length) this.grow(s, s.size + n, fragId === 1n);
    }
    this.filling = { s, seq, n, single: false };
    return s.buf.subarray(s.size, s.size + n);
  }

  /** The region of the last {@link Reassembler.reserve} is filled: the whole message (refs + bytes) when that was its last fragment. */
  commit(): { refs: readonly Atom[]; body: Uint8Array } | undefined {
    const f = this.filling;
    if (f === undefined) throw new RangeError('commit without reserve');
    this.filling = undefined;
    const s = f.s;
    s.size += f.n;
    if (f.single) return { refs: s.refs, body: s.buf };
    if (s.next !== 0n) return undefined;
    this.open.delete(f.seq);
    this.reserved -= s.buf.length;
    if (s.size === s.buf.length) return { refs: s.refs, body: s.buf };
    // The buffer was not zeroed: its unwritten tail must not show another message's bytes to
    // whoever looks at a binary's `.buffer`.
    s.buf.fill(0, s.size);
    return { refs: s.refs, body: s.buf.subarray(0, s.size) };
  }

  /** openSequences Fragmented messages being reassembled now. */
  get openSequences(): number {
    return this.open.size;
  }

  /** Bytes held for the open sequences. */
  get reservedBytes(): number {
    return this.reserved;
  }

  /**
   * A buffer of at least `need` bytes, within the limit: exactly that for the last fragment (one
   * larger than TAIL_RESERVE), else double (a peer sent a later fragment larger than its first).
   */
  private grow(s: Sequence, need: number, last: boolean): void {
    const room = this.maxBytes - this.reserved + s.buf.length;
    if (need > room) throw this.tooMuch();
    const buf = uninitialized(last ? need : Math.min(room, Math.max(need, 2 * s.buf.length)));
    buf.set(s.buf.subarray(0, s.size));
    this.reserved += buf.length - s.buf.length;
    s.buf = buf;
  }

  private tooMuch(): ProtocolError {
    return bad(`fragmented messages exceed ${this.maxBytes} bytes`);
  }
}

/** A single-fragment message: a view when it lay in one chunk, else its one copy. */
function whole(src: FragmentBytes, from: number): Uint8Array {
  if (src instanceof Uint8Array) return from === 0 ? src : src.subarray(from);
  const out = uninitialized(src.length - from);
  copySpanned(src, from, out, 0);
  return out;
}

function bad(msg: string): ProtocolError {
  return new ProtocolError('BAD_FRAGMENT', msg, 0);
}
