import { HandshakeError } from '@courier/core';

const LF = 0x0a;
const CR = 0x0d;
/** Perl's handshake `rbuf_max` (Transport.pm:196): a longer line kills the connection. */
export const MAX_HANDSHAKE_LINE = 4096;

/**
 * Splits handshake bytes into LF-terminated lines (a CR before the LF is dropped, as Perl's
 * `push_read line` does). A line longer than the limit fails the handshake; whatever follows the
 * last line taken stays here as the session's first bytes.
 */
export class LineReader {
  private buf: Buffer = Buffer.alloc(0);

  constructor(readonly maxLine = MAX_HANDSHAKE_LINE) {}

  /** Feeds handshake bytes; whole lines are then taken out one by one. */
  push(chunk: Uint8Array): void {
    this.buf = this.buf.length === 0 ? Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length) : Buffer.concat([this.buf, chunk]);
  }

  /** The next whole line without its terminator, or undefined until more bytes arrive. */
  next(): string | undefined {
    const i = this.buf.indexOf(LF);
    if (i < 0) {
      if (this.buf.length > this.maxLine) throw this.tooLong();
      return undefined;
    }
    if (i > this.maxLine) throw this.tooLong();
    const end = i > 0 && this.buf[i - 1] === CR ? i - 1 : i;
    const line = this.buf.toString('utf8', 0, end);
    this.buf = this.buf.subarray(i + 1);
    return line;
  }

  /** The bytes after the last line taken. */
  rest(): Uint8Array {
    const r = this.buf;
    this.buf = Buffer.alloc(0);
    return r;
  }

  private tooLong(): HandshakeError {
    return new HandshakeError('BAD_MESSAGE', `a handshake line is longer than ${this.maxLine} bytes`);
  }
}
