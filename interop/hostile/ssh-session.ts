import { connect as netConnect } from 'node:net';
import ssh2, { type AnyAuthMethod, type Client as SshClient, type ClientChannel } from 'ssh2';

// ssh2 is CommonJS: under Node's ESM loader its classes come through the default export.
const { Client } = ssh2;

/**
 * An authenticated SSH connection to the echo node (ssh2's client, public-key login) on which the
 * hostile suite opens one subsystem channel per case: write the bytes, send EOF, wait for the node
 * to close the channel — as raw-exchange.ts does with TCP connections before authentication. A
 * case must cost the peer its channel only: `lost` turns true when the SSH connection itself ends.
 */
export interface ChannelExchange {
  /** Bytes the node wrote on the channel (stdout). */
  readonly answer: Buffer;
  /** 'node': the node closed the channel; 'us': it was still open after `closeWaitMs`. */
  readonly closedBy: 'node' | 'us';
  /** The exit status the node sent before closing (sshrpc: 0 after EOF, 1 after a refused frame). */
  readonly exit: number | undefined;
  readonly ms: number;
}

export interface ChannelOptions {
  /** Write in pieces of this many bytes, one per event-loop turn. */
  readonly pieces?: number;
  /** How long to wait for the node to close after our EOF. Default 2000 ms. */
  readonly closeWaitMs?: number;
  /** Do not send EOF: the node itself must close the channel (or the wait ends). */
  readonly keepOpen?: boolean;
  /** A dialogue before the bytes (e.g. the distribution handshake): resolves when the bytes may follow. */
  readonly prelude?: (ch: ChannelIo) => Promise<void>;
}

/** What a prelude sees of the channel: write, and the next bytes the node sends. */
export interface ChannelIo {
  write(b: Uint8Array): void;
  /** The next chunk from the node; rejects when the channel closes or after `ms`. */
  read(ms?: number): Promise<Buffer>;
}

export interface SessionLogin {
  readonly port: number;
  readonly user: string;
  readonly privateKey: string;
  /** The node's host key blob (the base64 field of its public line, decoded): the one key trusted. */
  readonly hostKey: Buffer;
}

export class SshSession {
  lost = false;
  lostWhy = '';

  private constructor(private readonly conn: SshClient) {
    conn.on('error', (err: Error) => {
      this.lostWhy ||= err.message;
    });
    conn.on('close', () => {
      this.lost = true;
      this.lostWhy ||= 'closed';
    });
  }

  static connect(login: SessionLogin, readyTimeout = 10_000): Promise<SshSession> {
    return new Promise((resolve, reject) => {
      const conn = new Client();
      const fail = (err: Error): void => reject(err);
      conn.once('error', fail);
      conn.once('ready', () => {
        conn.removeListener('error', fail);
        resolve(new SshSession(conn));
      });
      conn.connect({
        // Our own socket, with noDelay from its first byte: ssh2's would hold each small flight ~40 ms (Nagle).
        sock: netConnect({ host: '127.0.0.1', port: login.port, noDelay: true }),
        username: login.user,
        privateKey: login.privateKey,
        hostVerifier: (key: Buffer) => key.equals(login.hostKey),
        readyTimeout,
        keepaliveInterval: 0,
      });
    });
  }

  /**
   * One login attempt with `methods` tried in turn (wrong keys, passwords…): resolves with whether
   * the node let us in, the error ssh2 reported, and how long it took. The connection is closed.
   */
  static attempt(port: number, hostKey: Buffer, user: string, methods: AnyAuthMethod[]): Promise<{ ready: boolean; error: string; ms: number }> {
    return new Promise((resolve) => {
      const t0 = Date.now();
      const conn = new Client();
      let ready = false;
      let error = '';
      conn.on('ready', () => {
        ready = true;
        conn.end();
      });
      conn.on('error', (err: Error) => (error ||= err.message));
      conn.on('close', () => resolve({ ready, error, ms: Date.now() - t0 }));
      conn.connect({
        sock: netConnect({ host: '127.0.0.1', port, noDelay: true }),
        username: user,
        hostVerifier: (key: Buffer) => key.equals(hostKey),
        authHandler: methods,
        readyTimeout: 15_000,
      });
    });
  }

  /** Open `subsystem`, write `bytes`, EOF, wait for the node to close the channel. */
  exchange(subsystem: string, bytes: Uint8Array, o: ChannelOptions = {}): Promise<ChannelExchange> {
    return new Promise((resolve, reject) => {
      const t0 = Date.now();
      this.conn.subsys(subsystem, (err, ch) => {
        if (err !== undefined && err !== null) return reject(new Error(`the node refused the ${subsystem} channel: ${err.message}`));
        const chunks: Buffer[] = [];
        const waiting: Array<(b: Buffer | undefined) => void> = [];
        const unread: Buffer[] = [];
        let closed = false;
        let closedBy: 'node' | 'us' = 'node';
        let exit: number | undefined;
        let timer: NodeJS.Timeout | undefined;
        ch.on('data', (c: Buffer) => {
          chunks.push(c);
          const w = waiting.shift();
          if (w !== undefined) w(c);
          else unread.push(c);
        });
        ch.stderr.resume();
        ch.on('exit', (code: number | null) => (exit = code ?? undefined));
        ch.on('error', () => undefined);
        ch.on('close', () => {
          closed = true;
          clearTimeout(timer);
          for (const w of waiting.splice(0)) w(undefined);
          resolve({ answer: Buffer.concat(chunks), closedBy, exit, ms: Date.now() - t0 });
        });
        const io: ChannelIo = {
          write: (b) => void ch.write(b),
          read: (ms = 5000) =>
            new Promise((ok, no) => {
              const u = unread.shift();
              if (u !== undefined) return ok(u);
              if (closed) return no(new Error('the node closed the channel'));
              const t = setTimeout(() => no(new Error(`nothing from the node in ${ms} ms`)), ms);
              waiting.push((b) => {
                clearTimeout(t);
                if (b === undefined) no(new Error('the node closed the channel'));
                else ok(b);
              });
            }),
        };
        void (async () => {
          if (o.prelude !== undefined) {
            try {
              await o.prelude(io);
            } catch {
              // The node ended the dialogue: the close resolves the exchange.
            }
          }
          await writeAll(ch, bytes, o.pieces);
          if (!o.keepOpen && !closed) ch.end();
          timer = setTimeout(() => {
            closedBy = 'us';
            ch.close();
            // A node that never confirms the close must not hang the case.
            setTimeout(() => ch.destroy(), 1000).unref();
          }, o.closeWaitMs ?? 2000);
        })();
      });
    });
  }

  end(): void {
    this.conn.end();
  }
}

async function writeAll(ch: ClientChannel, bytes: Uint8Array, pieces: number | undefined): Promise<void> {
  const step = Math.max(1, pieces ?? bytes.length);
  for (let i = 0; i < bytes.length && ch.writable; i += step) {
    ch.write(bytes.subarray(i, i + step));
    if (pieces !== undefined) await new Promise((r) => setImmediate(r));
  }
}
