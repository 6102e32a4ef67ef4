import { createServer, type Server as NetServer, type Socket } from 'node:net';
import ssh2, { type Connection, type Server as SshServer, type ServerChannel } from 'ssh2';
import { UsageError, type Logger } from '@courier/core';
import type { AuthorizedKeys } from '../keys/authorized-keys.js';
import { authenticate } from './daemon-auth.js';

// ssh2 is CommonJS: Node sees its named exports only through the default export.
const { Server } = ssh2;

/** What a subsystem handler learns about the channel it serves. */
export interface SubsystemContext {
  /** The authenticated SSH user name: the peer's node name, bound to its key. */
  readonly user: string;
  /** `ip:port` of the peer. */
  readonly remote: string;
  /** Child logger bound to the connection. */
  readonly log: Logger;
  /** The same object for every channel of one SSH connection (for per-connection state). */
  readonly connection: object;
}

export type SubsystemHandler = (channel: ServerChannel, ctx: SubsystemContext) => void;

export interface SshDaemonOptions {
  /** Private host keys (OpenSSH or PEM text). */
  readonly hostKeys: readonly (string | Buffer)[];
  /** Consulted at every login, so a reloaded table applies to new connections. */
  readonly authorizedKeys: () => AuthorizedKeys;
  /** The only thing the daemon offers: these subsystems by name. */
  readonly subsystems: ReadonlyMap<string, SubsystemHandler>;
  readonly log: Logger;
  /** An unauthenticated connection is dropped after this. Default 20 s. */
  readonly loginGraceMs?: number;
}

/**
 * Courier's SSH daemon, on ssh2's Server fed with sockets we accept ourselves (noDelay from the
 * first byte: the key exchange is several small flights). Public-key logins bound to node names
 * (daemon-auth.ts); session channels may request only the configured subsystems; shell, exec,
 * sftp, pty, X11, agent and every forwarding are refused and logged.
 */
export class SshDaemon {
  private readonly ssh: SshServer;
  private net: NetServer | undefined;
  private readonly sockets = new Set<Socket>();
  /** Sockets not logged in yet, by `ip:port`, with their grace timers. */
  private readonly loggingIn = new Map<string, NodeJS.Timeout>();

  constructor(private readonly opts: SshDaemonOptions) {
    if (opts.hostKeys.length === 0) throw new UsageError('SSH_NO_HOST_KEY', 'an SSH daemon needs a host key (--ssh-host-key FILE)');
    try {
      this.ssh = new Server({ hostKeys: [...opts.hostKeys], ident: 'Courier' }, (conn, info) => this.onConnection(conn, `${info.ip}:${info.port}`));
    } catch (err) {
      throw new UsageError('SSH_HOST_KEY', `cannot use the host key: ${(err as Error).message}`, { cause: err });
    }
  }

  /** Listen; resolves with the port (useful with port 0). */
  listen(host: string | undefined, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      const net = createServer({ noDelay: true }, (socket) => this.accept(socket));
      net.once('error', reject);
      net.listen({ host, port }, () => {
        net.removeListener('error', reject);
        net.on('error', (err) => this.opts.log.warn({ err: err.message }, 'SSH listener error'));
        this.net = net;
        const a = net.address();
        resolve(typeof a === 'object' && a !== null ? a.port : port);
      });
    });
  }

  /** Stop listening and drop every connection. */
  async close(): Promise<void> {
    const net = this.net;
    this.net = undefined;
    for (const s of this.sockets) s.destroy();
    if (net !== undefined) await new Promise<void>((r) => net.close(() => r()));
  }

  /** A TCP connection: SSH on it must reach a login within the grace time (ssh2 has no such timer). */
  private accept(socket: Socket): void {
    const remote = `${socket.remoteAddress}:${socket.remotePort}`;
    this.sockets.add(socket);
    const grace = setTimeout(() => {
      this.opts.log.warn({ remote }, 'SSH login took too long, dropping the connection');
      socket.destroy();
    }, this.opts.loginGraceMs ?? 20_000);
    grace.unref();
    this.loggingIn.set(remote, grace);
    socket.once('close', () => {
      this.sockets.delete(socket);
      clearTimeout(grace);
      if (this.loggingIn.get(remote) === grace) this.loggingIn.delete(remote);
    });
    this.ssh.injectSocket(socket);
  }

  private onConnection(conn: Connection, remote: string): void {
    let log = this.opts.log.child({ remote });
    let user: string | undefined;
    conn.on('error', (err: Error) => log.debug({ err: err.message }, 'SSH connection error'));
    // ssh2 tells the user name only to the authentication context: the last one tried is the
    // one accepted when 'ready' follows.
    let tried: string | undefined;
    conn.on('authentication', (ctx) => {
      tried = ctx.username;
      authenticate(ctx, this.opts.authorizedKeys(), log);
    });
    conn.on('ready', () => {
      clearTimeout(this.loggingIn.get(remote));
      this.loggingIn.delete(remote);
      user = tried;
      log = log.child({ peer: user });
      log.debug({}, 'SSH login');
    });
    this.refuseForwarding(conn, () => log);
    conn.on('session', (accept) => {
      const session = accept();
      // Listening is what makes ssh2 ask us instead of refusing silently: refuse, and log it.
      const events = session as unknown as NodeJS.EventEmitter;
      for (const what of ['pty', 'shell', 'exec', 'sftp', 'x11', 'auth-agent', 'signal']) {
        events.on(what, (_accept: unknown, reject?: () => void) => {
          log.warn({ request: what, code: 'NOT_OFFERED' }, 'session request refused: the daemon offers only its subsystems');
          reject?.();
        });
      }
      session.on('env', (_a, reject) => reject?.());
      session.on('subsystem', (acceptSub, reject, info) => {
        const handler = this.opts.subsystems.get(info.name);
        if (handler === undefined || user === undefined) {
          log.warn({ subsystem: info.name, code: 'NOT_OFFERED' }, 'subsystem refused: not offered');
          return reject();
        }
        const channel = acceptSub();
        handler(channel, { user, remote, log: log.child({ subsystem: info.name }), connection: conn });
      });
    });
  }

  private refuseForwarding(conn: Connection, log: () => Logger): void {
    conn.on('tcpip', (_a, reject, info) => {
      log().warn({ request: 'direct-tcpip', to: `${info.destIP}:${info.destPort}`, code: 'NOT_OFFERED' }, 'forwarding refused');
      reject();
    });
    conn.on('openssh.streamlocal', (_a, reject) => {
      log().warn({ request: 'streamlocal', code: 'NOT_OFFERED' }, 'forwarding refused');
      reject();
    });
    conn.on('request', (_a, reject, name) => {
      // Keep-alives and other housekeeping requests are refused quietly; forwarding loudly.
      if (/forward/.test(name)) log().warn({ request: name, code: 'NOT_OFFERED' }, 'forwarding refused');
      else log().debug({ request: name }, 'global request refused');
      reject?.();
    });
  }
}
