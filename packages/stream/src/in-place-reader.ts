import { ProtocolError, uninitialized } from '@courier/term';
import { u32be } from './u32.js';

/**
 * Where the rest of a frame that goes past the read it started in should land: a consumer that
 * knows from the frame's first bytes where its contents end up (a fragment's data: in its
 * message's buffer) returns that region, and the carrier reads the rest straight into it.
 */
export interface FramePlacer {
  /**
   * A frame of `length` bytes begins with `head` (what has arrived of it, valid only during the
   * call) and goes past it. Return where its bytes from `from` on go — `into`, exactly
   * `length - from` bytes, `from` ≤ `head.length` — or undefined to have the frame handed to
   * onFrame whole. The reader fills `into` and then calls {@link FramePlacer.placed}.
   */
  place(head: Uint8Array, length: number): { readonly from: number; readonly into: Uint8Array } | undefined;
  /** The region of the last `place` is full. */
  placed(): void;
}

/** A frame up to this size that spans reads is assembled in one buffer the reader reuses. */
export const REUSE_MAX = 256 * 1024;
/** Below this many bytes left of a frame, the next read goes to the carrier's own buffer (it may hold the next frames too). */
const IN_PLACE_MIN = 4096;
/**
 * A frame this large or larger goes past a read. While such frames keep coming (one of the last
 * {@link LARGE_STREAK} frames was), reads between them go to a {@link HEAD_READ}-byte buffer: the
 * next frame's length and header arrive there, the rest of it in place. A full-size read would
 * bring 64 KiB of it into the carrier's buffer, to be copied.
 */
const LARGE = 16 * 1024;
const LARGE_STREAK = 8;
const HEAD_READ = 4096;

/**
 * The `<<Len:32, Data:Len/binary>>` frame reader for a carrier that reads in place
 * (`Carrier.readsInPlace`): the chunks it gets are valid only during `push` (the carrier reuses its
 * read buffer), so it copies what it keeps, and it tells the carrier where the next read should go
 * ({@link InPlaceFrameReader.readBuffer}) while a frame is incomplete — the bytes then land where
 * they are to stay, copied by the kernel only.
 *
 * A frame lying whole in a chunk goes to `onFrame` as a view of it, `reused` (valid during onFrame
 * only). A frame that goes past its chunk goes, in this order of preference: to the
 * {@link FramePlacer}'s region; into a buffer of up to {@link REUSE_MAX} bytes the reader reuses
 * (`reused` again); or, larger, into a buffer of its own, grown as its bytes arrive (a peer that
 * announces a large frame gets memory for what it sent, not what it announced), handed out to keep.
 * The frame limit is checked before anything is allocated. I/O-free (a browser build may import it).
 */
export class InPlaceFrameReader {
  /** A length prefix split over chunks. */
  private readonly prefix = new Uint8Array(4);
  private prefixHave = 0;
  /** The frame being assembled (or a placer's region) and the bytes of it in place. */
  private frame: Uint8Array | undefined;
  private have = 0;
  /** Bytes the frame will have (an own buffer grows up to it). */
  private frameLength = 0;
  private mode: 'placed' | 'reused' | 'own' = 'reused';
  private spare: Uint8Array | undefined;
  /** Frames since the last large one (see {@link LARGE}). */
  private sinceLarge = LARGE_STREAK;
  private head: Uint8Array | undefined;

  constructor(
    private readonly maxFrame: number,
    private readonly onFrame: (frame: Uint8Array, reused: boolean) => void,
    private readonly onTick: () => void,
    private readonly placer?: FramePlacer,
  ) {}

  /** Bytes waiting for the rest of their frame. */
  get pending(): number {
    return this.prefixHave + (this.frame === undefined ? 0 : this.have);
  }

  /**
   * Where the carrier should read next: the rest of the frame being assembled; between large frames
   * a small buffer for the next one's head; else undefined, for the carrier's own buffer.
   */
  readBuffer(): Uint8Array | undefined {
    const f = this.frame;
    if (f !== undefined) {
      const end = Math.min(f.length, this.frameLength);
      if (end - this.have >= IN_PLACE_MIN) return f.subarray(this.have, end);
    }
    // A short rest of a frame, or the next frame's head: while large frames come, a small read, so
    // that the next one's data is not read (and copied) along with it.
    if (this.sinceLarge >= LARGE_STREAK) return undefined;
    return (this.head ??= new Uint8Array(HEAD_READ));
  }

  /** Feed bytes (valid during this call only); calls onFrame/onTick for every complete frame. Throws ProtocolError on an oversized length. */
  push(chunk: Uint8Array): void {
    const n = chunk.length;
    let o = 0;
    if (this.frame !== undefined) {
      o = this.fill(chunk);
      if (this.frame !== undefined) return;
    }
    while (o < n) {
      let len: number;
      if (this.prefixHave === 0 && n - o >= 4) {
        len = u32be(chunk, o);
        o += 4;
      } else {
        while (this.prefixHave < 4 && o < n) this.prefix[this.prefixHave++] = chunk[o++] as number;
        if (this.prefixHave < 4) return;
        len = u32be(this.prefix, 0);
        this.prefixHave = 0;
      }
      if (len === 0) {
        this.onTick();
        continue;
      }
      if (len > this.maxFrame) throw this.tooLarge(len);
      if (n - o >= len) {
        if (len >= LARGE) this.sinceLarge = 0;
        else if (this.sinceLarge < LARGE_STREAK) this.sinceLarge++;
        this.onFrame(chunk.subarray(o, o + len), true);
        o += len;
        continue;
      }
      this.begin(chunk.subarray(o), len);
      return;
    }
  }

  /** A frame of `len` bytes starts with `head` (all of the chunk that is left) and goes past it. */
  private begin(head: Uint8Array, len: number): void {
    this.frameLength = len;
    if (len >= LARGE) this.sinceLarge = 0;
    else if (this.sinceLarge < LARGE_STREAK) this.sinceLarge++;
    const placement = head.length > 0 ? this.placer?.place(head, len) : undefined;
    if (placement !== undefined) {
      if (placement.into.length !== len - placement.from || placement.from > head.length) throw new RangeError('the placer gave a region of the wrong size');
      this.mode = 'placed';
      this.frame = placement.into;
      this.frameLength = placement.into.length;
      this.have = 0;
      this.fill(head.subarray(placement.from));
      return;
    }
    if (len <= REUSE_MAX) {
      this.mode = 'reused';
      if (this.spare === undefined || this.spare.length < len) this.spare = uninitialized(Math.max(len, this.spare?.length ?? 0));
      this.frame = this.spare.subarray(0, len);
    } else {
      this.mode = 'own';
      this.frame = uninitialized(Math.min(len, Math.max(REUSE_MAX, 2 * head.length)));
    }
    this.have = 0;
    this.fill(head);
  }

  /** Copy (or, read in place, count) the bytes of `chunk` that belong to the frame; returns how many. */
  private fill(chunk: Uint8Array): number {
    let f = this.frame as Uint8Array;
    const k = Math.min(chunk.length, this.frameLength - this.have);
    if (k > 0) {
      const inPlace = chunk.buffer === f.buffer && chunk.byteOffset === f.byteOffset + this.have;
      if (!inPlace) {
        if (this.have + k > f.length) f = this.grow(this.have + k);
        f.set(k === chunk.length ? chunk : chunk.subarray(0, k), this.have);
      }
      this.have += k;
    }
    if (this.have < this.frameLength) return k;
    this.frame = undefined;
    if (this.mode === 'placed') this.placer?.placed();
    else this.onFrame(f.length === this.frameLength ? f : f.subarray(0, this.frameLength), this.mode === 'reused');
    return k;
  }

  /** An own frame buffer of at least `need` bytes: double, at most the frame's length. */
  private grow(need: number): Uint8Array {
    const old = this.frame as Uint8Array;
    const f = uninitialized(Math.min(this.frameLength, Math.max(need, 2 * old.length)));
    f.set(old.subarray(0, this.have));
    this.frame = f;
    return f;
  }

  private tooLarge(len: number): ProtocolError {
    return new ProtocolError('FRAME_TOO_LARGE', `peer announced a frame of ${len} bytes, over the limit of ${this.maxFrame}`, 0);
  }
}
