import type { Atom } from '@courier/term';

/**
 * A carrier moves bytes and nothing else: a TCP socket, a TLS socket, an SSH channel, a WebSocket,
 * or an in-memory pipe. It knows nothing of terms, nodes or handshakes.
 */
export interface CarrierReceiver {
  /**
   * Bytes arrived. The chunk is the receiver's to keep (the carrier does not reuse it), except
   * from a carrier that {@link Carrier.readsInPlace | reads in place} to a receiver with
   * {@link CarrierReceiver.readBuffer}: then it is valid only until onData returns.
   */
  onData(chunk: Uint8Array): void;
  /**
   * Optional, for carriers that {@link Carrier.readsInPlace | read in place}: asked before each
   * read where its bytes should go — a buffer of the receiver's (the rest of a frame it is
   * assembling: the bytes land there, no copy), or undefined for the carrier's own buffer, which
   * it reuses. A receiver that has this method takes every chunk as valid only during onData.
   */
  readBuffer?(): Uint8Array | undefined;
  /** `write` returned false earlier and the carrier can take more now. */
  onDrain(): void;
  /** The carrier closed, by either side; `error` set if it failed. Called exactly once. */
  onClose(error?: Error): void;
}

/**
 * Moves bytes between two nodes (a TCP or TLS socket, an SSH channel, a WebSocket, memory), knowing nothing
 * of the protocol on top: `write` returns false under backpressure; a {@link CarrierReceiver} gets data,
 * drain and close.
 */
export interface Carrier {
  /**
   * Queue bytes; false means "buffer full, wait for onDrain" (the bytes are still queued), or
   * that the carrier is closing. The chunk belongs to the carrier from then on: the caller must
   * not modify it (sockets write from it later, without a copy).
   */
  write(chunk: Uint8Array): boolean;
  /** Queue several chunks as one write (writev/cork where the bearer has it). */
  writev?(chunks: readonly Uint8Array[]): boolean;
  /** Attach the receiver; data that arrived before is delivered now, in order. */
  setReceiver(receiver: CarrierReceiver): void;
  /** Stop delivering onData until resume (backpressure toward the peer). */
  pause(): void;
  /** Deliver `onData` again after {@link Carrier.pause}. */
  resume(): void;
  /** Graceful close after queued bytes are written. */
  close(): void;
  /** Immediate close; queued bytes are dropped. */
  abort(error?: Error): void;
  /**
   * The carrier reads into buffers it reuses or the receiver gives it ({@link CarrierReceiver.readBuffer}),
   * not a fresh buffer per read: a receiver with readBuffer gets chunks valid only during onData;
   * one without gets copies it may keep. Plain TCP does (docs/performance.md).
   */
  readonly readsInPlace?: boolean;
  /** A short human description of the far end, for logs (`127.0.0.1:4370`). */
  readonly remote: string;
  /**
   * Bytes accepted by `write` and not yet handed to the bearer (a socket's `writableLength`).
   * Optional: a session without it counts the bytes written since the last `true` or onDrain.
   */
  readonly queuedBytes?: number;
}

/** Opens carriers toward an address. Each carrier package provides one; listening is the transport's. */
export interface CarrierFactory<Address> {
  /** `peer`: the node expected there, when known (TLS checks its certificate against it). */
  dial(address: Address, peer: Atom | undefined, signal: AbortSignal): Promise<Carrier>;
}
