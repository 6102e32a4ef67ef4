import { CarrierError, type Carrier, type CarrierReceiver } from '@courier/core';

/**
 * What the carrier needs of a WebSocket: the WHATWG API, which the browser's WebSocket and
 * `ws`'s both have. `pause`/`resume` (ws) stop reading the socket; without them (browser) the
 * carrier holds messages that arrive while paused.
 */
export interface WebSocketLike {
  binaryType: string;
  readonly bufferedAmount: number;
  readonly readyState: number;
  send(data: Uint8Array): void;
  close(code?: number, reason?: string): void;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  pause?(): void;
  resume?(): void;
  terminate?(): void;
}

const OPEN = 1;
const DEFAULT_HIGH_WATER_MARK = 1024 * 1024;
/** How often a carrier over its mark looks whether the WebSocket has written its queue. */
const DRAIN_POLL_MS = 5;

/**
 * A Carrier over one WebSocket: each `write` is one binary message, each message received is one
 * chunk. Backpressure from `bufferedAmount`: past the mark `write` returns false and `onDrain`
 * follows once it is back under half the mark. onClose fires exactly once.
 */
export class WsCarrier implements Carrier {
  private receiver: CarrierReceiver | undefined;
  private held: Uint8Array[] = [];
  private paused = false;
  private closed = false;
  private ending = false;
  private error: Error | undefined;
  private drainTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly hwm: number;

  constructor(
    private readonly ws: WebSocketLike,
    readonly remote: string,
    opts: { readonly highWaterMark?: number } = {},
  ) {
    this.hwm = opts.highWaterMark ?? DEFAULT_HIGH_WATER_MARK;
    ws.binaryType = ws.binaryType === 'nodebuffer' ? 'nodebuffer' : 'arraybuffer';
    ws.onmessage = (ev) => this.onMessage(ev.data);
    ws.onerror = (ev) => {
      const e = (ev as { error?: unknown }).error;
      this.error = e instanceof Error ? e : new CarrierError('WS_ERROR', `WebSocket error with ${remote}`);
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
    if (chunk.length === 0) return;
    if (this.receiver === undefined || this.paused) this.held.push(chunk);
    else this.receiver.onData(chunk);
  }

  private finish(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.drainTimer);
    // Messages held while paused are dropped with the connection, as a socket's buffer would be.
    this.receiver?.onClose(this.error);
  }

  write(chunk: Uint8Array): boolean {
    if (this.closed || this.ending || this.ws.readyState !== OPEN) return false;
    this.ws.send(chunk);
    if (this.ws.bufferedAmount <= this.hwm) return true;
    this.watchDrain();
    return false;
  }

  writev(chunks: readonly Uint8Array[]): boolean {
    if (chunks.length === 1) return this.write(chunks[0] as Uint8Array);
    let n = 0;
    for (const c of chunks) n += c.length;
    const all = new Uint8Array(n);
    let at = 0;
    for (const c of chunks) {
      all.set(c, at);
      at += c.length;
    }
    return this.write(all);
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
    const t = setTimeout(() => this.abort(), 5000);
    (t as { unref?: () => void }).unref?.();
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
