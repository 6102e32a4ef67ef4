import { Atom, Pid, Ref, Tuple, atom, atoms, type Term } from '@courier/term';
import { Subject } from 'rxjs';
import { CarrierError, UsageError } from '../errors.js';
import { silentLogger, type Logger } from '../log.js';
import { ConnectionTable } from '../connections/connection-table.js';
import { ConnectionPipeline } from '../connections/pipeline.js';
import type { DistOp, Router } from '../seams/dist-op.js';
import type { PipelineSession, Session } from '../seams/session.js';
import type { ServiceHost, Transport, TransportHost } from '../seams/transport.js';
import { resolveDest, type AddressResolver, type Dest } from './dest.js';
import { nodedownAtom, reasonText } from './exit-reason.js';
import { BodyRunner } from './body-runner.js';
import { IdAllocator } from './ids.js';
import { pidKey, refKey } from './keys.js';
import { Process, type Body } from './process.js';
import { Signals } from './signals.js';
import { Timers } from './timers.js';
import { Exposed, type ExposedModule } from './exposed.js';
import { RemoteSpawns } from './remote-spawn.js';
import { installErpc } from './rpc.js';
import { serviceHostOf } from './service-host.js';
import { checkEncodable } from './encodable.js';
import type { MonitorNodesOptions } from './node-monitors.js';
import { NetKernel } from './net-kernel.js';
import { BusyPoll } from './busy-poll.js';
import type { NodeEvent, NodeOptions, NodesKind, ProcessExit, SpawnOptions } from './node-types.js';

export type { NodeEvent, NodeOptions, NodesKind, ProcessExit, SpawnOptions };

/**
 * A Courier node: its processes, registered names, timers, exposed modules and connections.
 * It is the router every session delivers into, and the host every transport runs on.
 */
export class Node implements Router {
  readonly name: Atom;
  /**
   * The incarnation in this node's pids and refs. Random at construction unless given; an Erlang
   * transport that registers with EPMD replaces it with the creation EPMD hands out (ALIVE2_X_RESP)
   * during start(), before any connection: see {@link adoptCreation}.
   */
  get creation(): number {
    return this.ids.creation;
  }
  readonly log: Logger;
  readonly events$ = new Subject<NodeEvent>();
  readonly exits$ = new Subject<ProcessExit>();
  readonly timers: Timers;
  readonly exposed = new Exposed();
  readonly dist: ConnectionTable;
  /** Dial, accept, handshake and hand-over for every carrier (connections/pipeline.ts). */
  readonly pipeline: ConnectionPipeline;
  /** @internal */ readonly procs = new Map<number, Process>();
  /** @internal */ readonly names = new Map<Atom, Process>();
  /** @internal */ readonly aliasTable = new Map<string, Process>();
  /** @internal */ readonly signals: Signals;
  private readonly ids: IdAllocator;
  private readonly remoteSpawns: RemoteSpawns;
  private readonly transports: readonly Transport[];
  /** Claims on string destinations, registered by transports (see dest.ts). */
  private readonly resolvers: AddressResolver[] = [];
  private started = false;
  /** The group leader given to processes this node spawns on other nodes (set by Erlang carriers). */
  groupLeader: Pid | undefined = undefined;
  /** Runs spawned processes' bodies and ends them as their bodies end (runtime/body-runner.ts). */
  private readonly bodies: BodyRunner;
  /** nodes/1, monitor_nodes, nodeup and nodedown (runtime/net-kernel.ts). */
  private readonly netKernel: NetKernel;
  /** Creations this node's pids may carry: the one at construction and the one adopted from EPMD. */
  private readonly creations = new Set<number>();
  private readonly creationFixed: boolean;
  /** Keeps the event loop polling for a while after traffic, when asked (runtime/busy-poll.ts). */
  private readonly busyPoll: BusyPoll;
  /** {@link NodeOptions.busyPollMicros} as given (0: off). */
  readonly busyPollMicros: number;

  constructor(opts: NodeOptions) {
    this.name = opts.name instanceof Atom ? opts.name : atom(opts.name);
    this.creationFixed = opts.creation !== undefined;
    this.log = (opts.log ?? silentLogger).child({ node: this.name.name });
    this.ids = new IdAllocator(this.name, opts.creation ?? 1 + Math.floor(Math.random() * 0xfffffffe));
    this.creations.add(this.ids.creation);
    this.busyPollMicros = opts.busyPollMicros ?? 0;
    this.busyPoll = new BusyPoll(this.busyPollMicros);
    this.timers = new Timers(this);
    this.signals = new Signals(this);
    this.bodies = new BodyRunner(this.log, (p, reason) => this.signals.terminate(p, reason));
    this.remoteSpawns = new RemoteSpawns(this);
    this.transports = opts.transports ?? [];
    const pick = opts.transportFor ?? ((_p: Atom, ts: readonly Transport[]) => ts[0]);
    this.dist = new ConnectionTable({
      self: this.name,
      log: this.log,
      autoConnect: opts.distAutoConnect ?? 'on',
      allow: opts.allow === undefined ? undefined : new Set(opts.allow),
      pickTransport: (peer) => pick(peer, this.transports),
      // Async, so a dialer that throws (unchanged) rejects the dial instead of throwing.
      dial: async (peer, transport, signal) => this.pipeline.dial(peer, transport.dialer(peer), signal),
      onUp: (peer, s) => this.netKernel.up(peer, s),
      onDown: (peer, reason, wasUp, s) => this.signals.nodeDown(peer, reason, wasUp, s),
    });
    this.pipeline = new ConnectionPipeline({
      router: this,
      arbiter: this.dist,
      attach: (s: PipelineSession) => this.dist.attach(s),
      current: (peer) => this.dist.session(peer),
      log: this.log,
    });
    this.netKernel = new NetKernel({
      self: this.name,
      log: this.log,
      dist: this.dist,
      events$: this.events$,
      deliver: (p, msg) => this.signals.message(p, msg),
      started: (s) => this.pipeline.started(s),
    });
    this.services = serviceHostOf(this);
    installErpc(this);
  }

  /** Start listening on every transport. */
  async start(): Promise<this> {
    if (this.started) return this;
    this.started = true;
    const pipeline = this.pipeline;
    const creationOf = (): number => this.creation;
    const host: TransportHost = {
      name: this.name,
      get creation() {
        return creationOf();
      },
      adoptCreation: (c) => this.adoptCreation(c),
      log: this.log,
      accept: (carrier, acceptor) => pipeline.accept(carrier, acceptor),
      dialAddress: (address, dialer, opts) => pipeline.dialAddress(address, dialer, opts),
      session: (peer) => this.dist.session(peer),
      connect: (peer) => this.connect(peer),
      services: this.services,
      get metrics() {
        return pipeline.metrics;
      },
    };
    for (const t of this.transports) await t.start(host);
    return this;
  }

  /** Stop: close connections, stop transports, kill every process with `shutdown`. */
  async stop(): Promise<void> {
    this.busyPoll.stop();
    this.pipeline.closeAll();
    this.dist.closeAll();
    for (const t of this.transports) await t.stop();
    for (const p of [...this.procs.values()]) this.signals.terminate(p, atoms.shutdown);
    this.timers.clear();
    this.events$.complete();
    this.exits$.complete();
  }

  /** The narrow facade protocol services run processes through (runtime/service-host.ts). */
  readonly services: ServiceHost;

  // ---- processes -------------------------------------------------------------------------

  /**
   * Spawns a process running `body` and returns its pid (erlang:spawn/1; link, name and trap_exit from
   * `opts`).
   */
  spawn(body: Body, opts?: SpawnOptions): Pid {
    const pid = this.ids.nextPid((id) => this.procs.has(id));
    const p = new Process(this, pid);
    this.procs.set(pid.id, p);
    if (opts !== undefined) {
      if (opts.trapExit) p.trapExit = true;
      if (opts.name !== undefined) this.register(opts.name, pid);
      if (opts.linkTo !== undefined) {
        p.addLink(opts.linkTo.pid);
        opts.linkTo.addLink(pid);
      }
    }
    this.bodies.start(p, body);
    return pid;
  }

  /** The local process behind `pid`, when alive. */
  lookup(pid: Pid): Process | undefined {
    if (pid.node !== this.name || !this.creations.has(pid.creation)) return undefined;
    const p = this.procs.get(pid.id);
    return p !== undefined && p.pid.serial === pid.serial ? p : undefined;
  }

  /** Whether `pid` belongs to this node. */
  isLocal(pid: Pid): boolean {
    return pid.node === this.name;
  }

  /** Whether the local process `pid` is alive (erlang:is_process_alive/1). */
  isAlive(pid: Pid): boolean {
    return this.lookup(pid) !== undefined;
  }

  /** The pids of the live local processes (erlang:processes/0). */
  processes(): Pid[] {
    return [...this.procs.values()].map((p) => p.pid);
  }

  /** @internal */ info(pid: Pid): Process | undefined {
    return this.lookup(pid);
  }

  /** A new unique reference (erlang:make_ref/0). */
  makeRef(): Ref {
    return this.ids.nextRef();
  }

  // ---- names -----------------------------------------------------------------------------

  /**
   * Registers the live local process `pid` as `name` (erlang:register/2); throws when the name is taken or
   * the process already has one.
   */
  register(name: Atom, pid: Pid): void {
    const p = this.lookup(pid);
    if (p === undefined) throw new UsageError('NOPROC', `cannot register ${name.name}: ${String(pid)} is not alive`);
    if (this.names.has(name)) throw new UsageError('NAME_TAKEN', `the name ${name.name} is already registered`);
    if (p.name !== undefined) throw new UsageError('ALREADY_NAMED', `${String(pid)} is already registered as ${p.name.name}`);
    if (name === atoms.undefined) throw new UsageError('BAD_NAME', 'the name undefined cannot be registered');
    this.names.set(name, p);
    p.name = name;
  }

  /** Removes the registered name; false when nothing had it. */
  unregister(name: Atom): boolean {
    const p = this.names.get(name);
    if (p === undefined) return false;
    this.names.delete(name);
    p.name = undefined;
    return true;
  }

  /** The local pid registered as `name`, if any (erlang:whereis/1). */
  whereis(name: Atom): Pid | undefined {
    return this.names.get(name)?.pid;
  }

  /** The locally registered names (erlang:registered/0). */
  registered(): Atom[] {
    return [...this.names.keys()];
  }

  // ---- messages --------------------------------------------------------------------------

  /** Send from outside any process (no sender pid). */
  send(dest: Dest, msg: Term): void {
    this.sendFrom(undefined, dest, msg);
  }

  /** @internal */
  sendFrom(from: Pid | undefined, dest: Dest, msg: Term): void {
    if (dest instanceof Pid) {
      if (dest.node === this.name) {
        const p = this.lookup(dest);
        if (p !== undefined) this.signals.message(p, msg);
      } else {
        this.sendRemote(from, dest.node, { op: 'send', from, to: dest, msg });
      }
      return;
    }
    const d = resolveDest(dest, this.resolvers);
    if (d.kind === 'port') {
      this.sendRemote(from, d.node, { op: 'port_send', from: from ?? this.anonymous(), to: d.port, msg });
    } else if (d.kind === 'name') {
      if (d.node === undefined || d.node === this.name) {
        const p = this.names.get(d.name);
        if (p !== undefined) this.signals.message(p, msg);
        else if (d.node === undefined) throw new UsageError('NOT_REGISTERED', `no process is registered as ${d.name.name} (badarg)`);
        return;
      }
      this.sendRemote(from, d.node, { op: 'reg_send', from: from ?? this.anonymous(), to: d.name, msg });
    } else if (d.kind === 'alias') {
      if (d.ref.node === this.name) {
        const p = this.aliasTable.get(refKey(d.ref));
        if (p !== undefined) this.signals.message(p, msg);
      } else {
        this.sendRemote(from, d.ref.node, { op: 'alias_send', from: from ?? this.anonymous(), alias: d.ref, msg });
      }
    } else {
      this.sendFrom(from, d.pid, msg);
    }
  }

  /**
   * A message to another node (docs/erlang.md, "Backpressure"). Refused at once, before a byte is
   * queued: a term with no Erlang form (UsageError BADARG; checked here while the connection is
   * still being set up, by the session once it is up) and a message to a connection with twice
   * its busy limit queued (CarrierError BUSY_DIST_PORT). A process that sends to a busy connection
   * is parked at its next await until it drains.
   */
  private sendRemote(from: Pid | undefined, peer: Atom, op: DistOp & { readonly msg: Term }): void {
    const s = this.dist.session(peer);
    if (s === undefined) {
      checkEncodable(op.msg, peer);
      this.dist.send(peer, op);
      return;
    }
    if (s.overloaded === true) {
      throw new CarrierError(
        'BUSY_DIST_PORT',
        `the connection to ${peer.name} is busy (twice its busy limit is queued): send from a process that awaits between sends (it is held back there until the connection drains), or await node.drained(peer) first`,
      );
    }
    if (!s.send(op) && from !== undefined && s.whenDrained !== undefined) {
      const p = this.lookup(from);
      if (p !== undefined) p.parkedOn = s as { whenDrained(): Promise<void> };
    }
  }

  /**
   * Resolves once the connection to `peer` is below its busy limit (at once when it is not busy,
   * or there is no connection): what a sender outside any process awaits after BUSY_DIST_PORT.
   */
  drained(peer: Atom | string): Promise<void> {
    const s = this.dist.session(typeof peer === 'string' ? atom(peer) : peer);
    return s?.whenDrained?.() ?? Promise.resolve();
  }

  /**
   * Let string destinations reach what `resolver` claims (a transport's address syntax, such as
   * AEMP's `nodeid#port`): `send('perl-node#port', msg)` then works from the node and from every
   * process. Resolvers are asked in the order added. Returns a function that removes it.
   */
  addAddressResolver(resolver: AddressResolver): () => void {
    this.resolvers.push(resolver);
    return () => {
      const i = this.resolvers.indexOf(resolver);
      if (i >= 0) this.resolvers.splice(i, 1);
    };
  }

  /** A stand-in sender pid for sends from outside any process (REG_SEND needs one). */
  private anonymous(): Pid {
    return new Pid(this.name, 0, 0, this.creation);
  }

  // ---- links, exits, monitors (called through Process) -------------------------------------

  /** @internal */ linkFrom(p: Process, pid: Pid): void {
    this.signals.link(p, pid);
  }
  /** @internal */ unlinkFrom(p: Process, pid: Pid): void {
    this.signals.unlink(p, pid);
  }
  /** exit/2 from `from` (a process or none) to `to`. */
  exitSignal(from: Pid | undefined, to: Pid, reason: Term): void {
    this.signals.exit2(from ?? this.anonymous(), to, reason);
  }
  /** @internal */ monitorFrom(p: Process, target: Pid | Atom | Tuple | { name: Atom | string; node: Atom | string }): Ref {
    return this.signals.monitor(p, target);
  }
  /** @internal */ demonitorFrom(p: Process, ref: Ref): boolean {
    return this.signals.demonitor(p, ref);
  }
  /** @internal */ monitorNodeFrom(p: Process, node: Atom, on: boolean): void {
    this.signals.monitorNode(p, node, on);
  }

  /** @internal */ makeAlias(p: Process): Ref {
    const ref = this.makeRef();
    const key = refKey(ref);
    this.aliasTable.set(key, p);
    (p.aliases ??= new Set()).add(key);
    return ref;
  }
  /** @internal */ dropAlias(p: Process, ref: Ref): boolean {
    const key = refKey(ref);
    if (this.aliasTable.get(key) !== p) return false;
    this.aliasTable.delete(key);
    p.aliases?.delete(key);
    return true;
  }

  // ---- distribution ----------------------------------------------------------------------

  /**
   * erlang:nodes/1: connected peers, visible ones by default. `hidden`, `connected` (visible and
   * hidden; `all` is the same, kept for existing code), `this` (this node), `known` (this node and
   * every node it has been connected to; OTP also counts nodes merely referred to by a pid and
   * collects them, Courier keeps each connected node). A list is the union, in OTP's order.
   */
  nodes(which: NodesKind | readonly NodesKind[] = 'visible'): Atom[] {
    return this.netKernel.nodes(which);
  }

  /**
   * net_kernel:monitor_nodes/1,2 for process `p`: `{nodeup, N}` / `{nodedown, N}` (no options) or
   * `{nodeup, N, Info}` / `{nodedown, N, Info}` with OTP's options (runtime/node-monitors.ts).
   * `on = false` drops the subscriptions with the same options.
   */
  monitorNodes(p: Process | Pid, on: boolean, opts?: MonitorNodesOptions): void {
    const proc = p instanceof Pid ? this.lookup(p) : p;
    if (proc === undefined || !proc.alive) throw new UsageError('NOPROC', `monitorNodes: ${String(p instanceof Pid ? p : p.pid)} is not a live process of this node`);
    this.netKernel.subscribe(proc, on, opts);
  }

  /**
   * erlang:disconnect_node/1: close the connection to `peer`; true if there was one up, false
   * otherwise. Here the nodedown reason is `disconnect`; the peer sees `connection_closed`.
   */
  disconnectNode(peer: Atom | string): boolean {
    return this.disconnect(peer);
  }

  /**
   * Take the creation EPMD handed out (called by an Erlang transport from start(), before it
   * listens for or makes connections). Pids and refs made from now on carry it; those made before
   * keep the old one and still reach their processes (ids are never reused between the two).
   * Ignored when the node was built with an explicit `creation`.
   */
  adoptCreation(creation: number): void {
    if (this.creationFixed || creation === this.creation) return;
    if (!Number.isInteger(creation) || creation <= 0 || creation > 0xffffffff) {
      throw new UsageError('BAD_CREATION', `creation ${creation} is not in 1..2^32-1`);
    }
    this.log.debug({ from: this.creation, to: creation }, 'creation from EPMD');
    this.ids.setCreation(creation);
    this.creations.add(creation);
  }

  /** @internal A session that had been up went down: monitor_nodes subscribers and events$. */
  reportNodeDown(peer: Atom, reason: Term, s: Session | undefined): void {
    this.netKernel.down(peer, reason, s);
  }

  /** Connect to `peer` now; true when a session is up (like net_kernel:connect_node/1). */
  connect(peer: Atom | string): Promise<boolean> {
    return this.dist.connect(typeof peer === 'string' ? atom(peer) : peer);
  }

  /** Same as {@link disconnectNode}. */
  disconnect(peer: Atom | string): boolean {
    const a = typeof peer === 'string' ? atom(peer) : peer;
    const s = this.dist.session(a);
    if (s === undefined) return false;
    // Down first, with our reason: the session's own report of the close is then ignored.
    this.dist.down(a, DISCONNECT, s);
    s.close('disconnect_node');
    return true;
  }

  /** Expose functions as an Erlang-callable module (rpc, erpc, spawn_request target). */
  expose(module: string | Atom, fns: ExposedModule, opts?: { readonly internal?: boolean }): void {
    this.exposed.add(typeof module === 'string' ? atom(module) : module, fns, opts);
  }

  /** Router: an operation arrived from `peer`. */
  route(op: DistOp, peer: Atom): void {
    this.busyPoll.touch();
    this.signals.route(op, peer);
  }

  /** Router: the session to `peer` went away. */
  nodeDown(peer: Atom, reason: Term, session?: Session): void {
    this.dist.down(peer, reason, session);
  }

  /** @internal `reqId`: the request id (and monitor ref) to use, made by the caller. */
  spawnRequest(p: Process, node: Atom, module: Atom, fun: Atom, args: Term[], opts: { link?: boolean; monitor?: boolean }, reqId?: Ref): Promise<[Pid, Ref | undefined]> {
    if (!this.dist.isUp(node)) checkEncodable(args, node);
    return this.remoteSpawns.request(p, node, module, fun, args, opts, reqId);
  }

  /** @internal erlang:spawn_request_abandon/1 (runtime/remote-spawn.ts). */
  spawnRequestAbandon(reqId: Ref): boolean {
    return this.remoteSpawns.abandon(reqId);
  }

  /** @internal */ remoteSpawnReply(op: DistOp & { op: 'spawn_reply' }): void {
    this.remoteSpawns.reply(op);
  }

  /** @internal */ remoteSpawnsDown(peer: Atom): void {
    this.remoteSpawns.nodeDown(peer);
  }

  /** @internal */ emitExit(p: Process, reason: Term): void {
    if (this.exits$.observed) this.exits$.next({ pid: p.pid, name: p.name, reason });
  }

  /** @internal */ nodedownMessage(node: Atom): Tuple {
    return new Tuple([nodedownAtom, node]);
  }

  toString(): string {
    return this.name.name;
  }
}

const DISCONNECT = atom('disconnect');

export { pidKey, reasonText };
