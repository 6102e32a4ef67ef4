import type { Socket } from 'node:net';
import { StreamCarrier } from './stream-carrier.js';

/** A Carrier over a node:net Socket (or a tls.TLSSocket, which is one). */
export class TcpCarrier extends StreamCarrier {
  constructor(
    readonly socket: Socket,
    readonly kind = 'tcp',
  ) {
    super(socket, `${socket.remoteAddress}:${socket.remotePort}`);
    socket.setNoDelay(true);
    socket.on('close', () => this.closedNow());
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
    // A peer that never closes its side must not hold the socket forever.
    setTimeout(() => this.socket.destroy(), 5000).unref();
  }

  abort(error?: Error): void {
    if (error) this.error = error;
    this.socket.destroy();
  }
}
