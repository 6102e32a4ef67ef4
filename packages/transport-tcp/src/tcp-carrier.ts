import type { Socket } from 'node:net';
import type { Carrier, CarrierReceiver } from '@courier/core';

/**
 * A Carrier over a node:net Socket (or a tls.TLSSocket, which is one). Data that arrives while no
 * receiver is set is kept and handed to the next receiver in order; onClose fires exactly once.
 */
export class TcpCarrier implements Carrier {
  readonly remote: string;
  private receiver: CarrierReceiver | undefined;
  private early: Uint8Array[] = [];
  private closed = false;
  private ending = false;
  private error: Error | undefined;

  constructor(
    readonly socket: Socket,
    readonly kind = 'tcp',
  ) {
    socket.setNoDelay(true);
    this.remote = `${socket.remoteAddress}:${socket.remotePort}`;
    socket.on('data', (c: Buffer) => {
      if (this.receiver !== undefined) this.receiver.onData(c);
      else this.early.push(c);
    });
    socket.on('drain', () => this.receiver?.onDrain());
    socket.on('error', (err) => {
      this.error = err;
    });
    socket.on('close', () => {
      if (this.closed) return;
      this.closed = true;
      this.receiver?.onClose(this.error);
    });
  }

  write(chunk: Uint8Array): boolean {
    if (this.closed || this.ending) return false;
    return this.socket.write(chunk);
  }

  writev(chunks: readonly Uint8Array[]): boolean {
    this.socket.cork();
    let ok = true;
    for (const c of chunks) ok = this.write(c);
    this.socket.uncork();
    return ok;
  }

  setReceiver(r: CarrierReceiver): void {
    this.receiver = r;
    if (this.early.length > 0) {
      const early = this.early;
      this.early = [];
      for (const c of early) r.onData(c);
    }
    if (this.closed) r.onClose(this.error);
  }

  pause(): void {
    this.socket.pause();
  }
  resume(): void {
    this.socket.resume();
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
