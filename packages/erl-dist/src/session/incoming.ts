import { ProtocolError, decodeLimits, decodeTermWith, type Atom, type DecodeLimits, type Term } from '@courier/term';
import type { DistOp } from '@courier/core';
import { InPlaceFrameReader, LengthPrefixedReader, copySpanned, spannedHead, type FramePlacer, type SpannedFrame } from '@courier/stream/length-prefixed';
import { UnknownControlError, decodeControl } from '../control/control.js';
import { AtomCache, FRAGMENT_HEAD, parseFragmentHead, parseFrame } from './dist-header.js';
import { Reassembler } from './fragments.js';

const VERSION = 131;

/** What the incoming side of a session tells its session. */
export interface IncomingHost {
  readonly maxMessage: number;
  isClosed(): boolean;
  /** A tick (an empty frame) arrived. */
  tick(this: void): void;
  /** A frame was taken in. */
  frame(): void;
  /** A decoded operation, for the router. */
  route(op: DistOp): void;
  /** A control message this node does not know (OTP ignores those too). */
  unknownControl(err: UnknownControlError): void;
}

/**
 * The incoming side of an Erlang distribution session: 4-byte frames (read in place when the
 * carrier can: a fragment's data lands in its message's buffer with no copy), the distribution
 * header and its atom cache, fragment reassembly, and the decode of control message and payload to
 * a DistOp. Throws ProtocolError on bad input; the session closes the connection.
 */
export class IncomingFrames {
  private readonly reader: LengthPrefixedReader | InPlaceFrameReader;
  private readonly cache = new AtomCache();
  private readonly reassembler: Reassembler;
  /**
   * Decode options, resolved once: [frame kept, frame in a buffer the reader reuses (every binary
   * copied out)] × [no atom cache refs, the current frame's refs (read through `refs`)].
   */
  private readonly limits: readonly [DecodeLimits, DecodeLimits, DecodeLimits, DecodeLimits];
  /** The atom cache refs of the frame being decoded. */
  private refs: readonly Atom[] = [];

  /** `inPlace`: the carrier reads in place (`Carrier.readsInPlace`), so its chunks are valid only during `push`. */
  constructor(
    inPlace: boolean,
    private readonly h: IncomingHost,
  ) {
    const atomCache = (i: number): Atom | undefined => this.refs[i];
    const kept = { maxTermBytes: h.maxMessage, copySmallBinaries: true };
    const reusedInput = { ...kept, inputReused: true };
    this.limits = [decodeLimits(kept), decodeLimits({ ...kept, atomCache }), decodeLimits(reusedInput), decodeLimits({ ...reusedInput, atomCache })];
    this.reassembler = new Reassembler(h.maxMessage);
    // A carrier that reads in place (plain TCP) reads a fragment's data straight into its
    // message's buffer (the placer below); any other hands over chunks that may be kept.
    this.reader = inPlace
      ? new InPlaceFrameReader(h.maxMessage, (f, reused) => this.onFrame(f, reused), h.tick, this.placer())
      : new LengthPrefixedReader(
          h.maxMessage,
          (f) => this.onFrame(f, false),
          h.tick,
          (f) => this.onSpanned(f),
        );
  }

  /** Bytes from the carrier. Throws ProtocolError on bad input. */
  push(chunk: Uint8Array): void {
    this.reader.push(chunk);
  }

  /** Where the next read goes (the rest of a frame), else the carrier's own buffer. */
  readBuffer(): Uint8Array | undefined {
    return this.reader instanceof InPlaceFrameReader ? this.reader.readBuffer() : undefined;
  }

  /** A frame; `reused`: its buffer is reused once this returns (nothing may keep a view of it). */
  private onFrame(f: Uint8Array, reused: boolean): void {
    if (this.h.isClosed()) return;
    this.h.frame();
    const p = parseFrame(f, this.cache);
    if (p.kind === 'pass') {
      if (p.body[p.offset] !== VERSION) throw new ProtocolError('BAD_FRAME', 'pass-through frame without 131', p.offset);
      this.dispatch(p.body, p.offset + 1, undefined, true, reused);
    } else if (p.kind === 'message') {
      this.dispatch(p.body, p.offset, p.refs.length > 0 ? p.refs : undefined, false, reused);
    } else {
      const whole = this.reassembler.add(p.first, p.seq, p.fragId, p.refs, p.data, 0, reused);
      if (whole !== undefined) this.dispatch(whole.body, 0, whole.refs.length > 0 ? whole.refs : undefined, false, false);
    }
  }

  /**
   * Where a fragment that goes past its read lands: parsed from its first bytes, its data goes to
   * the region of its message's buffer (Reassembler.reserve), which the carrier fills in place.
   */
  private placer(): FramePlacer {
    return {
      place: (head, length) => {
        // A continuation's header is 18 bytes; a first fragment's parse checks its own length.
        if (this.h.isClosed() || head.length < 18) return undefined;
        const p = parseFragmentHead(head.length > FRAGMENT_HEAD ? head.subarray(0, FRAGMENT_HEAD) : head, length, this.cache);
        if (p === undefined) return undefined;
        return { from: p.offset, into: this.reassembler.reserve(p.first, p.seq, p.fragId, p.refs, length - p.offset) };
      },
      placed: () => {
        if (this.h.isClosed()) return;
        this.h.frame();
        const whole = this.reassembler.commit();
        if (whole !== undefined) this.dispatch(whole.body, 0, whole.refs.length > 0 ? whole.refs : undefined, false, false);
      },
    };
  }

  /**
   * A frame that spanned socket chunks, as views of them: a fragment's bytes are copied straight
   * into its message's buffer; any other frame into one buffer of its own. Either way once.
   */
  private onSpanned(f: SpannedFrame): void {
    if (this.h.isClosed()) return;
    const p = parseFragmentHead(spannedHead(f, Math.min(f.length, FRAGMENT_HEAD)), f.length, this.cache);
    if (p === undefined) {
      const flat = new Uint8Array(f.length);
      copySpanned(f, 0, flat, 0);
      this.onFrame(flat, false);
      return;
    }
    this.h.frame();
    const whole = this.reassembler.add(p.first, p.seq, p.fragId, p.refs, f, p.offset);
    if (whole !== undefined) this.dispatch(whole.body, 0, whole.refs.length > 0 ? whole.refs : undefined, false, false);
  }

  private dispatch(body: Uint8Array, at: number, refs: readonly Atom[] | undefined, versioned: boolean, reused: boolean): void {
    if (refs !== undefined) this.refs = refs;
    const opts = this.limits[(reused ? 2 : 0) + (refs === undefined ? 0 : 1)] as DecodeLimits;
    const c = decodeTermWith(body, at, opts);
    let payload: Term | undefined;
    if (c.end < body.length) {
      let o = c.end;
      if (versioned) {
        if (body[o] !== VERSION) throw new ProtocolError('BAD_FRAME', 'payload without 131 in pass-through frame', o);
        o++;
      }
      const d = decodeTermWith(body, o, opts);
      if (d.end !== body.length) throw new ProtocolError('BAD_FRAME', `${body.length - d.end} stray bytes after the payload`, d.end);
      payload = d.term;
    }
    let op: DistOp;
    try {
      op = decodeControl(c.term, payload);
    } catch (err) {
      if (err instanceof UnknownControlError) {
        this.h.unknownControl(err);
        return;
      }
      throw err;
    }
    this.h.route(op);
  }
}
