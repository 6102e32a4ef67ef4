import type { Server } from 'node:net';
import type { Atom } from '@courier/term';
import { CarrierError, HandshakeError, ResolveError, UsageError, driveHandshake, silentLogger, type Carrier, type Logger, type Session, type Transport, type TransportHost } from '@courier/core';
import { TcpCarrier } from '@courier/transport-tcp';
import { dialTcp, listenTcp } from './dial.js';
import { FRAMINGS, type Framing } from './framing/codec.js';
import { AempRegistry } from './global/registry.js';
import { AempHandshake } from './handshake/aemp-handshake.js';
import { Seeds } from './seeds.js';
import { AempSession } from './session/aemp-session.js';
import { NodeServices } from './session/node-services.js';
import { addressResolver } from './address-resolver.js';
import { secureContext, startTls, type AempTlsOptions } from './tls.js';
import type { SecureContext } from 'node:tls';

export interface AempOptions {
  /** The shared secret of the network (Perl's `secret`). Never logged. */
  readonly secret: string;
  /** Where to listen, `host:port` (Perl's `binds`; port 0 or `*`: any). Default `127.0.0.1:0`. */
  readonly binds?: readonly string[];
  /** Seed nodes to join, `host:port` (Perl's `seeds`). */
  readonly seeds?: readonly string[];
  /** Addresses of node ids known up front (otherwise asked of the master with g_find). */
  readonly peers?: Readonly<Record<string, readonly string[]>>;
  /** Framings we read, preferred first (default json, cbor: Courier's JSON path is the faster). */
  readonly framings?: readonly Framing[];
  /** Run the global registry service from the start (otherwise: when a seed is ourselves or a peer sends g_slave). */
  readonly global?: boolean;
  /** Accept peers that authenticate with `cleartext` (off by default: it shows the secret on the wire). */
  readonly allowCleartext?: boolean;
  /** This node's certificate: TLS with peers that have one too (`tls_sha3_512`). */
  readonly tls?: AempTlsOptions;
  /** The handshake must finish within this (Perl: monitor_timeout, 30 s). */
  readonly handshakeTimeoutMs?: number;
  /** A TCP connect must succeed within this, per address (Perl: connect_interval, 2 s). */
  readonly connectTimeoutMs?: number;
  /** Registry queries wait this long for the master (default 5 s). */
  readonly queryTimeoutMs?: number;
  /** Largest packet accepted; a bigger one closes the connection. Default 64 MiB. */
  readonly maxPacketBytes?: number;
  /**
   * Speak the extended value mapping with Courier peers (default true). False: every peer is
   * spoken to as a Perl node would be (the natural mapping; links, aliases and remote spawn do
   * not cross).
   */
  readonly extended?: boolean;
}

export const DEFAULT_AEMP_HANDSHAKE_TIMEOUT_MS = 30_000;

/** The AEMP carrier as a node transport: `new Node({ name: 'my-node', transports: [aemp({ secret })] })`. */
export function aemp(opts: AempOptions): AempTransport {
  return new AempTransport(opts);
}

/**
 * Courier in an AnyEvent::MP 2.x network: listens on `binds`, joins `seeds`, dials peers by node
 * id (addresses from `peers`, else the registry's `'l` via g_find), runs the AEMP handshake on
 * every connection and binds sessions to the node. Makes `nodeid#port` strings destinations of
 * `send`, and exposes the global registry as `registry`.
 */
export class AempTransport implements Transport {
  readonly name = 'aemp';
  private host: TransportHost | undefined;
  private log: Logger = silentLogger;
  private reg: AempRegistry | undefined;
  private services: NodeServices | undefined;
  private seeds: Seeds | undefined;
  private readonly servers: Server[] = [];
  /** Our listener addresses as others reach them. */
  readonly listening: string[] = [];
  private readonly byPeer = new Map<string, AempSession>();
  private readonly sessions = new Set<AempSession>();
  private readonly attempts = new Set<AbortController>();
  private readonly framings: readonly Framing[];
  private removeResolver: (() => void) | undefined;
  private readonly tlsContext: SecureContext | undefined;
  private stopped = false;

  constructor(private readonly opts: AempOptions) {
    if (typeof opts.secret !== 'string' || opts.secret === '') throw new UsageError('BAD_OPTIONS', 'an AEMP node needs a shared secret');
    this.framings = opts.framings ?? FRAMINGS;
    this.tlsContext = opts.tls !== undefined ? secureContext(opts.tls) : undefined;
  }

  /** The global registry (db_set, db_reg, db_keys, db_mon, …). Available once started. */
  get registry(): AempRegistry {
    if (this.reg === undefined) throw new UsageError('NOT_STARTED', 'the AEMP transport has not started');
    return this.reg;
  }

  async start(host: TransportHost): Promise<void> {
    if (this.host !== undefined) throw new UsageError('ALREADY_STARTED', 'this AEMP transport already runs for a node');
    this.host = host;
    this.log = host.log.child({ transport: 'aemp' });
    const reg = new AempRegistry({
      self: host.name,
      node: host.node,
      log: this.log,
      sessions: () => this.byPeer,
      seedPeers: () => this.seeds?.seedPeers() ?? [],
      connect: (peer) => void host.node.connect(peer),
      queryTimeoutMs: this.opts.queryTimeoutMs ?? 5000,
    });
    this.reg = reg;
    this.services = new NodeServices(host.node, reg, this.log);
    for (const bind of this.opts.binds ?? ['127.0.0.1:0']) {
      const { server, address } = await listenTcp(bind, (socket) => this.accepted(host, new TcpCarrier(socket, 'aemp')));
      this.servers.push(server);
      this.listening.push(address);
    }
    reg.setListeners(this.listening);
    const seeds = this.opts.seeds ?? [];
    if (this.opts.global === true || seeds.some((s) => this.listening.includes(s))) reg.becomeGlobal();
    this.removeResolver = host.node.addAddressResolver(addressResolver(host.name));
    this.seeds = new Seeds(
      seeds.filter((s) => !this.listening.includes(s)),
      (address) => this.dialSeed(host, address),
      this.log,
    );
    this.seeds.start();
    this.log.info({ listening: this.listening, seeds }, 'aemp listening');
  }

  /** Resolves once a master is up for the registry (at once for a global node or one without seeds). */
  attached(timeoutMs = 10_000): Promise<void> {
    if ((this.opts.seeds?.length ?? 0) === 0) return Promise.resolve();
    return this.registry.whenAttached(timeoutMs);
  }

  async connect(peer: Atom, signal?: AbortSignal): Promise<Session> {
    const host = this.host;
    if (host === undefined || this.stopped) throw new CarrierError('NOT_RUNNING', 'the AEMP transport is not running');
    const known = this.opts.peers?.[peer.name];
    const canAsk = this.registry.isGlobal || (this.opts.seeds?.length ?? 0) > 0;
    const addrs = known ?? (canAsk ? await this.registry.find(peer.name).catch(() => null) : null);
    if (addrs === null || addrs.length === 0) throw new ResolveError('NO_ADDRESS', `no listener address is known for node ${peer.name}`);
    let last: unknown;
    for (const address of addrs) {
      if (signal?.aborted) break;
      try {
        const session = await this.dial(host, address, peer, signal, true);
        setImmediate(() => {
          if (host.node.dist.session(peer) === session) this.up(session);
        });
        return session;
      } catch (err) {
        if (err instanceof HandshakeError) throw err;
        last = err;
      }
    }
    throw last instanceof Error ? last : new CarrierError('UNREACHABLE', `cannot reach ${peer.name}`);
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.removeResolver?.();
    this.seeds?.stop();
    for (const ac of [...this.attempts]) ac.abort(new CarrierError('STOPPED', 'the transport stopped'));
    for (const s of [...this.sessions]) s.close('transport stopping');
    await Promise.all(this.servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
  }

  // ---- connections ---------------------------------------------------------------------------

  /** TCP + handshake as initiator; the session is not started (the caller makes it current first). */
  private async dial(host: TransportHost, address: string, peer: Atom | undefined, signal?: AbortSignal, waitOnNok = false): Promise<AempSession> {
    const ac = new AbortController();
    const forward = (): void => ac.abort(signal?.reason);
    signal?.addEventListener('abort', forward, { once: true });
    this.attempts.add(ac);
    try {
      const carrier = await dialTcp(address, this.opts.connectTimeoutMs ?? 2000, ac.signal);
      const hs = this.handshake(host, 'initiator', carrier, peer);
      const hc = await driveHandshake(carrier, hs, { timeoutMs: this.timeoutMs(), signal: ac.signal, waitOnNok, upgrade: this.upgrade });
      const session = this.session(host, hc.carrier, hc.result);
      setImmediate(() => session.start(hc.handover));
      return session;
    } finally {
      this.attempts.delete(ac);
      signal?.removeEventListener('abort', forward);
    }
  }

  /** A seed, dialed by address: its session becomes the peer's connection unless one is up already. */
  private async dialSeed(host: TransportHost, address: string): Promise<string> {
    const session = await this.dial(host, address, undefined);
    const peer = session.peer.name;
    this.seeds?.identify(address, peer);
    const current = this.byPeer.get(peer);
    if (current !== undefined) {
      session.close('already connected');
      this.reg?.peerUp(current, true);
    } else {
      host.attach(session);
      if (host.node.dist.session(session.peer) === session) this.up(session);
    }
    return peer;
  }

  private accepted(host: TransportHost, carrier: Carrier): void {
    if (this.stopped) return carrier.abort();
    const ac = new AbortController();
    this.attempts.add(ac);
    const hs = this.handshake(host, 'acceptor', carrier, undefined);
    driveHandshake(carrier, hs, { timeoutMs: this.timeoutMs(), signal: ac.signal, upgrade: this.upgrade }).then(
      ({ result, handover, carrier: c }) => {
        this.attempts.delete(ac);
        if (this.stopped) return c.abort();
        const session = this.session(host, c, result);
        host.attach(session);
        session.start(handover);
        if (host.node.dist.session(session.peer) === session) this.up(session);
      },
      (err: unknown) => {
        this.attempts.delete(ac);
        if (err instanceof HandshakeError && (err.code === 'NOK' || err.code === 'ALREADY_CONNECTED')) {
          this.log.debug({ remote: carrier.remote, code: err.code }, 'incoming connection yielded');
        } else if (err instanceof HandshakeError || err instanceof CarrierError) {
          this.log.warn({ remote: carrier.remote, code: err.code, err: err.message }, 'incoming handshake failed');
        } else {
          this.log.error({ remote: carrier.remote, err }, 'incoming handshake crashed');
        }
      },
    );
  }

  private handshake(host: TransportHost, role: 'initiator' | 'acceptor', carrier: Carrier, peer: Atom | undefined): AempHandshake {
    return new AempHandshake({
      role,
      self: host.name,
      secret: this.opts.secret,
      framings: this.framings,
      allowCleartext: this.opts.allowCleartext,
      tls: this.tlsContext !== undefined,
      allowTlsAnon: this.opts.tls?.allowAnon,
      peer,
      arbiter: role === 'acceptor' ? host.arbiter : undefined,
      kv: { provider: 'courier-0.1', peeraddr: carrier.remote },
      courier: this.opts.extended,
    });
  }

  private session(host: TransportHost, carrier: Carrier, result: import('@courier/core').HandshakeResult): AempSession {
    const session: AempSession = new AempSession({
      carrier,
      handshake: result,
      router: host.router,
      self: host.name,
      whereis: (name) => host.node.whereis(name),
      service: this.services as NodeServices,
      log: this.log.child({ peer: result.peer.name }),
      maxPacketBytes: this.opts.maxPacketBytes,
      onClosed: (s) => this.down(s),
    });
    this.sessions.add(session);
    return session;
  }

  /** `session` is its peer's connection now. */
  private up(session: AempSession): void {
    const peer = session.peer.name;
    if (session.isClosed || this.byPeer.get(peer) === session) return;
    this.byPeer.set(peer, session);
    this.seeds?.peerUp(peer);
    this.reg?.peerUp(session, this.seeds?.isSeed(peer) ?? false);
  }

  private down(session: AempSession): void {
    this.sessions.delete(session);
    const peer = session.peer.name;
    if (this.byPeer.get(peer) !== session) return;
    this.byPeer.delete(peer);
    this.reg?.peerDown(peer);
    this.seeds?.peerDown(peer);
  }

  private readonly upgrade = (how: string, carrier: Carrier, rest: Uint8Array): Promise<Carrier> =>
    this.tlsContext === undefined ? Promise.reject(new CarrierError('UPGRADE_UNSUPPORTED', 'no TLS certificate configured')) : startTls(this.tlsContext, how, carrier, rest, this.timeoutMs());

  private timeoutMs(): number {
    return this.opts.handshakeTimeoutMs ?? DEFAULT_AEMP_HANDSHAKE_TIMEOUT_MS;
  }
}
