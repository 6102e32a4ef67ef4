import { Socket } from 'node:net';

/** The carrier's own read buffer: libuv's read size. */
const READ_SIZE = 64 * 1024;

/**
 * The reads of a socket made with net.Socket's `onread` option, for a {@link TcpCarrier} that reads
 * in place: each read goes into the buffer the carrier's receiver asks for
 * (`CarrierReceiver.readBuffer`: the rest of a frame, which then lands where it is to stay) or into
 * one buffer reused for every read — not into a fresh 64 KiB ArrayBuffer per read, as a socket's
 * 'data' events do (that churn and the copy out of it were a third of a node receiving large
 * binaries: docs/performance.md). Make one, pass {@link InPlaceReads.onread} to `net.connect`
 * (or adopt an accepted socket with {@link adoptForInPlaceReads}), then give it to the carrier.
 */
export class InPlaceReads {
  private own: Uint8Array | undefined;
  private sink: ((chunk: Uint8Array) => void) | undefined;
  private target: (() => Uint8Array | undefined) | undefined;
  /** Reads before {@link InPlaceReads.attach}, copied. */
  private early: Uint8Array[] = [];

  /** The `onread` option of `net.connect` / `new net.Socket`. */
  readonly onread = {
    /** Where the next read goes: the receiver's buffer, or the one reused for every read. */
    buffer: (): Uint8Array => this.target?.() ?? (this.own ??= new Uint8Array(READ_SIZE)),
    /** The `n` bytes read into `buf` go to the carrier; always true (a false would pause the socket, which the carrier does itself). */
    callback: (n: number, buf: Uint8Array): boolean => {
      const chunk = buf.subarray(0, n);
      if (this.sink !== undefined) this.sink(chunk);
      else this.early.push(chunk.slice());
      return true;
    },
  };

  /**
   * From now on each read's bytes go to `sink` (a view valid during the call), and `target` says
   * where the next read goes (undefined: the reused buffer).
   */
  attach(sink: (chunk: Uint8Array) => void, target: () => Uint8Array | undefined): void {
    this.sink = sink;
    this.target = target;
    const early = this.early;
    this.early = [];
    for (const c of early) sink(c);
  }
}

interface HandleOwner {
  _handle: { readStop?: () => number; reading?: boolean } | null;
}

/**
 * An accepted socket as a socket that reads in place: `net.Server` has no `onread` option, so its
 * handle moves to a new net.Socket made with one (the accepted Socket object is destroyed without
 * closing the connection, which also releases the server's count of it). Bytes the accepted socket
 * had read already come back as `buffered`. Undefined when the socket has no such handle (then use
 * it as it is).
 */
export function adoptForInPlaceReads(socket: Socket, reads: InPlaceReads): { socket: Socket; buffered: Uint8Array[] } | undefined {
  const owner = socket as unknown as HandleOwner;
  const handle = owner._handle;
  if (handle === null || typeof handle.readStop !== 'function' || socket.destroyed) return undefined;
  const buffered: Uint8Array[] = [];
  for (let c = socket.read() as Buffer | null; c !== null; c = socket.read() as Buffer | null) buffered.push(c);
  handle.readStop();
  handle.reading = false;
  owner._handle = null;
  socket.removeAllListeners();
  socket.destroy();
  // `handle` and `onread` are options of the constructor that @types/node does not list.
  const adopted = new Socket({ handle, onread: reads.onread, readable: true, writable: true } as ConstructorParameters<typeof Socket>[0]);
  return { socket: adopted, buffered };
}
