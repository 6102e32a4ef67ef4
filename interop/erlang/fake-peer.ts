import { captureLog } from '@courier/testkit';
import { connect, type Socket } from 'node:net';
import { Pid, Tuple, atom, atoms, decodeTerm, encode, type Atom, type Term } from '@courier/term';
import { silentLogger, type Logger } from '@courier/core';
import { AtomCache, ErlHandshake, parseFrame } from '@courier/erl-dist';
import { LengthPrefixedReader } from '@courier/stream';

/**
 * A hand-driven Erlang node for feeding a Courier node bad input: a raw TCP socket that runs the
 * real v6 handshake (the package's ErlHandshake, as initiator, so it is a legitimate peer), then
 * lets a test write any bytes it likes. Frames the Courier node sends back are decoded, ticks
 * counted. Nothing here is clever: it is a probe, not a node.
 */
export interface Received {
  readonly control: Term;
  readonly payload: Term | undefined;
}

export interface FakePeer {
  readonly name: Atom;
  readonly socket: Socket;
  /** A pid of this peer, for replies. */
  readonly pid: Pid;
  /** Negotiated flags. */
  readonly flags: bigint;
  /** Messages received from the Courier node, in order. */
  readonly received: Received[];
  /** Ticks (zero-length frames) received, with their arrival times (ms since the handshake). */
  readonly ticks: number[];
  /** When the handshake finished (Date.now()). */
  readonly upAt: number;
  /** Resolves when the socket has closed (either side). */
  readonly closed: Promise<void>;
  readonly isClosed: boolean;
  write(bytes: Uint8Array | string): void;
  /** `<<Len:32, Body>>`. */
  writeFrame(body: Uint8Array): void;
  /** A 131,68,0 frame with `control` and `payload` (ETF without their 131 bytes). */
  send(control: Term, payload?: Term): void;
  /** `{Self, Msg}` to the registered name `to` on the Courier node (REG_SEND). */
  regSend(to: Atom, msg: Term): void;
  /** The next received message satisfying `match`, within `ms`. */
  waitFor(match: (r: Received) => boolean, ms: number, what: string): Promise<Received>;
  close(): void;
}

export const TICK = new Uint8Array(4);

/** `<<Len:32, Body>>`. */
export function frame(body: Uint8Array): Buffer {
  const b = Buffer.alloc(4 + body.length);
  b.writeUInt32BE(body.length, 0);
  b.set(body, 4);
  return b;
}

/** The 131,68,0 body carrying `control` (and `payload`), terms without their version byte. */
export function distBody(control: Term, payload?: Term): Buffer {
  const parts = [Buffer.from([131, 68, 0]), Buffer.from(encode(control)).subarray(1)];
  if (payload !== undefined) parts.push(Buffer.from(encode(payload)).subarray(1));
  return Buffer.concat(parts);
}

export interface FakePeerOptions {
  readonly name?: string;
  readonly cookie: string;
  readonly creation?: number;
  readonly hidden?: boolean;
  readonly log?: Logger;
}

/** Connect to `node` listening on `port` and run the handshake; rejects if it fails. */
export function fakePeer(port: number, node: Atom, o: FakePeerOptions): Promise<FakePeer> {
  const name = atom(o.name ?? `fake_${process.pid}_${Math.random().toString(36).slice(2, 8)}@127.0.0.1`);
  const creation = o.creation ?? 0x1234_5678;
  const hs = new ErlHandshake({ role: 'initiator', self: name, peer: node, creation, cookie: () => o.cookie, hidden: o.hidden ?? true, lengthBytes: 2 });
  const log = o.log ?? silentLogger;
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1', noDelay: true });
    let onClosed!: () => void;
    const closed = new Promise<void>((r) => (onClosed = r));
    let isClosed = false;
    socket.on('error', (err) => log.debug({ err: err.message }, 'fake peer socket error'));
    socket.on('close', () => {
      isClosed = true;
      onClosed();
      reject(new Error('the connection closed during the handshake'));
    });
    let reader: LengthPrefixedReader | undefined;
    const onData = (c: Buffer) => {
      if (reader !== undefined) return reader.push(c);
      for (const a of hs.receive(c)) {
        if (a.type === 'write') socket.write(a.bytes);
        else if (a.type === 'fail') {
          socket.destroy();
          reject(a.error);
        } else if (a.type === 'done') {
          const r = a.result;
          const peer = makePeer(r.flags);
          reader = peer.reader;
          resolve(peer.api);
          if (r.tail.length > 0) reader.push(r.tail);
        }
      }
    };
    socket.on('data', onData);
    socket.on('connect', () => {
      for (const a of hs.start()) if (a.type === 'write') socket.write(a.bytes);
    });

    function makePeer(flags: bigint): { api: FakePeer; reader: LengthPrefixedReader } {
      const received: Received[] = [];
      const ticks: number[] = [];
      const upAt = Date.now();
      const waiters: Array<{ match: (r: Received) => boolean; resolve: (r: Received) => void }> = [];
      const cache = new AtomCache();
      const reader = new LengthPrefixedReader(
        1 << 30,
        (f) => {
          const p = parseFrame(f, cache);
          if (p.kind !== 'message') return; // Courier sends no fragments to this probe's small messages
          const opts = { atomCache: (i: number) => p.refs[i] };
          const c = decodeTerm(p.body, p.offset, opts);
          const payload = c.end < f.length ? decodeTerm(p.body, c.end, opts).term : undefined;
          const r = { control: c.term, payload };
          received.push(r);
          for (let i = 0; i < waiters.length; i++) {
            const w = waiters[i] as (typeof waiters)[number];
            if (w.match(r)) {
              waiters.splice(i, 1);
              w.resolve(r);
              break;
            }
          }
        },
        () => ticks.push(Date.now() - upAt),
      );
      const pid = new Pid(name, 1, 0, creation);
      const write = (b: Uint8Array | string) => {
        if (!socket.destroyed) socket.write(b);
      };
      const api: FakePeer = {
        name,
        socket,
        pid,
        flags,
        received,
        ticks,
        upAt,
        closed,
        get isClosed() {
          return isClosed;
        },
        write,
        writeFrame: (body) => write(frame(body)),
        send: (control, payload) => write(frame(distBody(control, payload))),
        regSend: (to, msg) => write(frame(distBody(new Tuple([6, pid, atoms.empty, to]), msg))),
        waitFor(match, ms, what) {
          const seen = received.find(match);
          if (seen) return Promise.resolve(seen);
          return new Promise((res, rej) => {
            const w = { match, resolve: (r: Received) => (clearTimeout(t), res(r)) };
            const t = setTimeout(() => {
              waiters.splice(waiters.indexOf(w), 1);
              rej(new Error(`fake peer ${name.name}: no ${what} within ${ms} ms (closed: ${isClosed})`));
            }, ms);
            waiters.push(w);
          });
        },
        close: () => socket.destroy(),
      };
      return { api, reader };
    }
  });
}

/** Resolve with `p`, or reject after `ms` saying what did not happen. */
export function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(t)),
    new Promise<never>((_, reject) => {
      t = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
    }),
  ]);
}

export interface LogEntry {
  readonly level: 'trace' | 'debug' | 'info' | 'warn' | 'error';
  readonly msg: string | undefined;
  /** The call's fields merged with the bindings of its child loggers. */
  readonly fields: Record<string, unknown>;
}

/** A Logger that keeps every call (with child bindings merged), for asserting what was logged. */
export function collectingLogger(): { log: Logger; entries: LogEntry[] } {
  const c = captureLog();
  return { log: c.logger, entries: c.entries as LogEntry[] };
}
