/**
 * Large messages on their way out fragment by fragment (OTP 22+'s 131,69 / 131,70 frames), so
 * that ticks and the small messages of other processes go out between their fragments instead
 * of waiting behind megabytes.
 *
 * One lane per sending process: whatever a process sends after a large message (a small
 * message, a link, its exit signal) joins that process's lane behind it, so signals between a
 * pair of processes keep their order, as Erlang guarantees. Lanes are served round-robin, one
 * fragment (or queued frame) at a time, whenever the carrier can take more; frames from
 * processes without a lane bypass the lanes altogether (the session writes them at once).
 */

/**
 * A fragmented message: its encoded data (after 131,68,0) as chunks — views of the encoder's
 * buffer with the large binaries it referenced between them — cut into `count` fragments by
 * bytes of the whole data as they are written. A fragment boundary may fall inside a chunk: the
 * fragment then ends with a view of its start and the next begins with a view of the rest.
 */
interface Fragmented {
  readonly kind: 'fragments';
  /** The buffer the data is a view of, handed back through `finished` once the last fragment is out. */
  readonly source: Uint8Array;
  readonly chunks: readonly Uint8Array[];
  /** Bytes of all the chunks. */
  readonly total: number;
  readonly seq: bigint;
  readonly count: number;
  /** Fragments written so far. */
  done: number;
  /** Where the next fragment starts: chunk index and offset in that chunk. */
  chunk: number;
  offset: number;
}

/** A whole frame (length prefix included), as chunks, that must wait behind its sender's earlier message. */
interface Frame {
  readonly kind: 'frame';
  readonly chunks: readonly Uint8Array[];
  readonly bytes: number;
}

type Item = Fragmented | Frame;

const VERSION = 131;

export class OutputLanes {
  /** Insertion order is the round-robin order: a lane served goes to the back. */
  private readonly lanes = new Map<string, Item[]>();
  private queued = 0;

  constructor(private readonly fragmentSize: number) {}

  /** Bytes waiting in all lanes (fragment headers not counted). */
  get bytes(): number {
    return this.queued;
  }

  get size(): number {
    return this.lanes.size;
  }

  /** Whether `sender` has a message still going out: its next frame must queue behind it. */
  has(sender: string): boolean {
    return this.lanes.has(sender);
  }

  /**
   * Buffers whose every fragment has been handed to the carrier (`pushFragments`' `source`): once
   * the carrier has drained, nothing reads them any more. The session takes them (and clears this).
   */
  readonly finished: Uint8Array[] = [];

  /**
   * Queue a message's encoded data (the bytes after 131,68,0: views of `source` and referenced
   * binaries) to go out in fragments of sequence `seq`.
   */
  pushFragments(sender: string, source: Uint8Array, chunks: readonly Uint8Array[], seq: bigint): void {
    const total = byteLength(chunks);
    const count = Math.ceil(total / this.fragmentSize);
    this.push(sender, { kind: 'fragments', source, chunks, total, seq, count, done: 0, chunk: 0, offset: 0 }, total);
  }

  /** Queue a whole frame (its chunks) behind `sender`'s earlier message. */
  pushFrame(sender: string, chunks: readonly Uint8Array[]): void {
    const bytes = byteLength(chunks);
    this.push(sender, { kind: 'frame', chunks, bytes }, bytes);
  }

  private push(sender: string, item: Item, n: number): void {
    const lane = this.lanes.get(sender);
    if (lane === undefined) this.lanes.set(sender, [item]);
    else lane.push(item);
    this.queued += n;
  }

  /**
   * The chunks of the next fragment or frame, round-robin across lanes; undefined when all are
   * empty. A fragment is its 22- or 23-byte header and a view of the message's data.
   */
  next(): Uint8Array[] | undefined {
    for (const [sender, lane] of this.lanes) {
      const item = lane[0];
      if (item === undefined) {
        this.lanes.delete(sender);
        continue;
      }
      let out: Uint8Array[];
      if (item.kind === 'frame') {
        lane.shift();
        this.queued -= item.bytes;
        out = item.chunks as Uint8Array[];
      } else {
        out = this.fragment(item);
        if (item.done === item.count) {
          lane.shift();
          this.finished.push(item.source);
        }
      }
      // To the back of the round, or gone when empty.
      this.lanes.delete(sender);
      if (lane.length > 0) this.lanes.set(sender, lane);
      return out;
    }
    return undefined;
  }

  /** Everything left, in lane order (a graceful close writes it all before closing). */
  drain(): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (let chunks = this.next(); chunks !== undefined; chunks = this.next()) out.push(...chunks);
    return out;
  }

  clear(): void {
    this.lanes.clear();
    this.queued = 0;
    this.finished.length = 0;
  }

  private fragment(m: Fragmented): Uint8Array[] {
    const i = m.done++;
    const size = Math.min(this.fragmentSize, m.total - i * this.fragmentSize);
    this.queued -= size;
    const first = i === 0;
    // <<Len:32, 131, 69|70, SeqId:64, FragId:64, [NumAtomCacheRefs = 0]>>
    const h = new Uint8Array(first ? 23 : 22);
    const hv = new DataView(h.buffer);
    hv.setUint32(0, (first ? 19 : 18) + size);
    h[4] = VERSION;
    h[5] = first ? 69 : 70;
    hv.setBigUint64(6, m.seq);
    hv.setBigUint64(14, BigInt(m.count - i));
    const out: Uint8Array[] = [h];
    // The next `size` bytes of the chunks, as views: whole chunks where they fit.
    for (let left = size; left > 0;) {
      const c = m.chunks[m.chunk] as Uint8Array;
      const n = Math.min(c.length - m.offset, left);
      out.push(n === c.length ? c : c.subarray(m.offset, m.offset + n));
      left -= n;
      m.offset += n;
      if (m.offset === c.length) {
        m.chunk++;
        m.offset = 0;
      }
    }
    return out;
  }
}

function byteLength(chunks: readonly Uint8Array[]): number {
  let n = 0;
  for (const c of chunks) n += c.length;
  return n;
}
