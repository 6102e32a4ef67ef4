import { connect, type Socket } from 'node:net';

/**
 * One hostile connection: connect, write the bytes (whole, or in small pieces), send FIN, and
 * wait for the node to close its side. What came back and who closed are kept for the report.
 */
export interface Exchange {
  /** Bytes the node wrote back. */
  readonly answer: Buffer;
  /** 'node': the node closed the connection; 'us': it was still open after `closeWaitMs`. */
  readonly closedBy: 'node' | 'us';
  /** The connection was refused: nothing listens there any more. */
  readonly refused: boolean;
  readonly ms: number;
}

export interface ExchangeOptions {
  /** Write in pieces of this many bytes, one per event-loop turn (a slow writer). */
  readonly pieces?: number;
  /** How long to wait for the node to close after our FIN. Default 1000 ms. */
  readonly closeWaitMs?: number;
  /** Do not send FIN: leave the connection open until the node closes it (or the wait ends). */
  readonly keepOpen?: boolean;
  /**
   * A dialogue before the bytes: called with what the node sent so far, on each arrival, until it
   * returns bytes to write (then `bytes` follow). For input that depends on the node's answer.
   */
  readonly first?: (answer: Buffer) => Uint8Array | undefined;
  /** Open the connection another way (e.g. `tls.connect`); `answer` is then what that socket reads. */
  readonly connect?: (port: number) => Socket;
}

export function exchange(port: number, bytes: Uint8Array, o: ExchangeOptions = {}): Promise<Exchange> {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const s: Socket = o.connect?.(port) ?? connect({ port, host: '127.0.0.1', noDelay: true });
    const chunks: Buffer[] = [];
    let refused = false;
    let timer: NodeJS.Timeout | undefined;
    const giveUp = (): void => {
      timer = setTimeout(() => {
        closedBy = 'us';
        s.destroy();
      }, o.closeWaitMs ?? 1000);
    };
    let closedBy: 'node' | 'us' = 'node';
    s.on('data', (c: Buffer) => chunks.push(c));
    s.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ECONNREFUSED') refused = true;
    });
    s.on('close', () => {
      clearTimeout(timer);
      resolve({ answer: Buffer.concat(chunks), closedBy, refused, ms: Date.now() - t0 });
    });
    const answered = (): Promise<void> =>
      new Promise((go) => {
        const look = (): void => {
          const b = o.first?.(Buffer.concat(chunks));
          if (b === undefined) return;
          s.off('data', look);
          s.write(b);
          go();
        };
        s.on('data', look);
        s.once('close', () => go());
      });
    s.on('connect', () => {
      void (async () => {
        if (o.first !== undefined) await answered();
        const step = o.pieces ?? bytes.length;
        for (let i = 0; i < bytes.length && !s.destroyed; i += Math.max(1, step)) {
          s.write(bytes.subarray(i, i + Math.max(1, step)));
          if (o.pieces !== undefined) await new Promise((r) => setImmediate(r));
        }
        if (!o.keepOpen && !s.destroyed) s.end();
        giveUp();
      })();
    });
  });
}

/** EPMD NAMES_REQ (`<<1:16, 110>>`): the reply's text after its 4-byte port, or null if none came. */
export async function epmdNames(port: number): Promise<string | null> {
  const r = await exchange(port, Buffer.from([0, 1, 110]), { keepOpen: true, closeWaitMs: 3000 });
  return r.closedBy === 'node' && r.answer.length >= 4 ? r.answer.subarray(4).toString('utf8') : null;
}

export function hex(b: Uint8Array, max = 160): string {
  const h = Buffer.from(b.subarray(0, max)).toString('hex');
  return b.length > max ? `${h}… (${b.length} bytes)` : `${h} (${b.length} bytes)`;
}

/** A connection that wrote its bytes and is left open; `closed` marks when the node closed it. */
export interface HeldConnection {
  readonly socket: Socket;
  /** Resolves with the ms from connect to close. */
  readonly closed: Promise<number>;
  /** Whether it has closed yet. */
  ended: boolean;
  /** Bytes the node has sent on it so far. */
  received: number;
}

/** Connect, write `bytes`, then neither write nor close (a stalled or silent peer); what comes back is read and dropped. */
export function holdOpen(port: number, bytes: Uint8Array): Promise<HeldConnection> {
  return new Promise((resolve) => {
    const started = Date.now();
    const socket = connect({ port, host: '127.0.0.1' }, () => {
      socket.write(bytes);
      resolve(held);
    });
    const closed = new Promise<number>((r) =>
      socket.once('close', () => {
        held.ended = true;
        r(Date.now() - started);
      }),
    );
    const held: HeldConnection = { socket, closed, ended: false, received: 0 };
    socket.on('error', () => undefined);
    socket.on('data', (c: Buffer) => (held.received += c.length));
  });
}
