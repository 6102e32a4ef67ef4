import type { Socket } from 'node:net';
import { MAX_PENDING_HANDSHAKES, MAX_PENDING_HANDSHAKES_PER_ADDRESS, type Logger } from '@courier/core';

interface Waiting {
  readonly socket: Socket;
  readonly address: string;
  readonly deadline: number;
  readonly timer: ReturnType<typeof setTimeout>;
}

/** Options of a WebSocket listener's upgrade gate: the set-up deadline and the caps of pending connections. */
export interface UpgradeGateOptions {
  /** From the TCP accept to the end of the Erlang handshake (net_setuptime). */
  readonly setupTimeMs: number;
  readonly maxPending?: number;
  readonly maxPendingPerAddress?: number;
  readonly log: Logger;
}

/**
 * The connections of a WebSocket listener before they are WebSockets (TCP accepted; TLS, the HTTP
 * request and the upgrade under way), bounded as the connection pipeline bounds handshakes once
 * they are: each must be upgraded within the set-up deadline, counted from the TCP accept, or it
 * is destroyed; past the pending-handshake caps (node-wide count, per remote address) the oldest
 * is destroyed to make room, so silent connections cannot pile up and a real peer still gets in.
 * `upgraded` hands the time left to the Erlang handshake: the whole set-up stays within one
 * deadline.
 *
 * Entries are keyed by the remote endpoint (`address:port`), which the raw socket and the TLS
 * socket over it share.
 */
export class UpgradeGate {
  private readonly waiting = new Map<string, Waiting>();
  private readonly max: number;
  private readonly perAddress: number;

  constructor(private readonly o: UpgradeGateOptions) {
    this.max = o.maxPending ?? MAX_PENDING_HANDSHAKES;
    this.perAddress = o.maxPendingPerAddress ?? MAX_PENDING_HANDSHAKES_PER_ADDRESS;
  }

  /** Connections accepted and not yet upgraded. */
  get size(): number {
    return this.waiting.size;
  }

  /** A TCP connection was accepted (the listener's `connection` event). */
  admit(socket: Socket): void {
    const key = endpoint(socket);
    const address = socket.remoteAddress ?? '?';
    if (key === undefined) return void socket.destroy();
    let fromThere = 0;
    for (const w of this.waiting.values()) if (w.address === address) fromThere++;
    if (fromThere >= this.perAddress)
      this.evict((w) => w.address === address, `more than ${this.perAddress} WebSocket connections from ${address} not yet upgraded: the oldest is dropped`);
    else if (this.waiting.size >= this.max) this.evict(() => true, `more than ${this.max} WebSocket connections not yet upgraded: the oldest is dropped`);
    const timer = setTimeout(() => {
      if (this.waiting.get(key)?.socket === socket) this.waiting.delete(key);
      this.o.log.warn({ remote: key, code: 'TIMEOUT' }, 'connection closed: no WebSocket upgrade within the set-up time');
      // Destroyed without an error: a raw socket under TLS may have no 'error' listener.
      socket.destroy();
    }, this.o.setupTimeMs);
    timer.unref?.();
    this.waiting.set(key, { socket, address, deadline: Date.now() + this.o.setupTimeMs, timer });
    socket.once('close', () => {
      if (this.waiting.get(key)?.socket === socket) this.forget(key);
    });
  }

  /**
   * `socket` (the raw one, or the TLS socket over it) became a WebSocket: it leaves the gate.
   * Returns the ms left of its set-up deadline (at least 1), or undefined when the gate had
   * already dropped it.
   */
  upgraded(socket: Socket): number | undefined {
    const key = endpoint(socket);
    const w = key === undefined ? undefined : this.waiting.get(key);
    if (w === undefined || key === undefined) return undefined;
    this.forget(key);
    return Math.max(1, w.deadline - Date.now());
  }

  /** Destroy every connection still waiting (the listener stops). */
  closeAll(): void {
    for (const [key, w] of this.waiting) {
      this.forget(key);
      w.socket.destroy();
    }
  }

  private forget(key: string): void {
    const w = this.waiting.get(key);
    if (w === undefined) return;
    clearTimeout(w.timer);
    this.waiting.delete(key);
  }

  private evict(match: (w: Waiting) => boolean, why: string): void {
    for (const [key, w] of this.waiting) {
      if (!match(w)) continue;
      this.forget(key);
      this.o.log.warn({ remote: key, code: 'PENDING_LIMIT' }, why);
      w.socket.destroy();
      return;
    }
  }
}

function endpoint(socket: Socket): string | undefined {
  const { remoteAddress, remotePort } = socket;
  return remoteAddress === undefined || remotePort === undefined ? undefined : `${remoteAddress}:${remotePort}`;
}
