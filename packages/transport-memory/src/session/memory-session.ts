import { Encoder, EncodeError, ProtocolError, VERSION, atom, decodeTerm, type Atom, type Term } from '@courier/term';
import {
  ControlErrorCode,
  controlName,
  decodeControl,
  encodeControl,
  type Carrier,
  type ControlOptions,
  type DistOp,
  type HandshakeResult,
  type Logger,
  type Router,
  type Session,
} from '@courier/core';
import { MemoryFlag } from '../handshake/messages.js';
import type { Handover } from '@courier/core';
import { FrameParser } from './frame-parser.js';

export const DEFAULT_MAX_FRAME_BYTES = 64 * 1024 * 1024;
const TICK = new Uint8Array(4);
/** A peer silent for this many tick intervals is declared dead (net_ticktime semantics). */
const TICKS_TO_DEATH = 4;

export interface MemorySessionOptions {
  readonly carrier: Carrier;
  readonly handshake: HandshakeResult;
  readonly router: Router;
  /** The connection's logger (a child with the peer bound). */
  readonly log: Logger;
  /** Largest frame accepted; bigger ones close the connection. Default 64 MiB. */
  readonly maxFrameBytes?: number;
  /** Send a tick when nothing was written for this long; drop the peer after 4 silent intervals. Off when omitted. */
  readonly tickMs?: number;
  /** Called once when the session is closed, whoever closed it. */
  readonly onClosed?: (session: MemorySession) => void;
}

/**
 * A connection after the memory handshake: `<<Len:32, 131, Control/ETF, [131, Payload/ETF]>>`
 * frames (Len = 0 is a tick) carrying the Erlang control messages of `control.ts`. Frames sent
 * in one tick go out in one write; when the carrier says it is full, later frames wait here and
 * `send` reports busy until the carrier drains. A malformed frame is logged, the connection
 * closed, and the router told `nodeDown` once, as for any other end of the connection.
 */
export class MemorySession implements Session {
  readonly carrier = 'memory';
  readonly peer: Atom;
  readonly hidden: boolean;
  private readonly io: Carrier;
  private readonly router: Router;
  private readonly log: Logger;
  private readonly control: ControlOptions;
  private readonly parser: FrameParser;
  private readonly encoder = new Encoder();
  private readonly maxFrameBytes: number;
  private out: Uint8Array[] = [];
  private flushQueued = false;
  private congested = false;
  private started = false;
  private closed = false;
  private lastRead = Date.now();
  private lastWrite = Date.now();
  private ticker: ReturnType<typeof setInterval> | undefined;
  private readonly unknownOps = new Set<number>();

  constructor(private readonly opts: MemorySessionOptions) {
    const h = opts.handshake;
    this.peer = h.peer;
    this.hidden = h.hidden ?? false;
    this.io = opts.carrier;
    this.router = opts.router;
    this.log = opts.log;
    this.control = { payloadExits: (h.flags & MemoryFlag.EXIT_PAYLOAD) !== 0n, sendSender: (h.flags & MemoryFlag.SEND_SENDER) !== 0n };
    this.maxFrameBytes = opts.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
    this.parser = new FrameParser(this.maxFrameBytes);
  }

  /** Whether frames are waiting for the carrier to drain. */
  get busy(): boolean {
    return this.congested;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /**
   * Take the carrier over: the handshake's tail first, then what arrived meanwhile, then live
   * data. Call once the node knows this session (attached, or returned from connect).
   */
  start(handover?: Handover): void {
    if (this.started || this.closed) return;
    this.started = true;
    this.io.setReceiver({
      onData: (chunk) => this.receive(chunk),
      onDrain: () => this.drained(),
      onClose: (error) => this.carrierClosed(error),
    });
    this.receive(this.opts.handshake.tail);
    if (handover !== undefined) {
      for (const chunk of handover.chunks) if (!this.closed) this.receive(chunk);
      handover.chunks.length = 0;
      if (handover.closed !== undefined) {
        this.carrierClosed(handover.closed.error);
        return;
      }
    }
    if (this.closed) return;
    if (this.opts.tickMs !== undefined) {
      this.ticker = setInterval(() => this.tick(), this.opts.tickMs);
      this.ticker.unref?.();
    }
    this.io.resume();
  }

  send(op: DistOp): boolean {
    if (this.closed) return false;
    const m = encodeControl(op, this.control);
    const enc = this.encoder;
    enc.reset();
    enc.writeUint32(0);
    try {
      enc.writeVersion();
      enc.writeTerm(m.control);
      if (m.payload !== undefined) {
        enc.writeVersion();
        enc.writeTerm(m.payload);
      }
    } catch (e) {
      if (!(e instanceof EncodeError)) throw e;
      this.log.error({ err: e, op: op.op }, 'cannot encode an outgoing operation; dropped');
      return !this.congested;
    }
    enc.setUint32At(0, enc.length - 4);
    this.out.push(enc.take());
    if (!this.flushQueued && !this.congested) {
      this.flushQueued = true;
      queueMicrotask(() => this.flush());
    }
    return !this.congested;
  }

  close(reason = 'disconnect'): void {
    if (this.closed) return;
    // Graceful: frames already accepted go out even past the high-water mark.
    this.congested = false;
    this.flush();
    this.shutdown(atom(reason), false);
    this.io.close();
  }

  // ---- output ---------------------------------------------------------------------------

  private flush(): void {
    this.flushQueued = false;
    if (this.closed || this.congested || this.out.length === 0) return;
    const frames = this.out;
    this.out = [];
    let ok: boolean;
    if (frames.length === 1) ok = this.io.write(frames[0] as Uint8Array);
    else if (this.io.writev !== undefined) ok = this.io.writev(frames);
    else ok = this.io.write(Buffer.concat(frames));
    this.lastWrite = Date.now();
    if (!ok) this.congested = true;
  }

  private drained(): void {
    this.congested = false;
    this.flush();
  }

  // ---- input ----------------------------------------------------------------------------

  private receive(chunk: Uint8Array): void {
    if (this.closed || chunk.length === 0) return;
    this.lastRead = Date.now();
    this.parser.push(chunk);
    try {
      for (let f = this.parser.next(); f !== undefined; f = this.closed ? undefined : this.parser.next()) {
        if (f.length > 0) this.frame(f);
      }
    } catch (e) {
      if (!(e instanceof ProtocolError)) throw e;
      this.log.warn({ code: e.code, err: e.message }, 'bad frame from peer; closing');
      this.shutdown(atom('protocol_error'), true);
    }
  }

  /** `131, Control, [131, Payload]`; anything else is the peer's protocol error. */
  private frame(f: Uint8Array): void {
    const limits = { maxTermBytes: this.maxFrameBytes };
    if (f[0] !== VERSION) throw new ProtocolError('BAD_FRAME', `a frame starts with ${f[0]}, not the version byte ${VERSION}`, 0);
    const c = decodeTerm(f, 1, limits);
    let payload: Term | undefined;
    if (c.end < f.length) {
      if (f[c.end] !== VERSION) throw new ProtocolError('BAD_FRAME', `the payload starts with ${f[c.end]}, not ${VERSION}`, c.end);
      const p = decodeTerm(f, c.end + 1, limits);
      if (p.end !== f.length) throw new ProtocolError('BAD_FRAME', `${f.length - p.end} bytes follow the payload`, p.end);
      payload = p.term;
    }
    let op: DistOp;
    try {
      op = decodeControl(c.term, payload);
    } catch (e) {
      if (e instanceof ProtocolError && e.code === ControlErrorCode.UNKNOWN_CONTROL) {
        const n = (e as ProtocolError & { op: number }).op;
        // Once per operation number and connection: a peer may send many.
        if (!this.unknownOps.has(n)) this.log.warn({ op: controlName(n) }, 'unknown control message ignored');
        this.unknownOps.add(n);
        return;
      }
      throw e;
    }
    try {
      this.router.route(op, this.peer);
    } catch (e) {
      this.log.error({ err: e, op: op.op }, 'routing an incoming operation failed');
    }
  }

  private tick(): void {
    if (this.closed) return;
    const now = Date.now();
    const every = this.opts.tickMs as number;
    if (now - this.lastRead > TICKS_TO_DEATH * every) {
      this.log.warn({ silentMs: now - this.lastRead }, 'peer not responding; closing');
      this.shutdown(atom('net_tick_timeout'), true);
      return;
    }
    if (now - this.lastWrite >= every && !this.congested && this.out.length === 0) {
      this.io.write(TICK);
      this.lastWrite = now;
    }
  }

  // ---- end ------------------------------------------------------------------------------

  private carrierClosed(error: Error | undefined): void {
    if (this.closed) return;
    if (error !== undefined) this.log.debug({ err: error.message }, 'carrier closed with an error');
    this.shutdown(atom('connection_closed'), false);
  }

  /** Closed for good: stop the ticker, abort the carrier when asked, tell the router once. */
  private shutdown(reason: Atom, abort: boolean): void {
    if (this.closed) return;
    this.closed = true;
    this.out = [];
    if (this.ticker !== undefined) clearInterval(this.ticker);
    if (abort) this.io.abort();
    this.opts.onClosed?.(this);
    this.router.nodeDown(this.peer, reason, this);
  }
}
