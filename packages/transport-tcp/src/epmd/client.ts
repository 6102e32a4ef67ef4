import { connect, type Socket } from 'node:net';
import { ProtocolError, ResolveError, type Logger } from '@courier/core';
import { ALIVE2_RESP, ALIVE2_X_RESP, NAMES_REQ, alive2Req, parseNamesResp, parsePort2Resp, portPlease2Req, withLength, type NodeEntry } from './messages.js';

/** The EPMD port: ERL_EPMD_PORT when set, else 4369. */
export function defaultEpmdPort(): number {
  const env = Number(process.env['ERL_EPMD_PORT']);
  return Number.isInteger(env) && env > 0 && env < 65536 ? env : 4369;
}

/** Where an EPMD listens. */
export interface EpmdAddress {
  readonly host: string;
  readonly port: number;
}

/** A live registration: the node stays registered while `socket` is open. */
export interface Registration {
  readonly creation: number;
  /** Unregisters the node (closes the registration's connection). */
  close(): void;
  /** Resolves when EPMD drops the registration (EPMD stopped). */
  readonly lost: Promise<void>;
}

const CONNECT_TIMEOUT_MS = 5000;

function open(addr: EpmdAddress): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: addr.host, port: addr.port, noDelay: true });
    const t = setTimeout(() => {
      s.destroy();
      reject(new ResolveError('EPMD_TIMEOUT', `EPMD at ${addr.host}:${addr.port} did not answer within ${CONNECT_TIMEOUT_MS} ms`));
    }, CONNECT_TIMEOUT_MS);
    s.once('connect', () => {
      clearTimeout(t);
      s.removeAllListeners('error');
      resolve(s);
    });
    s.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(t);
      reject(
        new ResolveError(
          err.code === 'ECONNREFUSED' ? 'EPMD_UNREACHABLE' : 'EPMD_ERROR',
          `cannot reach EPMD at ${addr.host}:${addr.port} (${err.code ?? err.message}); is epmd running there?`,
          { cause: err },
        ),
      );
    });
  });
}

/**
 * Send one request and read until EPMD closes the connection. `signal` abandons it (the set-up
 * deadline of a connection attempt): the socket is closed then, so a stalled EPMD keeps nothing.
 */
async function oneShot(addr: EpmdAddress, req: Buffer, maxBytes = 1 << 20, signal?: AbortSignal): Promise<Buffer> {
  const s = await open(addr);
  if (signal?.aborted) {
    s.destroy();
    throw new ResolveError('EPMD_ABORTED', `the EPMD lookup at ${addr.host}:${addr.port} was abandoned`);
  }
  const onAbort = (): void => {
    s.destroy(new ResolveError('EPMD_ABORTED', `the EPMD lookup at ${addr.host}:${addr.port} was abandoned`));
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  s.once('close', () => signal?.removeEventListener('abort', onAbort));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let n = 0;
    s.on('data', (c: Buffer) => {
      n += c.length;
      if (n > maxBytes) {
        s.destroy();
        reject(new ProtocolError('EPMD_TOO_LONG', `EPMD answer longer than ${maxBytes} bytes`, n));
        return;
      }
      chunks.push(c);
    });
    s.on('error', (err) => reject(err instanceof ResolveError ? err : new ResolveError('EPMD_ERROR', `EPMD connection failed: ${err.message}`, { cause: err })));
    s.on('close', () => resolve(Buffer.concat(chunks)));
    s.write(req);
  });
}

/** PORT_PLEASE2_REQ: where does `alive` (the part before `@`) listen on that host? */
export async function portPlease(addr: EpmdAddress, alive: string, signal?: AbortSignal): Promise<NodeEntry | undefined> {
  return parsePort2Resp(await oneShot(addr, portPlease2Req(alive), 64 * 1024, signal));
}

/** NAMES_REQ: the names registered at that EPMD. */
export async function names(addr: EpmdAddress): Promise<Array<{ name: string; port: number }>> {
  return parseNamesResp(await oneShot(addr, withLength(Buffer.from([NAMES_REQ]))));
}

/** ALIVE2_REQ: register `entry` and keep the connection open for as long as the node lives. */
export async function register(addr: EpmdAddress, entry: NodeEntry, log: Logger): Promise<Registration> {
  const s = await open(addr);
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    let done = false;
    let onLost!: () => void;
    const lost = new Promise<void>((r) => (onLost = r));
    const fail = (e: Error) => {
      if (done) return;
      done = true;
      s.destroy();
      reject(e);
    };
    s.on('data', (c: Buffer) => {
      if (done) return;
      buf = Buffer.concat([buf, c]);
      const tag = buf[0];
      const need = tag === ALIVE2_X_RESP ? 6 : tag === ALIVE2_RESP ? 4 : 1;
      if (buf.length < need) return;
      if (tag !== ALIVE2_X_RESP && tag !== ALIVE2_RESP) {
        fail(new ProtocolError('EPMD_BAD_RESPONSE', `EPMD answered ALIVE2_REQ with tag ${tag}`, 0));
        return;
      }
      if (buf[1] !== 0) {
        fail(new ResolveError('EPMD_NAME_TAKEN', `EPMD refused to register ${entry.name}: the name is taken by another node`));
        return;
      }
      done = true;
      const creation = tag === ALIVE2_X_RESP ? buf.readUInt32BE(2) : buf.readUInt16BE(2);
      resolve({ creation, lost, close: () => s.destroy() });
    });
    s.on('error', (err) => fail(err));
    s.on('close', () => {
      if (!done) fail(new ResolveError('EPMD_CLOSED', 'EPMD closed the connection during registration'));
      else {
        log.debug({ name: entry.name }, 'epmd registration closed');
        onLost();
      }
    });
    s.write(alive2Req(entry));
  });
}
