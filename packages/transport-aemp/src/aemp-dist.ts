import type { Server } from 'node:net';
import type { SecureContext } from 'node:tls';
import { atom, atoms, type Atom } from '@courier/term';
import {
  AEMP_CONNECT_TIMEOUT_MS,
  AEMP_SETUP_TIME_MS,
  CarrierError,
  HandshakeError,
  ResolveError,
  UsageError,
  silentLogger,
  type Acceptor,
  type Dialer,
  type Logger,
  type Resolver,
  type Transport,
  type TransportHost,
  type Upgrade,
} from '@courier/core';
import { TcpCarrier } from '@courier/stream';
import { addressResolver } from './address-resolver.js';
import { AempProtocol } from './aemp-protocol.js';
import { dialTcp, isOwnSeed, listenTcp, parseHostPort } from './dial.js';
import { OWN_NODE_ID } from './handshake/aemp-handshake.js';
import { FRAMINGS, type Framing } from './framing/codec.js';
import { AempRegistry } from './global/registry.js';
import { Seeds } from './seeds.js';
import { AempSession } from './session/aemp-session.js';
import { NodeServices } from './session/node-services.js';
import { secureContext, startTls, type AempTlsOptions } from './tls.js';
import { ownValue } from './values/own-key.js';

/** Options of {@link aemp}: the node id, the network's secret, binds and seeds, framings, TLS, and limits. */
export interface AempOptions {
  /** The shared secret of the network (Perl's `secret`). Never logged. */
  readonly secret: string;
  /** Where to listen, `host:port` (Perl's `binds`; port 0 or `*`: any). Default `127.0.0.1:0`. */
  readonly binds?: readonly string[];
  /**
   * The addresses published as this node's listeners (`'l`) instead of the ones bound: for a node
   * behind NAT or in a container. Default: the bound addresses, and for a wildcard bind
   * (`*:port`, `0.0.0.0:port`, `[::]:port`) the host's interface addresses as Perl lists them.
   */
  readonly advertise?: readonly string[];
  /** Seed nodes to join, `host:port` (Perl's `seeds`); a host name, `localhost` or an address that is this node makes it global. */
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
  /** Resolve, connect and handshake must finish within this. Default AEMP_SETUP_TIME_MS (Perl: monitor_timeout, 30 s). */
  readonly handshakeTimeoutMs?: number;
  /** A TCP connect must succeed within this, per address. Default AEMP_CONNECT_TIMEOUT_MS (Perl: connect_interval, 2 s). */
  readonly connectTimeoutMs?: number;
  /** The longest wait between two dials of a seed or a global node that is gone (default 30 s, Perl's monitor_timeout). */
  readonly retryMaxMs?: number;
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

/** The set-up deadline's default (kept under its old name); see core's AEMP_SETUP_TIME_MS. */
export const DEFAULT_AEMP_HANDSHAKE_TIMEOUT_MS = AEMP_SETUP_TIME_MS;

/** The AEMP carrier as a node transport: `new Node({ name: 'my-node', transports: [aemp({ secret })] })`. */
export function aemp(opts: AempOptions): AempTransport {
  return new AempTransport(opts);
}

/**
 * Courier in an AnyEvent::MP 2.x network: listens on `binds`, joins `seeds`, and declares how
 * the node's connection pipeline reaches a peer by node id (addresses from `peers`, else the
 * registry's `'l` via g_find; TCP; the AEMP handshake and session, TLS as an upgrade). Makes
 * `nodeid#port` strings destinations of `send`, and exposes the global registry as `registry`.
 */
export class AempTransport implements Transport {
  readonly name = 'aemp';
  private host: TransportHost | undefined;
  private log: Logger = silentLogger;
  private reg: AempRegistry | undefined;
  private seeds: Seeds | undefined;
  /** How every peer is reached (made at start: the protocol needs the node). */
  private dial: Dialer<string> | undefined;
  private readonly servers: Server[] = [];
  /** Our listener addresses as others reach them. */
  readonly listening: string[] = [];
  /** Current sessions by peer node id (those the node made its peers' connections). */
  private readonly byPeer = new Map<string, AempSession>();
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
      services: host.services,
      log: this.log,
      sessions: () => this.byPeer,
      seedPeers: () => this.seeds?.seedPeers() ?? [],
      seedFailures: () => this.seeds?.failures() ?? [],
      connect: (peer) => void host.connect(atom(peer)).catch(() => undefined),
      queryTimeoutMs: this.opts.queryTimeoutMs ?? 5000,
      retryMaxMs: this.opts.retryMaxMs ?? 30_000,
    });
    this.reg = reg;
    const o = this.opts;
    const protocol = new AempProtocol({
      self: host.name,
      secret: o.secret,
      framings: this.framings,
      allowCleartext: o.allowCleartext,
      tls: this.tlsContext !== undefined,
      allowTlsAnon: o.tls?.allowAnon,
      extended: o.extended,
      maxPacketBytes: o.maxPacketBytes,
      whereis: (name) => host.services.whereis(name),
      // exit(Pid, normal) as if the process called it itself: it ends normally unless it traps exits.
      endNormally: (pid) => host.services.node.exitSignal(pid, pid, atoms.normal),
      service: new NodeServices(host.services, reg, this.log),
      up: (s) => this.up(s),
      down: (s) => this.down(s),
    });
    const connectMs = o.connectTimeoutMs ?? AEMP_CONNECT_TIMEOUT_MS;
    this.dial = {
      resolver: this.resolver,
      carrier: { dial: (address, _peer, signal) => dialTcp(address, connectMs, signal) },
      protocol,
      setupTimeMs: this.setupTimeMs,
      upgrade: this.upgrade,
    };
    const acceptor: Acceptor = { protocol, setupTimeMs: this.setupTimeMs, upgrade: this.upgrade };
    const bound: Array<{ host: string; port: number }> = [];
    for (const bind of o.binds ?? ['127.0.0.1:0']) {
      const { server, addresses } = await listenTcp(bind, (socket) => host.accept(new TcpCarrier(socket, 'aemp'), acceptor));
      this.servers.push(server);
      this.listening.push(...addresses);
      const a = server.address();
      bound.push({ host: parseHostPort(bind).host, port: typeof a === 'object' && a !== null ? a.port : 0 });
    }
    if (o.advertise !== undefined) this.listening.splice(0, this.listening.length, ...o.advertise);
    reg.setListeners(this.listening);
    const seeds = o.seeds ?? [];
    // A seed that names this node (Kernel.pm seed_connect: "if we connect to ourselves, nuke this seed").
    const own = await Promise.all(seeds.map((s) => isOwnSeed(s, bound, this.listening)));
    if (o.global === true || own.some((x) => x)) reg.becomeGlobal();
    this.removeResolver = host.services.addAddressResolver(addressResolver(host.name));
    this.seeds = new Seeds(
      seeds.filter((_s, i) => !own[i]),
      (address) => this.dialSeed(host, address),
      this.log,
      {
        seedUp: (peer) => {
          const s = this.byPeer.get(peer);
          if (s !== undefined) reg.seedUp(s);
        },
        self: () => reg.becomeGlobal(),
        listener: (address) => reg.listenerAt(address),
      },
      500,
      o.retryMaxMs ?? 30_000,
    );
    this.seeds.start();
    this.log.info({ listening: this.listening, seeds }, 'aemp listening');
  }

  /** Resolves once a master is up for the registry (at once for a global node or one without seeds). */
  attached(timeoutMs = 10_000): Promise<void> {
    if ((this.opts.seeds?.length ?? 0) === 0) return Promise.resolve();
    return this.registry.whenAttached(timeoutMs);
  }

  /** Every peer is reached the same way: its addresses, TCP, AEMP (TLS when both have a certificate). */
  dialer(_peer: Atom): Dialer<string> {
    return this.running();
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.removeResolver?.();
    this.seeds?.stop();
    this.reg?.stop();
    await Promise.all(this.servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
  }

  // ---- connections ---------------------------------------------------------------------------

  /** A node id's listener addresses: the `peers` option, else the registry (when it can ask). */
  private readonly resolver: Resolver<string> = {
    resolve: async (peer) => {
      // A node id may come from a peer (a `'g` entry, a port id): only the table's own entries count.
      const known = this.opts.peers !== undefined ? ownValue(this.opts.peers, peer.name) : undefined;
      const canAsk = this.registry.isGlobal || (this.opts.seeds?.length ?? 0) > 0;
      const addrs = known ?? (canAsk ? await this.registry.find(peer.name).catch(() => null) : null);
      if (addrs === null || addrs.length === 0) throw new ResolveError('NO_ADDRESS', `no listener address is known for node ${peer.name}`);
      return addrs;
    },
  };

  /**
   * A seed, dialed by address: its session becomes the peer's connection unless one is up
   * already; then that one counts as the seed's (the new one is closed).
   */
  private async dialSeed(host: TransportHost, address: string): Promise<string> {
    try {
      const { session } = await host.dialAddress(address, this.running(), {
        identified: (peer) => this.seeds?.identify(address, peer.name),
      });
      return session.peer.name;
    } catch (err) {
      // Our own greeting came back: the seed is this node, whatever its address said.
      if (err instanceof HandshakeError && err.code === 'NOT_ALLOWED' && err.message.includes(OWN_NODE_ID)) this.seeds?.dropSelf(address);
      throw err;
    }
  }

  private running(): Dialer<string> {
    if (this.dial === undefined || this.stopped) throw new CarrierError('NOT_RUNNING', 'the AEMP transport is not running');
    return this.dial;
  }

  /** `session` is its peer's connection now. */
  private up(session: AempSession): void {
    const peer = session.peer.name;
    if (session.isClosed || this.byPeer.get(peer) === session) return;
    this.byPeer.set(peer, session);
    this.reg?.peerUp(session);
    this.seeds?.peerUp(peer);
  }

  private down(session: AempSession): void {
    const peer = session.peer.name;
    if (this.byPeer.get(peer) !== session) return;
    this.byPeer.delete(peer);
    this.reg?.peerDown(peer);
    this.seeds?.peerDown(peer);
  }

  private readonly upgrade: Upgrade = (how, carrier, rest) =>
    this.tlsContext === undefined
      ? Promise.reject(new CarrierError('UPGRADE_UNSUPPORTED', 'no TLS certificate configured'))
      : startTls(this.tlsContext, how, carrier, rest, this.setupTimeMs);

  private get setupTimeMs(): number {
    return this.opts.handshakeTimeoutMs ?? AEMP_SETUP_TIME_MS;
  }
}
