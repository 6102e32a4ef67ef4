import { Atom, DEFAULT_MAX_TERM_BYTES, Encoder, ProtocolError, atom } from '@courier/term';
import { pidKey, type Carrier, type DistOp, type Logger, type PipelineSession, type Router } from '@courier/core';
import { refusal, DEFAULT_BUSY_LIMIT, DEFAULT_SEND_BY_REFERENCE_MIN } from './outgoing.js';
import { DFLAG } from '../handshake/flags.js';
import { encodeControl, type ControlOptions } from '../control/control.js';
import { IncomingFrames } from './incoming.js';
import { OutputLanes } from './output-lanes.js';

/**
 * One Erlang distribution connection after the handshake: 4-byte frames, ticks, the
 * distribution header (131,68) or pass-through ('p') framing as negotiated, fragments both ways,
 * and control messages ⇄ DistOps. Outgoing frames of one tick are encoded back to back into one
 * buffer and written with a single `write` after the microtasks of that tick have run; binaries
 * from `sendByReferenceMin` up are not copied into it but written beside it (one `writev`). A message
 * larger than a fragment goes out fragment by fragment whenever the carrier can take more
 * (output-lanes.ts), so ticks and other processes' messages pass between its fragments.
 */
export interface ErlSessionOptions {
  readonly peer: Atom;
  readonly flags: bigint;
  readonly hidden: boolean;
  readonly carrierName: string;
  readonly log: Logger;
  /** net_ticktime in seconds (OTP default 60): ticks every ticktime/4, down after ticktime of silence. */
  readonly netTicktime?: number;
  /**
   * Largest frame or reassembled message accepted, bytes; also each term's maxTermBytes, so the
   * decoder's heap budget is 2 × this + 1 MiB. Default 64 MiB (DEFAULT_MAX_TERM_BYTES of @courier/term).
   */
  readonly maxMessage?: number;
  /** Messages larger than this are sent as fragments when the peer supports them. Default 64 KiB. */
  readonly fragmentSize?: number;
  /**
   * Output bytes queued toward the peer (encoded, not yet taken by the bearer) past which the
   * connection is busy, as Erlang's dist_buf_busy_limit. Default 1 MiB. See docs/erlang.md.
   */
  readonly busyLimit?: number;
  /**
   * Binaries of at least this many bytes are not copied into the encoder's buffer: they go to
   * the carrier as chunks of their own in a writev beside the encoded term around them (Erlang's
   * refc binaries on the dist port). Such a binary must not be changed by the sender after the
   * send (Erlang binaries are immutable; a Uint8Array is not). Default
   * DEFAULT_SEND_BY_REFERENCE_MIN (4 KiB); Infinity copies every binary.
   */
  readonly sendByReferenceMin?: number;
}

const VERSION = 131;
const CONNECTION_CLOSED = atom('connection_closed');
const NET_TICK_TIMEOUT = atom('net_tick_timeout');
const DEFAULT_MAX_MESSAGE = DEFAULT_MAX_TERM_BYTES;
const TICK = new Uint8Array(4);
/** Pending output past this many bytes is written at once instead of at the end of the tick. */
const FLUSH_AT = 256 * 1024;
/**
 * Runs the end-of-tick flush: process.nextTick on Node (after the tick's microtasks), a microtask
 * where there is no `process` (a browser node over @courier/transport-ws).
 */
const defer: (f: () => void) => void = typeof process !== 'undefined' && typeof process.nextTick === 'function' ? (f) => process.nextTick(f) : queueMicrotask;

export class ErlSession implements PipelineSession {
  readonly peer: Atom;
  readonly hidden: boolean;
  readonly carrier: string;
  private readonly log: Logger;
  /** Frames in: framing, the distribution header, reassembly, decode, to the router. */
  private readonly incoming: IncomingFrames;
  private readonly enc = new Encoder({ initialCapacity: 64 * 1024 });
  private readonly ctl: ControlOptions;
  private readonly distHeader: boolean;
  private readonly fragments: boolean;
  private readonly fragmentSize: number;
  private readonly maxMessage: number;
  private flushScheduled = false;
  /** Large messages going out fragment by fragment, and what their senders sent after them. */
  private readonly lanes: OutputLanes;
  /** The carrier's last write returned true, or it drained since: lanes may write. */
  private canWrite = true;
  private pumping = false;
  private readonly busyLimit: number;
  /** Bytes the carrier holds (its queuedBytes, or the bytes written since it last took a write without complaint). */
  private backlog = 0;
  /**
   * Output size past which a message is refused (BUSY_DIST_PORT): set when a frame makes the
   * connection busy, to twice the limit or that much plus the limit (one message larger than the
   * limit still goes, as in Erlang, and so does the next); 0 while not busy.
   */
  private refuseAt = 0;
  /** Resolves the processes waiting for the output to go below busyLimit. */
  private drained: { promise: Promise<void>; resolve: () => void } | undefined;
  private closed = false;
  private reads = 0;
  private writes = 0;
  private silentTicks = 0;
  private lastReads = 0;
  private lastWrites = 0;
  private tickTimer: ReturnType<typeof setInterval> | undefined;
  private seq = 0n;
  /** Counters for observation. */
  readonly stats = { framesIn: 0, framesOut: 0, bytesIn: 0, bytesOut: 0 };

  constructor(
    private readonly link: Carrier,
    private readonly router: Router,
    o: ErlSessionOptions,
  ) {
    this.peer = o.peer;
    this.hidden = o.hidden;
    this.carrier = o.carrierName;
    this.log = o.log;
    this.maxMessage = o.maxMessage ?? DEFAULT_MAX_MESSAGE;
    this.fragmentSize = o.fragmentSize ?? 64 * 1024;
    this.busyLimit = o.busyLimit ?? DEFAULT_BUSY_LIMIT;
    // V4_PORT_EXT only to peers that advertised V4_NC (OTP 24+); NEW_PORT_EXT to the others.
    this.enc.v4Ports = (o.flags & DFLAG.V4_NC) !== 0n;
    this.enc.referenceMin = o.sendByReferenceMin ?? DEFAULT_SEND_BY_REFERENCE_MIN;
    this.ctl = { payloadExits: (o.flags & DFLAG.EXIT_PAYLOAD) !== 0n, sendSender: (o.flags & DFLAG.SEND_SENDER) !== 0n };
    this.fragments = (o.flags & DFLAG.FRAGMENTS) !== 0n;
    this.distHeader = this.fragments || (o.flags & DFLAG.DIST_HDR_ATOM_CACHE) !== 0n;
    this.lanes = new OutputLanes(this.fragmentSize);
    this.incoming = new IncomingFrames(link.readsInPlace === true, {
      maxMessage: this.maxMessage,
      isClosed: () => this.closed,
      tick: () => this.reads++,
      frame: () => this.stats.framesIn++,
      route: (op) => this.router.route(op, this.peer),
      unknownControl: (err) => this.log.warn({ peer: this.peer.name, err: err.message }, 'unknown control message ignored'),
    });
    const tickMs = ((o.netTicktime ?? 60) * 1000) / 4;
    this.tickTimer = setInterval(() => this.tick(), tickMs);
    this.tickTimer.unref?.();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  // ---- outgoing ----------------------------------------------------------------------------

  // ---- backpressure (dist_buf_busy_limit) -------------------------------------------------

  /** Output bytes not yet taken by the bearer: the carrier's backlog, the unflushed frames and the lanes. */
  get queuedBytes(): number {
    return this.backlog + this.enc.length + this.enc.referencedBytes + this.lanes.bytes;
  }

  /** At or past the busy limit: a process that sends now is parked at its next await. */
  get busy(): boolean {
    return this.queuedBytes >= this.busyLimit;
  }

  /**
   * Far past the busy limit (twice it, or the limit more than when it became busy, whichever is
   * larger): a further message is refused with BUSY_DIST_PORT.
   */
  get overloaded(): boolean {
    return this.refuseAt !== 0 && this.queuedBytes >= this.refuseAt;
  }

  /** Resolves once the output is below the busy limit again, or the connection closed. */
  whenDrained(): Promise<void> {
    if (this.closed || !this.busy) return Promise.resolve();
    if (this.drained === undefined) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      this.drained = { promise, resolve };
    }
    return this.drained.promise;
  }

  private wakeDrained(): void {
    const d = this.drained;
    if (d === undefined || (!this.closed && this.busy)) return;
    this.drained = undefined;
    d.resolve();
  }

  /** The carrier took `n` bytes; `ok` is what write returned. */
  private wrote(n: number, ok: boolean): void {
    this.canWrite = ok;
    const q = this.link.queuedBytes;
    this.backlog = q ?? (ok ? 0 : this.backlog + n);
    if (ok && this.drained !== undefined) this.wakeDrained();
  }

  // ---- outgoing ----------------------------------------------------------------------------

  /**
   * Encode and queue `op`. A term with no Erlang form never leaves a byte behind: the frame is
   * rolled back, then a message (send, reg_send, alias_send, spawn_request) is refused with a
   * UsageError BADARG, and a signal the runtime emits on its own (an exit reason to a remote
   * link or monitor) goes out with the reason replaced by `{error, <<"unencodable …">>}` (logged
   * at warn), so the link still breaks on the other side.
   */
  send(op: DistOp): boolean {
    if (this.closed) return false;
    const e = this.enc;
    const start = e.length;
    const refStart = e.referencedBytes;
    if (this.queuedBytes < this.busyLimit) this.refuseAt = 0;
    try {
      this.encodeFrame(op, start, refStart);
    } catch (err) {
      e.truncate(start);
      const instead = refusal(op, err, this.peer, this.log);
      return instead === undefined ? this.queuedBytes < this.busyLimit : this.send(instead);
    }
    const len = e.length - start - 4 + (e.referencedBytes - refStart);
    // The sender's lane matters only for a large message or while some lane is open: most sends
    // skip building its key.
    if (this.fragments && len > this.fragmentSize + 3) this.fragment(senderOf(op), start);
    else if (this.lanes.size > 0) {
      const sender = senderOf(op);
      if (this.lanes.has(sender)) this.lanes.pushFrame(sender, e.referencedBytes === refStart ? [e.takeFrom(start)] : e.takeChunksFrom(start));
    }
    const queued = this.queuedBytes;
    if (this.refuseAt === 0 && queued >= this.busyLimit) this.refuseAt = Math.max(2 * this.busyLimit, queued + this.busyLimit);
    if (e.length + e.referencedBytes >= FLUSH_AT) {
      // A big backlog goes out now rather than growing one buffer for the whole tick.
      this.flush();
    } else if (!this.flushScheduled) {
      this.flushScheduled = true;
      defer(this.flushTick);
    }
    return queued < this.busyLimit;
  }

  /** Write one frame for `op` at `start`; throws (leaving bytes to roll back) when a term has no Erlang form. */
  private encodeFrame(op: DistOp, start: number, refStart: number): void {
    const { control, payload } = encodeControl(op, this.ctl);
    const e = this.enc;
    e.writeUint32(0);
    if (this.distHeader) {
      e.writeUint8(VERSION);
      e.writeUint8(68);
      e.writeUint8(0);
      e.writeTerm(control);
      if (payload !== undefined) e.writeTerm(payload);
    } else {
      e.writeUint8(112);
      e.writeUint8(VERSION);
      e.writeTerm(control);
      if (payload !== undefined) {
        e.writeUint8(VERSION);
        e.writeTerm(payload);
      }
    }
    e.setUint32At(start, e.length - start - 4 + (e.referencedBytes - refStart));
    this.stats.framesOut++;
  }

  /**
   * The frame just encoded at `start` (Len:32, 131,68,0, data) goes out as 131,69 / 131,70
   * fragments through `sender`'s lane, without copying its data or the binaries it references:
   * frames batched before it go out first.
   */
  private fragment(sender: string, start: number): void {
    const { head, tail, source } = this.enc.takeChunks(start);
    if (head.length > 0) this.writeAll(head);
    // The first chunk starts with the frame's length and 131,68,0 (a binary comes after the control term).
    tail[0] = (tail[0] as Uint8Array).subarray(4 + 3);
    this.lanes.pushFragments(sender, source, tail, ++this.seq);
    this.pump();
  }

  /** Write from the lanes, round-robin, while the carrier takes more; wake parked senders as the output goes below the limit. */
  private pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    try {
      // One fragment per drain once the socket says "full": a socket's queue empties at once when
      // the kernel takes the bytes, so its size would not stop us writing the whole message.
      while (this.canWrite && !this.closed) {
        const chunks = this.lanes.next();
        if (chunks === undefined) break;
        this.writeAll(chunks);
      }
    } finally {
      this.pumping = false;
    }
    if (this.drained !== undefined) this.wakeDrained();
  }

  private write(bytes: Uint8Array): void {
    this.writes++;
    this.stats.bytesOut += bytes.length;
    this.wrote(bytes.length, this.link.write(bytes));
  }

  private writeAll(chunks: Uint8Array[]): void {
    if (this.link.writev === undefined) {
      for (const c of chunks) this.write(c);
      return;
    }
    this.writes++;
    let n = 0;
    for (const c of chunks) n += c.length;
    this.stats.bytesOut += n;
    this.wrote(n, this.link.writev(chunks));
  }

  private readonly flushTick = (): void => {
    this.flushScheduled = false;
    this.flush();
  };

  private readonly flush = (): void => {
    if (this.closed || this.enc.length === 0) return;
    if (this.enc.referencedBytes === 0) this.write(this.enc.take());
    else this.writeAll(this.enc.takeChunks().tail);
    if (this.canWrite && this.lanes.size > 0) this.pump();
  };

  close(reason = 'closed'): void {
    if (this.closed) return;
    this.log.debug({ peer: this.peer.name, reason }, 'closing distribution connection');
    this.flush();
    if (this.lanes.size > 0) this.writeAll(this.lanes.drain());
    this.link.close();
    this.onClose(undefined, reason);
  }

  // ---- incoming ----------------------------------------------------------------------------

  onData(chunk: Uint8Array): void {
    if (this.closed) return;
    this.reads++;
    this.stats.bytesIn += chunk.length;
    try {
      this.incoming.push(chunk);
    } catch (err) {
      this.protocolFailure(err);
    }
  }

  /** `readsInPlace` carriers: where the next read goes (the rest of a frame), else the carrier's own buffer. */
  readBuffer(): Uint8Array | undefined {
    return this.incoming.readBuffer();
  }

  private protocolFailure(err: unknown): void {
    const e = err instanceof Error ? err : new Error(String(err));
    if (err instanceof ProtocolError) {
      this.log.warn({ peer: this.peer.name, code: err.code, offset: err.offset, err: err.message }, 'protocol error, closing connection');
    } else {
      this.log.error({ peer: this.peer.name, err: e }, 'failure handling a frame, closing connection');
    }
    this.link.abort(e);
    this.onClose(e);
  }

  /**
   * The nodedown reason (net_kernel:monitor_nodes' `nodedown_reason`) for a close that the node
   * did not order itself (a disconnect or a stop is reported by the node with its own reason):
   * `net_tick_timeout` after a silent ticktime, else `connection_closed` (the peer closed, the
   * socket failed, or the peer broke the protocol).
   */
  private downReason: Atom = CONNECTION_CLOSED;

  onDrain(): void {
    // The carrier holds nothing any more: the buffers of messages written out completely before
    // now are free, and the encoder may reuse one (pump() below may finish more: next time).
    const done = this.lanes.finished;
    if (done.length > 0) {
      for (const b of done) this.enc.recycle(b);
      done.length = 0;
    }
    this.canWrite = true;
    this.backlog = this.link.queuedBytes ?? 0;
    this.pump();
  }

  onClose(err?: Error, reason?: string): void {
    if (this.closed) return;
    this.closed = true;
    this.lanes.clear();
    if (this.tickTimer !== undefined) clearInterval(this.tickTimer);
    this.tickTimer = undefined;
    this.wakeDrained();
    if (err) this.log.info({ peer: this.peer.name, err: err.message }, 'connection lost');
    void reason;
    this.router.nodeDown(this.peer, this.downReason, this);
  }

  // ---- ticks -------------------------------------------------------------------------------

  /** Every ticktime/4: send a tick if we wrote nothing; declare the peer down after 4 silent periods. */
  private tick(): void {
    if (this.closed) return;
    if (this.writes === this.lastWrites && this.enc.length === 0) {
      this.link.write(TICK);
      this.writes++;
    }
    this.lastWrites = this.writes;
    if (this.reads === this.lastReads) {
      if (++this.silentTicks >= 4) {
        this.log.warn({ peer: this.peer.name }, 'net_tick_timeout: peer silent, closing connection');
        this.downReason = NET_TICK_TIMEOUT;
        this.link.abort(new Error('net_tick_timeout'));
        this.onClose(new Error('net_tick_timeout'));
        return;
      }
    } else {
      this.silentTicks = 0;
    }
    this.lastReads = this.reads;
  }
}

/** The lane of the process an operation comes from (messages without a sender share one). */
function senderOf(op: DistOp): string {
  return 'from' in op && op.from !== undefined && !(op.from instanceof Atom) ? pidKey(op.from) : '';
}
