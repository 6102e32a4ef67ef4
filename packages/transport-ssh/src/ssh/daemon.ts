import { createServer, type Server as NetServer, type Socket } from 'node:net';
import ssh2, { type Connection, type Server as SshServer, type ServerChannel } from 'ssh2';
import { MAX_PENDING_HANDSHAKES, MAX_PENDING_HANDSHAKES_PER_ADDRESS, UsageError, type Logger } from '@courier/core';
import { authenticate, type RoleKeys } from './daemon-auth.js';

// ssh2 is CommonJS: Node sees its named exports only through the default export.
const { Server } = ssh2;

/**
 * The daemon's limits on peers, each after its OpenSSH sshd_config counterpart (docs/limits.md).
 * LoginGraceTime: a connection that has not logged in by then is dropped (OpenSSH: 120 s; ssh2
 * has no such timer, so without it a silent TCP client is held forever).
 */
export const SSH_LOGIN_GRACE_MS = 20_000;
/** MaxAuthTries (OpenSSH: 6): failed authentication attempts per connection before it is dropped. */
export const SSH_MAX_AUTH_TRIES = 6;
/**
 * MaxSessions (OpenSSH: 10): channels open at once on one connection. Each subsystem channel may
 * hold a partial frame (sshrpc: up to 16 MiB), so this is what bounds one authenticated connection.
 */
export const SSH_MAX_SESSIONS = 10;

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
  /** The roles the login's key carries (the tables of `authorizedKeys` that list it for `user`). */
  readonly roles: ReadonlySet<string>;
}

/** Serves one SSH subsystem channel (`sshrpc@k2r.org`, the distribution) for an authenticated user. */
export type SubsystemHandler = (channel: ServerChannel, ctx: SubsystemContext) => void;

/** A subsystem the daemon offers, to logins whose key carries `role`. */
export interface OfferedSubsystem {
  readonly role: string;
  readonly handler: SubsystemHandler;
}

/** The daemon's limits on peers, each named after its OpenSSH counterpart (docs/limits.md). */
export interface SshDaemonLimits {
  /** An unauthenticated connection is dropped after this (LoginGraceTime). Default {@link SSH_LOGIN_GRACE_MS}. */
  readonly loginGraceMs?: number;
  /**
   * Connections not logged in yet, in all and from one address (MaxStartups); past either the
   * oldest is dropped. Default core's MAX_PENDING_HANDSHAKES (256) and _PER_ADDRESS (64).
   */
  readonly maxStartups?: number;
  readonly maxStartupsPerAddress?: number;
  /** Failed authentications per connection (MaxAuthTries). Default {@link SSH_MAX_AUTH_TRIES}. */
  readonly maxAuthTries?: number;
  /** Channels open at once per connection (MaxSessions). Default {@link SSH_MAX_SESSIONS}. */
  readonly maxSessions?: number;
}

export interface SshDaemonOptions extends SshDaemonLimits {
  /** Private host keys (OpenSSH or PEM text). */
  readonly hostKeys: readonly (string | Buffer)[];
  /** Who may log in, one table per role; consulted at every login, so a reloaded table applies to new connections. */
  readonly authorizedKeys: () => RoleKeys;
  /** The only thing the daemon offers: these subsystems by name, each to keys of its role. */
  readonly subsystems: ReadonlyMap<string, OfferedSubsystem>;
  readonly log: Logger;
}

/** A connection that has not logged in yet: where from, its socket, its grace timer. */
interface Startup {
  readonly address: string;
  readonly socket: Socket;
  readonly grace: NodeJS.Timeout;
}

/** ssh2 keeps its channel table private; its size is what MaxSessions bounds (sessions that never asked for a subsystem tell no event when they close). */
type WithChannels = { _chanMgr?: { _count?: unknown } };
function openChannels(conn: Connection): number {
  const n = (conn as unknown as WithChannels)._chanMgr?._count;
  return typeof n === 'number' ? n : 0;
}

/**
 * Courier's SSH daemon, on ssh2's Server fed with sockets we accept ourselves (noDelay from the
 * first byte: the key exchange is several small flights). Public-key logins bound to node names
 * (daemon-auth.ts), each key carrying the roles of the tables that list it; session channels may
 * request only the configured subsystems, each only with a key of its role; shell, exec, sftp,
 * pty, X11, agent and every forwarding are refused and logged. Listens on loopback unless told.
 */
export class SshDaemon {
  private readonly ssh: SshServer;
  private net: NetServer | undefined;
  private readonly sockets = new Set<Socket>();
  /** Connections not logged in yet, by `ip:port`, oldest first. */
  private readonly loggingIn = new Map<string, Startup>();

  constructor(private readonly opts: SshDaemonOptions) {
    if (opts.hostKeys.length === 0) throw new UsageError('SSH_NO_HOST_KEY', 'an SSH daemon needs a host key (--ssh-host-key FILE)');
    try {
      this.ssh = new Server({ hostKeys: [...opts.hostKeys], ident: 'Courier' }, (conn, info) => this.onConnection(conn, `${info.ip}:${info.port}`));
    } catch (err) {
      throw new UsageError('SSH_HOST_KEY', `cannot use the host key: ${(err as Error).message}`, { cause: err });
    }
  }

  /** Listen (on loopback unless `host` says otherwise); resolves with the port (useful with port 0). */
  listen(host: string | undefined, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      const net = createServer({ noDelay: true }, (socket) => this.accept(socket));
      net.once('error', reject);
      net.listen({ host: host ?? '127.0.0.1', port }, () => {
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
    const address = socket.remoteAddress ?? 'unknown';
    const remote = `${address}:${socket.remotePort}`;
    this.sockets.add(socket);
    this.admit(address);
    const graceMs = this.opts.loginGraceMs ?? SSH_LOGIN_GRACE_MS;
    const grace = setTimeout(() => {
      this.opts.log.warn({ remote, code: 'LOGIN_GRACE', graceMs }, 'SSH login took too long, dropping the connection');
      socket.destroy();
    }, graceMs);
    grace.unref();
    const startup: Startup = { address, socket, grace };
    this.loggingIn.set(remote, startup);
    socket.once('close', () => {
      this.sockets.delete(socket);
      clearTimeout(grace);
      if (this.loggingIn.get(remote) === startup) this.loggingIn.delete(remote);
    });
    this.ssh.injectSocket(socket);
  }

  /** Make room for one more connection not logged in yet (MaxStartups): past a cap, the oldest under it is dropped. */
  private admit(address: string): void {
    const max = this.opts.maxStartups ?? MAX_PENDING_HANDSHAKES;
    const perAddress = this.opts.maxStartupsPerAddress ?? MAX_PENDING_HANDSHAKES_PER_ADDRESS;
    let fromThere = 0;
    for (const s of this.loggingIn.values()) if (s.address === address) fromThere++;
    const evict = (match: (s: Startup) => boolean, why: string): void => {
      for (const [remote, s] of this.loggingIn) {
        if (!match(s)) continue;
        this.loggingIn.delete(remote);
        clearTimeout(s.grace);
        this.opts.log.warn({ remote, code: 'PENDING_LIMIT' }, why);
        s.socket.destroy();
        return;
      }
    };
    if (fromThere >= perAddress) evict((s) => s.address === address, `more than ${perAddress} SSH connections from ${address} not logged in: the oldest is dropped`);
    else if (this.loggingIn.size >= max) evict(() => true, `more than ${max} SSH connections not logged in: the oldest is dropped`);
  }

  private onConnection(conn: Connection, remote: string): void {
    let log = this.opts.log.child({ remote });
    let user: string | undefined;
    let roles: ReadonlySet<string> = new Set();
    conn.on('error', (err: Error) => log.debug({ err: err.message }, 'SSH connection error'));
    // ssh2 tells the user name only to the authentication context: the last one tried is the
    // one accepted when 'ready' follows.
    let tried: string | undefined;
    let triedRoles: ReadonlySet<string> = new Set();
    let failures = 0;
    const maxTries = this.opts.maxAuthTries ?? SSH_MAX_AUTH_TRIES;
    conn.on('authentication', (ctx) => {
      tried = ctx.username;
      const r = authenticate(ctx, this.opts.authorizedKeys(), log, (granted) => (triedRoles = granted));
      if (r.result === 'refused' && ++failures >= maxTries) {
        log.warn({ user: ctx.username, failures, code: 'AUTH_TRIES' }, 'too many authentication failures, dropping the connection');
        conn.end();
      }
    });
    conn.on('ready', () => {
      clearTimeout(this.loggingIn.get(remote)?.grace);
      this.loggingIn.delete(remote);
      user = tried;
      roles = triedRoles;
      log = log.child({ peer: user });
      log.debug({ roles: [...roles] }, 'SSH login');
    });
    this.refuseForwarding(conn, () => log);
    const maxSessions = this.opts.maxSessions ?? SSH_MAX_SESSIONS;
    conn.on('session', (accept, reject) => {
      // ssh2 has counted the channel being opened.
      if (openChannels(conn) > maxSessions) {
        log.warn({ maxSessions, code: 'SESSION_LIMIT' }, 'session refused: too many channels open on this connection');
        return reject();
      }
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
        const offered = this.opts.subsystems.get(info.name);
        if (offered === undefined || user === undefined) {
          log.warn({ subsystem: info.name, code: 'NOT_OFFERED' }, 'subsystem refused: not offered');
          return reject();
        }
        if (!roles.has(offered.role)) {
          log.warn({ subsystem: info.name, role: offered.role, roles: [...roles], code: 'NOT_ALLOWED' }, 'subsystem refused: the key does not carry its role');
          return reject();
        }
        const channel = acceptSub();
        offered.handler(channel, { user, remote, log: log.child({ subsystem: info.name }), connection: conn, roles });
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
