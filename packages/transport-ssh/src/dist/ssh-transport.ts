import type { Atom } from '@courier/term';
import { CarrierError, HandshakeError, driveHandshake, silentLogger, type Carrier, type Logger, type Session, type Transport, type TransportHost } from '@courier/core';
import { ErlSession } from '@courier/transport-tcp';
import { HostTrust } from '../keys/host-trust.js';
import type { AuthorizedKeys } from '../keys/authorized-keys.js';
import { keyText, peerAddress, type SshTransportOptions } from '../options.js';
import { AuthorizedKeysFile } from '../keys/authorized-file.js';
import { SshChannelCarrier } from '../ssh/channel-carrier.js';
import { SshDaemon, type SubsystemContext, type SubsystemHandler } from '../ssh/daemon.js';
import { AllowList, SpawnedPids } from '../sshrpc/allow-list.js';
import { SshRpcClient, SSHRPC_SUBSYSTEM } from '../sshrpc/client.js';
import { SshRpcServerChannel } from '../sshrpc/server-channel.js';
import { sshDistHandshake } from './handshake.js';
import { SshPool } from './pool.js';

/** The Courier distribution subsystem (RFC 4251 §6 private name; the domain is a placeholder). */
export const COURIER_SUBSYSTEM = 'courier-dist@courier.invalid';

/**
 * The SSH transport: a daemon offering `sshrpc@k2r.org` (calls into what the node exposes) and
 * the Courier distribution subsystem, and a dialer that carries the Erlang distribution session
 * (ErlSession: links, monitors, spawn, names, nodedown) inside an SSH channel to Courier peers.
 * SSH keys are the credentials: a peer logs in as its node name with a key whose authorized_keys
 * comment is that name; the daemon's host key must be pinned for the node dialed. One SSH
 * connection per peer carries the distribution channel and any sshrpc channels.
 */
export class SshTransport implements Transport {
  readonly name = 'ssh';
  private host: TransportHost | undefined;
  private daemon: SshDaemon | undefined;
  private boundPort: number | undefined;
  private log: Logger;
  private pool: SshPool | undefined;
  private authorized: (() => AuthorizedKeys) | undefined;
  private readonly pending = new Set<Carrier>();

  constructor(private readonly o: SshTransportOptions) {
    this.log = o.log ?? silentLogger;
  }

  /** The port the daemon listens on (after start). */
  get port(): number | undefined {
    return this.boundPort;
  }

  async start(host: TransportHost): Promise<void> {
    this.host = host;
    this.log = (this.o.log ?? host.log).child({ carrier: 'ssh' });
    const hostKey = keyText(this.o.hostKey, 'host key');
    this.pool = new SshPool({
      self: host.name.name,
      privateKey: this.o.userKey !== undefined ? keyText(this.o.userKey, 'user key') : hostKey,
      trust: new HostTrust(this.o, this.log),
      log: this.log,
    });
    if (this.o.listen === false) return;
    const given = this.o.authorizedKeys;
    if (typeof given === 'string') {
      const file = new AuthorizedKeysFile(given, this.log);
      this.authorized = () => file.current();
    } else {
      for (const p of given.problems) this.log.warn({ problem: p }, 'authorized keys line skipped');
      this.authorized = () => given;
    }
    const subsystems = new Map<string, SubsystemHandler>([[COURIER_SUBSYSTEM, (ch, ctx) => this.acceptDist(new SshChannelCarrier(ch, ctx.remote), ctx)]]);
    if (this.o.sshrpc !== false) {
      const p = this.o.sshrpc ?? {};
      const rpc = { node: host.node, allow: new AllowList(host.node, p), spawned: new SpawnedPids(), maxFrame: p.maxFrame ?? 16 * 1024 * 1024, maxInFlight: p.maxInFlight ?? 1024 };
      subsystems.set(SSHRPC_SUBSYSTEM, (ch, ctx) => void new SshRpcServerChannel(new SshChannelCarrier(ch, ctx.remote), ctx, rpc));
    }
    this.daemon = new SshDaemon({ hostKeys: [hostKey], authorizedKeys: () => (this.authorized as () => AuthorizedKeys)(), subsystems, log: this.log });
    this.boundPort = await this.daemon.listen(this.o.listen?.host, this.o.listen?.port ?? 0);
    this.log.info({ port: this.boundPort, keys: this.authorized().size }, 'SSH daemon listening');
  }

  /** Replace the authorized keys; new logins use them. (A file given by path is re-read when it changes.) */
  setAuthorizedKeys(ak: AuthorizedKeys): void {
    this.authorized = () => ak;
  }

  async connect(peer: Atom, signal?: AbortSignal): Promise<Session> {
    const host = this.host;
    const pool = this.pool;
    if (host === undefined || pool === undefined) throw new CarrierError('NOT_STARTED', 'start the node before connecting');
    const addr = peerAddress(peer, this.o.peers, this.o.peerPort ?? this.boundPort);
    const setupMs = this.o.handshakeTimeoutMs ?? 7000;
    const deadline = Date.now() + setupMs;
    let c: Carrier;
    try {
      const conn = await pool.get(peer, addr, setupMs, signal);
      c = await conn.openSubsystem(COURIER_SUBSYSTEM);
    } catch (err) {
      this.failed(err, `${addr.host}:${addr.port}`, peer, 'connect');
      throw err;
    }
    const hs = sshDistHandshake({ role: 'initiator', self: host.name, creation: host.creation, peer, hidden: this.hidden });
    this.pending.add(c);
    try {
      const { result: r, handover } = await driveHandshake(c, hs, { timeoutMs: Math.max(1, deadline - Date.now()), signal, waitOnNok: true });
      const s = this.session(c, r.peer, r.flags, r.hidden ?? false);
      // Take the carrier over once the connection table has recorded the session.
      setImmediate(() => s.start(r.tail, handover));
      return s;
    } catch (err) {
      this.failed(err, c.remote, peer, 'connect');
      throw err;
    } finally {
      this.pending.delete(c);
    }
  }

  /** An sshrpc client over the pooled SSH connection to `peer` (dialed when needed). */
  async rpc(peer: Atom, channels = 1): Promise<SshRpcClient> {
    const pool = this.pool;
    if (pool === undefined) throw new CarrierError('NOT_STARTED', 'start the node before connecting');
    const addr = peerAddress(peer, this.o.peers, this.o.peerPort ?? this.boundPort);
    const conn = await pool.get(peer, addr, this.o.handshakeTimeoutMs ?? 7000);
    const carriers = await Promise.all(Array.from({ length: Math.max(1, channels) }, () => conn.openSubsystem(SSHRPC_SUBSYSTEM)));
    return SshRpcClient.over(carriers, { log: this.log });
  }

  /** SSH connections this node dialed that are open now. */
  get dialedConnections(): number {
    return this.pool?.size ?? 0;
  }

  async stop(): Promise<void> {
    for (const c of this.pending) c.abort();
    this.pending.clear();
    this.pool?.closeAll();
    await this.daemon?.close();
  }

  private get hidden(): boolean {
    return this.o.hidden ?? false;
  }

  private acceptDist(c: SshChannelCarrier, ctx: SubsystemContext): void {
    const host = this.host;
    if (host === undefined) return c.abort();
    const log = ctx.log;
    const hs = sshDistHandshake({
      role: 'acceptor',
      self: host.name,
      creation: host.creation,
      identity: ctx.user,
      arbiter: host.arbiter,
      hidden: this.hidden,
      onMismatch: (claimed) => log.warn({ user: ctx.user, claimed: claimed.name, code: 'NAME_MISMATCH' }, 'distribution refused: the handshake names another node than the SSH login'),
    });
    this.pending.add(c);
    driveHandshake(c, hs, { timeoutMs: this.o.handshakeTimeoutMs ?? 7000 }).then(
      ({ result: r, handover }) => {
        this.pending.delete(c);
        const s = this.session(c, r.peer, r.flags, r.hidden ?? false);
        host.attach(s);
        s.start(r.tail, handover);
      },
      (err: unknown) => {
        this.pending.delete(c);
        this.failed(err, ctx.remote, hs.peer, 'accept');
      },
    );
  }

  private session(c: Carrier, peer: Atom, flags: bigint, hidden: boolean): ErlSession {
    return new ErlSession(c, (this.host as TransportHost).router, {
      peer,
      flags,
      hidden,
      carrierName: 'ssh',
      log: this.log.child({ peer: peer.name }),
      netTicktime: this.o.netTicktime,
      maxMessage: this.o.maxMessage,
    });
  }

  private failed(err: unknown, remote: string, peer: Atom | undefined, dir: string): void {
    if (err instanceof HandshakeError && err.code === 'NOK') {
      this.log.debug({ remote, peer: peer?.name }, 'simultaneous connect resolved: the other attempt wins');
      return;
    }
    const e = err as Error & { code?: string };
    this.log.warn({ remote, peer: peer?.name, direction: dir, code: e.code, err: e.message }, 'SSH distribution set-up failed');
  }
}
