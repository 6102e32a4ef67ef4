import { CarrierError, ProtocolError, type Carrier, type CarrierReceiver } from '@courier/core';
import { MAX_WS_MESSAGE } from './subprotocol.js';

/**
 * What the carrier needs of a WebSocket: the WHATWG API, which the browser's WebSocket and
 * `ws`'s both have. `pause`/`resume` (ws) stop reading the socket; without them (browser) the
 * carrier holds messages that arrive while paused.
 */
export interface WebSocketLike {
  binaryType: string;
  readonly bufferedAmount: number;
  readonly readyState: number;
  /** Sends one binary message. */
  send(data: Uint8Array): void;
  /** Closes the WebSocket. */
  close(code?: number, reason?: string): void;
  /** Called with each message received. */
  onmessage: ((ev: { data: unknown }) => void) | null;
  /** Called once when the WebSocket has closed. */
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  /** Called on an error (a close follows). */
  onerror: ((ev: unknown) => void) | null;
  /** Stops reading the socket (`ws` only; a browser's WebSocket cannot). */
  pause?(): void;
  /** Reads the socket again after `pause`. */
  resume?(): void;
  /** Destroys the socket without a closing handshake (`ws` only). */
  terminate?(): void;
}

const OPEN = 1;
const DEFAULT_HIGH_WATER_MARK = 1024 * 1024;
/** How often a carrier over its mark looks whether the WebSocket has written its queue. */
const DRAIN_POLL_MS = 5;

/** Options of a WebSocket carrier: its backpressure threshold and the largest message. */
export interface WsCarrierOptions {
  /** Queued output past which `write` returns false. Default 1 MiB. */
  readonly highWaterMark?: number;
  /** Largest WebSocket message sent or accepted. Default MAX_WS_MESSAGE (64 KiB); both ends must agree. */
  readonly maxMessage?: number;
}

/**
 * A Carrier over one WebSocket. The messages carry a byte stream: a `write` goes out as binary
 * messages of at most `maxMessage` bytes (a larger write is split, small chunks of one `writev`
 * share a message), and each message received is one chunk; a message over `maxMessage` (which
 * `ws` refuses before buffering it, and a browser cannot) closes the connection. Backpressure
 * from `bufferedAmount`: past the mark `write` returns false and `onDrain` follows once it is back
 * under half the mark. onClose fires exactly once.
 */
export class WsCarrier implements Carrier {
  private receiver: CarrierReceiver | undefined;
  private held: Uint8Array[] = [];
  private paused = false;
  private closed = false;
  private ending = false;
  private error: Error | undefined;
  private drainTimer: ReturnType<typeof setTimeout> | undefined;
  private closeTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly hwm: number;
  private readonly maxMessage: number;

  constructor(
    private readonly ws: WebSocketLike,
    readonly remote: string,
    opts: WsCarrierOptions = {},
  ) {
    this.hwm = opts.highWaterMark ?? DEFAULT_HIGH_WATER_MARK;
    this.maxMessage = opts.maxMessage ?? MAX_WS_MESSAGE;
    ws.binaryType = ws.binaryType === 'nodebuffer' ? 'nodebuffer' : 'arraybuffer';
    ws.onmessage = (ev) => this.onMessage(ev.data);
    ws.onerror = (ev) => {
      const e = (ev as { error?: unknown }).error;
      // `ws` reports a peer's protocol violation (bad frame, message too big, …) here, after queueing
      // its close frame: fail the connection at once (RFC 6455 7.1.7) rather than read on until the
      // peer's close frame, whatever it streams meanwhile. A browser reports its own failures here.
      const err = e instanceof Error ? new ProtocolError('WS_PROTOCOL', `${remote} broke the WebSocket protocol: ${e.message}`, -1, { cause: e }) : undefined;
      this.abort(err ?? new CarrierError('WS_ERROR', `WebSocket error with ${remote}`));
    };
    ws.onclose = (ev) => {
      if (ev.code !== 1000 && ev.code !== 1005 && this.error === undefined && !this.ending) {
        this.error = new CarrierError('CLOSED', `WebSocket with ${remote} closed (${ev.code}${ev.reason ? ` ${ev.reason}` : ''})`);
      }
      this.finish();
    };
  }

  private onMessage(data: unknown): void {
    let chunk: Uint8Array;
    if (data instanceof Uint8Array) chunk = data;
    else if (data instanceof ArrayBuffer) chunk = new Uint8Array(data);
    else {
      // A text message is not ours: the peer speaks another protocol.
      this.abort(new CarrierError('PROTOCOL', `${this.remote} sent a text message; the Courier WebSocket carrier carries binary messages only`));
      return;
    }
    if (chunk.length > this.maxMessage) {
      this.abort(
        new ProtocolError('WS_MESSAGE_TOO_BIG', `${this.remote} sent a WebSocket message of ${chunk.length} bytes; the Courier subprotocol allows ${this.maxMessage}`, -1),
      );
      return;
    }
    if (chunk.length === 0) return;
    if (this.receiver === undefined || this.paused) this.held.push(chunk);
    else this.receiver.onData(chunk);
  }

  private finish(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.drainTimer);
    // A finished close must not keep this carrier (and what it reached) alive until the timer.
    clearTimeout(this.closeTimer);
    // Messages held while paused are dropped with the connection, as a socket's buffer would be.
    this.receiver?.onClose(this.error);
  }

  write(chunk: Uint8Array): boolean {
    if (this.closed || this.ending || this.ws.readyState !== OPEN) return false;
    const max = this.maxMessage;
    for (let at = 0; at < chunk.length; at += max) this.ws.send(at === 0 && chunk.length <= max ? chunk : chunk.subarray(at, at + max));
    return this.underMark();
  }

  /** The chunks as messages of at most `maxMessage` bytes: small ones share a message, large ones are cut (as views). */
  writev(chunks: readonly Uint8Array[]): boolean {
    if (chunks.length === 1) return this.write(chunks[0] as Uint8Array);
    if (this.closed || this.ending || this.ws.readyState !== OPEN) return false;
    const max = this.maxMessage;
    let parts: Uint8Array[] = [];
    let size = 0;
    const flush = (): void => {
      if (size > 0) this.ws.send(parts.length === 1 ? (parts[0] as Uint8Array) : concat(parts, size));
      parts = [];
      size = 0;
    };
    for (const c of chunks) {
      for (let at = 0; at < c.length;) {
        const n = Math.min(max - size, c.length - at);
        parts.push(at === 0 && n === c.length ? c : c.subarray(at, at + n));
        size += n;
        at += n;
        if (size === max) flush();
      }
    }
    flush();
    return this.underMark();
  }

  private underMark(): boolean {
    if (this.ws.bufferedAmount <= this.hwm) return true;
    this.watchDrain();
    return false;
  }

  private watchDrain(): void {
    if (this.drainTimer !== undefined) return;
    const check = (): void => {
      this.drainTimer = undefined;
      if (this.closed) return;
      if (this.ws.bufferedAmount > this.hwm / 2) {
        this.drainTimer = setTimeout(check, DRAIN_POLL_MS);
        return;
      }
      this.receiver?.onDrain();
    };
    this.drainTimer = setTimeout(check, DRAIN_POLL_MS);
  }

  setReceiver(r: CarrierReceiver): void {
    this.receiver = r;
    if (!this.paused) this.flushHeld();
    if (this.closed) r.onClose(this.error);
  }

  private flushHeld(): void {
    while (this.held.length > 0 && !this.paused && this.receiver !== undefined) {
      const c = this.held.shift() as Uint8Array;
      this.receiver.onData(c);
    }
  }

  pause(): void {
    this.paused = true;
    this.ws.pause?.();
  }

  resume(): void {
    this.paused = false;
    this.ws.resume?.();
    this.flushHeld();
  }

  close(): void {
    if (this.ending || this.closed) return;
    this.ending = true;
    // The closing handshake needs the peer's close frame read: a paused WebSocket would never
    // finish it. What arrives meanwhile stays held while this carrier is paused.
    this.ws.resume?.();
    this.ws.close(1000, 'close');
    // A peer that never answers the close must not hold the connection forever.
    this.closeTimer = setTimeout(() => this.abort(), 5000);
    (this.closeTimer as { unref?: () => void }).unref?.();
  }

  abort(error?: Error): void {
    if (this.closed) return;
    if (error) this.error = error;
    this.ending = true;
    if (this.ws.terminate) this.ws.terminate();
    else this.ws.close(1000, 'abort');
    // The browser reports the close asynchronously; a terminated ws does too. Report it now.
    this.finish();
  }
}

function concat(parts: readonly Uint8Array[], size: number): Uint8Array {
  const all = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.length;
  }
  return all;
}
