import type { Duplex } from 'node:stream';
import { StreamCarrier } from '@courier/stream';

/**
 * A Carrier over one SSH channel (an ssh2 Channel, client or server side). Flow control is the
 * channel's: `write` returns false once the peer's window is used up and the stream's buffer is
 * full; a paused carrier stops reading, so ssh2 stops adjusting our window and the peer stalls.
 * A graceful close sends EOF after the queued bytes and then closes the channel; a channel the
 * peer ends is ended here too, so that both ends see onClose exactly once.
 */
export class SshChannelCarrier extends StreamCarrier {
  /**
   * Called when the peer sends EOF, instead of ending our side at once: a server that still owes
   * answers (`ssh -s … < requests`) finishes them, then calls `close()`.
   */
  onPeerEof: (() => void) | undefined;

  constructor(
    readonly channel: Duplex & {
      /** Closes the SSH channel (ssh2 channels have it). */
      close?(): void;
    },
    remote: string,
  ) {
    super(channel, remote);
    // The peer sent EOF: nothing more will come, so finish our side too (after queued bytes).
    channel.on('end', () => {
      if (this.onPeerEof !== undefined && !this.ending) this.onPeerEof();
      else if (!this.ending) {
        this.ending = true;
        channel.end();
      }
    });
    channel.on('close', () => this.closedNow());
  }

  /** Writes several chunks; false under backpressure, as `write`. */
  writev(chunks: readonly Uint8Array[]): boolean {
    if (chunks.length === 1) return this.write(chunks[0] as Uint8Array);
    return this.write(Buffer.concat(chunks));
  }

  /**
   * Graceful close. `exitStatus` (server side of a session channel): send it first, so that an
   * OpenSSH client running `ssh -s` exits with it (without one it exits 255).
   */
  close(exitStatus?: number): void {
    if (this.ending || this.closed) return;
    this.ending = true;
    const ch = this.channel as { exit?(code: number): void; server?: boolean };
    if (exitStatus !== undefined && ch.server === true) ch.exit?.(exitStatus);
    this.channel.end();
    // The close event needs our side to read to the end: a paused carrier being closed drains.
    this.channel.resume();
    this.lingerThenAbort(5000);
  }

  abort(error?: Error): void {
    if (this.closed) return;
    if (error) this.error ??= error;
    this.ending = true;
    this.channel.close?.();
    this.channel.destroy();
    // ssh2 emits close once the peer confirms; a dead connection never will.
    setImmediate(() => this.closedNow());
  }
}
