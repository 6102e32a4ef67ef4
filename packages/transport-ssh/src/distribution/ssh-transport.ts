import type { Atom } from '@courier/term';
import {
  CarrierError,
  UsageError,
  DEFAULT_SETUP_TIME_MS,
  HIDDEN_BY_DEFAULT,
  silentLogger,
  type Carrier,
  type Dialer,
  type Logger,
  type Protocol,
  type Resolver,
  type Transport,
  type TransportHost,
} from '@courier/core';
import { HostTrust } from '../keys/host-trust.js';
import { AuthorizedKeys } from '../keys/authorized-keys.js';
import { keyText, peerAddress, roleKeys, type SshRole, type SshRoleKeys, type SshTransportOptions } from '../options.js';
import { AuthorizedKeysFile } from '../keys/authorized-file.js';
import { SshChannelCarrier } from '../ssh/channel-carrier.js';
import { SshDaemon, type OfferedSubsystem, type SubsystemContext } from '../ssh/daemon.js';
import { AllowList, SpawnedPids } from '../sshrpc/allow-list.js';
import { SshRpcClient, SSHRPC_SUBSYSTEM } from '../sshrpc/client.js';
import { SshRpcServerChannel } from '../sshrpc/server-channel.js';
import { sshDistProtocol } from './handshake.js';
import { SshPool } from './pool.js';

/** Where a peer's SSH daemon listens. */
type SshAddress = { readonly host: string; readonly port: number };

/** The Courier distribution subsystem (RFC 4251 §6 private name; the domain is a placeholder). */
export const COURIER_SUBSYSTEM = 'courier-dist@courier.invalid';

/**
 * The SSH transport: a daemon (on loopback unless told) offering `sshrpc@k2r.org` (calls into
 * what the node exposes) to keys of the `sshrpc` role and the Courier distribution subsystem to
 * keys of the `dist` role, and a dialer that carries the Erlang distribution session
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
  private protocol: Protocol | undefined;
  /** Each role's table, as consulted at a login (a file re-read when it changed). */
  private authorized = new Map<SshRole, () => AuthorizedKeys>();
  /** The `peers` table, else the node name's host at `peerPort` (a bad name rejects, never throws). */
  private readonly resolver: Resolver<SshAddress> = { resolve: (peer) => Promise.resolve().then(() => [this.addressOf(peer)]) };

  constructor(private readonly opts: SshTransportOptions) {
    this.log = opts.log ?? silentLogger;
  }

  /** The port the daemon listens on (after start). */
  get port(): number | undefined {
    return this.boundPort;
  }

  private get hidden(): boolean {
    return this.opts.hidden ?? HIDDEN_BY_DEFAULT.ssh;
  }

  private get setupTimeMs(): number {
    return this.opts.handshakeTimeoutMs ?? DEFAULT_SETUP_TIME_MS;
  }

  async start(host: TransportHost): Promise<void> {
    this.host = host;
    this.log = (this.opts.log ?? host.log).child({ carrier: 'ssh' });
    const hostKey = keyText(this.opts.hostKey, 'host key');
    this.pool = new SshPool({
      self: host.name.name,
      privateKey: this.opts.userKey !== undefined ? keyText(this.opts.userKey, 'user key') : hostKey,
      trust: new HostTrust(this.opts, this.log),
      log: this.log,
    });
    this.protocol = this.protocolFor(undefined);
    if (this.opts.listen === false) return;
    const { roles, single } = roleKeys(this.opts.authorizedKeys);
    if (single) {
      this.log.warn(
        { authorizedKeys: typeof this.opts.authorizedKeys === 'string' ? this.opts.authorizedKeys : 'a table' },
        'one authorized keys file grants sshrpc only, no longer the distribution subsystem: give authorizedKeys: { sshrpc: FILE, dist: FILE } (--ssh-dist-keys FILE) for peers that may join as nodes',
      );
    }
    this.setRoles(roles);
    const subsystems = new Map<string, OfferedSubsystem>([
      [COURIER_SUBSYSTEM, { role: 'dist', handler: (ch, ctx) => this.acceptDist(new SshChannelCarrier(ch, ctx.remote), ctx) }],
    ]);
    if (this.opts.sshrpc !== false) {
      const p = this.opts.sshrpc ?? {};
      const services = host.services;
      const rpc = {
        host: services,
        allow: new AllowList(services, p),
        spawned: new SpawnedPids(p.maxSpawned, p.maxSpawnedBytes),
        maxFrame: p.maxFrame ?? 16 * 1024 * 1024,
        maxInFlight: p.maxInFlight ?? 1024,
        maxInFlightBytes: p.maxInFlightBytes,
      };
      subsystems.set(SSHRPC_SUBSYSTEM, { role: 'sshrpc', handler: (ch, ctx) => void new SshRpcServerChannel(new SshChannelCarrier(ch, ctx.remote), ctx, rpc) });
    }
    this.daemon = new SshDaemon({ ...this.opts.daemonLimits, hostKeys: [hostKey], authorizedKeys: () => this.tables(), subsystems, log: this.log });
    const bind = this.opts.listen?.host ?? '127.0.0.1';
    this.boundPort = await this.daemon.listen(bind, this.opts.listen?.port ?? 0);
    const keys = Object.fromEntries([...this.tables()].map(([role, t]) => [role, t.size]));
    this.log.info({ host: bind, port: this.boundPort, keys }, 'SSH daemon listening');
  }

  /**
   * Replace the authorized keys; new logins use them. One table means sshrpc only, as in the
   * options. (A file given by path is re-read when it changes.)
   */
  setAuthorizedKeys(keys: AuthorizedKeys | SshRoleKeys): void {
    this.setRoles(roleKeys(keys).roles);
  }

  private setRoles(roles: SshRoleKeys): void {
    const next = new Map<SshRole, () => AuthorizedKeys>();
    for (const [role, given] of Object.entries(roles) as Array<[SshRole, string | AuthorizedKeys | undefined]>) {
      if (given === undefined) continue;
      if (typeof given === 'string') {
        const file = new AuthorizedKeysFile(given, this.log.child({ role }));
        next.set(role, () => file.current());
      } else {
        if (!(given instanceof AuthorizedKeys)) throw new UsageError('SSH_ROLE', `authorizedKeys.${role} must be a file path or an AuthorizedKeys table`);
        for (const p of given.problems) this.log.warn({ role, problem: p }, 'authorized keys line skipped');
        next.set(role, () => given);
      }
    }
    this.authorized = next;
  }

  /** The tables of every role, as they are now. */
  private tables(): Map<string, AuthorizedKeys> {
    return new Map([...this.authorized].map(([role, current]) => [role, current()]));
  }

  /** The peer's SSH daemon, a distribution channel on the pooled SSH connection to it, and the Erlang distribution inside. */
  dialer(peer: Atom): Dialer<SshAddress> {
    const protocol = this.protocol;
    if (protocol === undefined) throw new CarrierError('NOT_STARTED', 'start the node before connecting');
    return {
      resolver: this.resolver,
      carrier: { dial: (addr, to, signal) => this.openChannel(to ?? peer, addr, signal) },
      protocol,
      setupTimeMs: this.setupTimeMs,
    };
  }

  /** An sshrpc client over the pooled SSH connection to `peer` (dialed when needed). */
  async rpc(peer: Atom, channels = 1): Promise<SshRpcClient> {
    const pool = this.pool;
    if (pool === undefined) throw new CarrierError('NOT_STARTED', 'start the node before connecting');
    const conn = await pool.get(peer, this.addressOf(peer), this.setupTimeMs);
    const carriers = await Promise.all(Array.from({ length: Math.max(1, channels) }, () => conn.openSubsystem(SSHRPC_SUBSYSTEM)));
    return SshRpcClient.over(carriers, { log: this.log });
  }

  /** SSH connections this node dialed that are open now. */
  get dialedConnections(): number {
    return this.pool?.size ?? 0;
  }

  async stop(): Promise<void> {
    this.pool?.closeAll();
    await this.daemon?.close();
  }

  private addressOf(peer: Atom): SshAddress {
    return peerAddress(peer, this.opts.peers, this.opts.peerPort ?? this.boundPort);
  }

  /** SSH set-up (host key, login) fails before any handshake: logged here with its code. */
  private async openChannel(peer: Atom, addr: SshAddress, signal: AbortSignal): Promise<Carrier> {
    const pool = this.pool;
    if (pool === undefined) throw new CarrierError('NOT_STARTED', 'start the node before connecting');
    try {
      const conn = await pool.get(peer, addr, this.setupTimeMs, signal);
      return await conn.openSubsystem(COURIER_SUBSYSTEM);
    } catch (err) {
      // An abandoned attempt (set-up deadline, teardown) is the pipeline's to log.
      if (!signal.aborted) {
        const e = err as Error & { code?: string };
        this.log.warn({ remote: `${addr.host}:${addr.port}`, peer: peer.name, direction: 'connect', code: e.code, err: e.message }, 'SSH distribution set-up failed');
      }
      throw err;
    }
  }

  private acceptDist(c: SshChannelCarrier, ctx: SubsystemContext): void {
    const host = this.host;
    if (host === undefined) return c.abort();
    host.accept(c, { protocol: this.protocolFor(ctx), setupTimeMs: this.setupTimeMs });
  }

  /** The distribution protocol; for an accepted channel, bound to its SSH login. */
  private protocolFor(ctx: SubsystemContext | undefined): Protocol {
    const host = this.host as TransportHost;
    return sshDistProtocol({
      self: host.name,
      creation: host.creation,
      hidden: this.hidden,
      netTicktime: this.opts.netTicktime,
      maxMessage: this.opts.maxMessage,
      busyLimit: this.opts.busyLimit,
      login: ctx?.user,
      onMismatch:
        ctx === undefined
          ? undefined
          : (claimed) =>
              ctx.log.warn({ user: ctx.user, claimed: claimed.name, code: 'NAME_MISMATCH' }, 'distribution refused: the handshake names another node than the SSH login'),
    });
  }
}
