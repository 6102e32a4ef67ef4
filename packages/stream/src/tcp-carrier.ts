import type { Socket } from 'node:net';
import { StreamCarrier } from './stream-carrier.js';
import type { InPlaceReads } from './in-place-reads.js';

/**
 * A Carrier over a node:net Socket (or a tls.TLSSocket, which is one). Given the {@link InPlaceReads}
 * the socket was made with, it reads in place (`readsInPlace`): a receiver with `readBuffer` gets
 * each read as a view valid during onData, into the buffer it asked for; a receiver without gets a
 * copy it may keep (the handshake's, say).
 */
export class TcpCarrier extends StreamCarrier {
  readonly readsInPlace: boolean;

  constructor(
    readonly socket: Socket,
    readonly kind = 'tcp',
    reads?: InPlaceReads,
  ) {
    super(socket, `${socket.remoteAddress}:${socket.remotePort}`);
    socket.setNoDelay(true);
    socket.on('close', () => this.closedNow());
    this.readsInPlace = reads !== undefined;
    reads?.attach(
      (chunk) => {
        const r = this.current;
        if (r?.readBuffer !== undefined) r.onData(chunk);
        else this.deliver(Buffer.from(chunk));
      },
      () => this.current?.readBuffer?.(),
    );
  }

  /** Writes several chunks corked into one segment; false under backpressure, as `write`. */
  writev(chunks: readonly Uint8Array[]): boolean {
    this.socket.cork();
    let ok = true;
    for (const c of chunks) ok = this.write(c);
    this.socket.uncork();
    return ok;
  }

  close(): void {
    if (this.ending || this.closed) return;
    this.ending = true;
    this.socket.end();
    this.lingerThenAbort(5000);
  }

  abort(error?: Error): void {
    if (error) this.error = error;
    this.socket.destroy();
  }
}
