import type { Atom, Pid, Term } from '@courier/term';
import type { Observable } from 'rxjs';
import type { Logger } from '../log.js';
import type { Carrier, CarrierFactory } from './carrier.js';
import type { Handshake, HandshakeArbiter, HandshakeResult } from './handshake.js';
import type { Resolver } from './resolver.js';
import type { Router } from './dist-op.js';
import type { PipelineSession, Session } from './session.js';
import type { Dest, AddressResolver } from '../runtime/dest.js';
import type { Exposed } from '../runtime/exposed.js';
import type { Body } from '../runtime/process.js';
import type { Node } from '../runtime/node.js';

/**
 * A transport is declared from parts (a resolver, a carrier factory, a protocol: handshake and
 * session) and the node's connection pipeline (core/src/connections/pipeline.ts) runs them:
 * dial, accept, set-up deadline, handshake drive, hand-over, attach, nodeup/nodedown, teardown.
 * What a transport itself does is what differs between carriers: listening, registrations
 * (EPMD), address tables, the services its peers expect.
 */
export interface Transport {
  /** `tcp`, `tls`, `ssh`, `aemp`, `memory`, `ws`, … */
  readonly name: string;
  /** Start listening (hand each new carrier to `host.accept`), register, install services. */
  start(host: TransportHost): Promise<void>;
  /** How to reach `peer`. Throws UsageError when the configuration cannot reach it at all. */
  dialer(peer: Atom): Dialer;
  /** Stop listening and release what start made; the pipeline closes the connections. */
  stop(): Promise<void>;
}

/** Where a peer is, how to get bytes to it, and what to speak once there. */
export interface Dialer<Address = unknown> {
  readonly resolver: Resolver<Address>;
  readonly carrier: CarrierFactory<Address>;
  readonly protocol: Protocol;
  /** Resolve, dial and handshake must all finish within this (OTP's net_setuptime). */
  readonly setupTimeMs: number;
  /** Performs a handshake's `upgrade` action (STARTTLS-style); see `DriveOptions.upgrade`. */
  readonly upgrade?: Upgrade;
}

/** How an accepted carrier is brought up. */
export interface Acceptor {
  readonly protocol: Protocol;
  readonly setupTimeMs: number;
  readonly upgrade?: Upgrade;
}

/**
 * Swaps a carrier for another mid-handshake (`how` names the upgrade, e.g. `tls`); `rest` are the bytes read
 * past the upgrade point.
 */
export type Upgrade = (how: string, carrier: Carrier, rest: Uint8Array) => Promise<Carrier>;

/** The handshake and the session of one wire protocol (Erlang distribution, AEMP). */
export interface Protocol {
  /** A fresh handshake for one connection attempt. `peer` is the node dialed, when known. */
  handshake(attempt: HandshakeAttempt): Handshake;
  /** The session for a finished handshake; started by the pipeline once the node records it. */
  session(carrier: Carrier, result: HandshakeResult, context: SessionContext): PipelineSession;
  /** The session became its peer's current connection (after any simultaneous-connect arbitration). */
  sessionUp?(session: Session): void;
}

/**
 * What a protocol is given to start one handshake: the role, the carrier, the peer dialed, and the arbiter
 * of simultaneous connects.
 */
export interface HandshakeAttempt {
  readonly role: 'initiator' | 'acceptor';
  /** Initiator: the node dialed (absent when dialing an address, e.g. an AEMP seed). */
  readonly peer?: Atom;
  readonly carrier: Carrier;
  /** Acceptor: net_kernel's arbitration of simultaneous connects. */
  readonly arbiter: HandshakeArbiter;
}

/** What a protocol is given to build a session: the node's router and a logger for the connection. */
export interface SessionContext {
  readonly router: Router;
  /** A child logger for this connection (`peer` bound). */
  readonly log: Logger;
}

/** What a transport sees of the node that runs it: the pipeline's doors, and a narrow service facade. */
export interface TransportHost {
  readonly name: Atom;
  /** The node's creation now (it changes once, when an Erlang transport adopts EPMD's). */
  readonly creation: number;
  /**
   * Make `creation` (EPMD's ALIVE2_X_RESP) the node's creation for pids and refs made from now on.
   * Called by a transport during start(), before it accepts or dials. Optional for hosts that
   * have no use for it (tests).
   */
  adoptCreation?(creation: number): void;
  readonly log: Logger;
  /** Bring up an accepted carrier: handshake within the deadline, then attach the session. */
  accept(carrier: Carrier, acceptor: Acceptor): void;
  /**
   * Dial one address whose node is not known beforehand (an AEMP seed). The session becomes its
   * peer's connection, unless one was up already: then that one is returned (`fresh` false) and
   * the new one closed. `identified` runs once the handshake named the peer, before attaching.
   */
  dialAddress<Address>(
    address: Address,
    dialer: Dialer<Address>,
    opts?: { readonly signal?: AbortSignal; readonly identified?: (peer: Atom) => void },
  ): Promise<{ readonly session: Session; readonly fresh: boolean }>;
  /** The current session to `peer`, if one is up. */
  session(peer: Atom): Session | undefined;
  /** Connect to `peer` (net_kernel:connect_node/1). */
  connect(peer: Atom): Promise<boolean>;
  /** For transports that run processes for their peers (net_kernel, rex, sshrpc, AEMP node services). */
  readonly services: ServiceHost;
  /** Connection counters of the pipeline, for observers. */
  readonly metrics: PipelineMetrics;
}

/** The part of a node that protocol services use: processes, names, exposed functions. */
export interface ServiceHost {
  readonly name: Atom;
  readonly log: Logger;
  readonly exposed: Exposed;
  readonly exits$: Observable<{ readonly pid: Pid; readonly name: Atom | undefined; readonly reason: Term }>;
  /** Spawns a process running `body`, registered as `opts.name` when given. */
  spawn(body: Body, opts?: { readonly name?: Atom }): Pid;
  /** Sends `msg` to a pid, a registered name, or `{name, node}`, like Erlang's `!`. */
  send(dest: Dest, msg: Term): void;
  /** The pid registered locally as `name`, if any. */
  whereis(name: Atom): Pid | undefined;
  /** Whether the local process `pid` is alive. */
  isAlive(pid: Pid): boolean;
  /** The group leader given to processes this node spawns on other nodes. */
  setGroupLeader(pid: Pid): void;
  /** Let string destinations in a transport's syntax (AEMP's `node#port`) reach it. */
  addAddressResolver(resolver: AddressResolver): () => void;
  /**
   * The whole node, for protocol services that are part of its runtime rather than of one
   * connection (Erlang's `global` and `pg` on a visible node).
   */
  readonly node: Node;
}

/** Monotonic counters the pipeline keeps (read by observers; never an event per frame). */
export interface PipelineMetrics {
  readonly dials: number;
  readonly accepts: number;
  readonly handshakesFailed: number;
  /** Connection attempts under way now (resolving, dialing or in the handshake), both directions. */
  readonly pending: number;
}
