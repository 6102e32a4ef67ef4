import { connect, type Socket } from 'node:net';
import { binaryStream, parseFrames, upgradeRequest, type ServerFrame } from './ws-frames.js';

/**
 * A raw TCP client speaking (or mis-speaking) WebSocket to the echo node's `--ws` listener: what
 * it writes is exactly the bytes a case gives, and what the node answers is kept as the HTTP
 * response head and the frames after it.
 */
export class RawWs {
  private buf = Buffer.alloc(0);
  private headEnd = -1;
  private parsed = 0;
  private readonly framesSeen: ServerFrame[] = [];
  private waiters: Array<() => void> = [];
  private closedAt: number | undefined;
  refused = false;
  /** When the TCP connection was made (ms since the epoch). */
  openedAt = 0;
  /** When the node's HTTP answer arrived: the node had accepted the connection by then. */
  answeredAt: number | undefined;

  private constructor(private readonly s: Socket) {
    s.on('data', (c: Buffer) => {
      this.buf = Buffer.concat([this.buf, c]);
      if (this.headEnd < 0) {
        const i = this.buf.indexOf('\r\n\r\n');
        if (i >= 0) {
          this.headEnd = i + 4;
          this.answeredAt = Date.now();
        }
      }
      this.wake();
    });
    s.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ECONNREFUSED') this.refused = true;
    });
    s.on('close', () => {
      this.closedAt = Date.now();
      this.wake();
    });
  }

  /** Connect to 127.0.0.1:`port` (from `localAddress`, another loopback address, when given). */
  static open(port: number, localAddress?: string): Promise<RawWs> {
    return new Promise((resolve) => {
      const s = connect({ port, host: '127.0.0.1', noDelay: true, ...(localAddress ? { localAddress } : {}) });
      const raw = new RawWs(s);
      s.once('connect', () => {
        raw.openedAt = Date.now();
        resolve(raw);
      });
      s.once('close', () => resolve(raw));
    });
  }

  get isClosed(): boolean {
    return this.closedAt !== undefined;
  }

  /** The node's HTTP status line's code, once its response head arrived. */
  get status(): number | undefined {
    if (this.headEnd < 0) return undefined;
    const m = /^HTTP\/1\.[01] (\d{3})/.exec(this.buf.subarray(0, this.headEnd).toString('latin1'));
    return m ? Number(m[1]) : undefined;
  }

  get head(): string {
    return this.headEnd < 0 ? this.buf.toString('latin1') : this.buf.subarray(0, this.headEnd).toString('latin1');
  }

  /** The frames the node sent after its 101. */
  get frames(): ServerFrame[] {
    if (this.headEnd >= 0 && this.status === 101) {
      const { frames, rest } = parseFrames(this.buf.subarray(this.headEnd + this.parsed));
      this.framesSeen.push(...frames);
      this.parsed = this.buf.length - this.headEnd - rest.length;
    }
    return this.framesSeen;
  }

  /** The node's byte stream: its binary messages joined. */
  get stream(): Buffer {
    return binaryStream(this.frames);
  }

  write(bytes: Uint8Array): void {
    if (!this.s.destroyed && bytes.length > 0) this.s.write(bytes);
  }

  /** Write in pieces of `size` bytes, one per event-loop turn (a slow writer), while the socket lasts. */
  async writePieces(bytes: Uint8Array, size: number): Promise<void> {
    for (let i = 0; i < bytes.length && !this.s.destroyed; i += size) {
      this.s.write(bytes.subarray(i, i + size));
      await new Promise((r) => setImmediate(r));
    }
  }

  /** Resolves once `ok()` holds or the socket closed, or after `ms`; answers whether `ok()` held. */
  async until(ok: () => boolean, ms: number): Promise<boolean> {
    const end = Date.now() + ms;
    while (!ok() && !this.isClosed && Date.now() < end) {
      await new Promise<void>((r) => {
        const t = setTimeout(r, Math.max(1, end - Date.now()));
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
    return ok();
  }

  /** Send FIN (unless `keepOpen`), then wait up to `ms` for the node to close; 'us' if it did not. */
  async finish(ms: number, keepOpen = false): Promise<'node' | 'us'> {
    if (!keepOpen && !this.s.destroyed) this.s.end();
    if (await this.until(() => false, ms)) return 'node';
    if (this.isClosed) return 'node';
    this.s.destroy();
    return 'us';
  }

  /** When the node closed the connection (ms since the epoch), if it did. */
  get closedTime(): number | undefined {
    return this.closedAt;
  }

  destroy(): void {
    this.s.destroy();
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }
}

export interface WsExchangeOptions {
  /** The HTTP request (default: a valid upgrade request for /courier). */
  readonly request?: Uint8Array;
  /** Written once the node answered 101 (nothing is written after any other answer). */
  readonly after?: Uint8Array;
  /** Write `after` in pieces of this many bytes, one per event-loop turn. */
  readonly pieces?: number;
  /** How long to wait for the node's answer head and, after our FIN, for its close. Default 1000 ms. */
  readonly closeWaitMs?: number;
  readonly keepOpen?: boolean;
  readonly localAddress?: string;
}

export interface WsExchange {
  readonly status: number | undefined;
  readonly head: string;
  readonly frames: ServerFrame[];
  readonly stream: Buffer;
  readonly closedBy: 'node' | 'us';
  readonly refused: boolean;
  readonly ms: number;
}

/** One hostile WebSocket connection: the request, then (after a 101) the case's bytes, FIN, and the node's close. */
export async function wsExchange(port: number, o: WsExchangeOptions = {}): Promise<WsExchange> {
  const t0 = Date.now();
  const ws = await RawWs.open(port, o.localAddress);
  const wait = o.closeWaitMs ?? 1000;
  ws.write(o.request ?? upgradeRequest());
  await ws.until(() => ws.status !== undefined, wait);
  if (ws.status === 101 && o.after !== undefined) {
    if (o.pieces !== undefined) await ws.writePieces(o.after, o.pieces);
    else ws.write(o.after);
  }
  const closedBy = await ws.finish(wait, o.keepOpen);
  return { status: ws.status, head: ws.head, frames: ws.frames, stream: ws.stream, closedBy, refused: ws.refused, ms: Date.now() - t0 };
}
