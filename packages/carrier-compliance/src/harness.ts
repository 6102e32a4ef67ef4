import type { Atom } from '@courier/term';
import type { Carrier, Handshake, HandshakeArbiter, Logger, Node, Transport } from '@courier/core';

/** Options of a harness's `handshakePair`: both nodes' names and cookies, and the acceptor's arbiter. */
export interface HandshakePairOptions {
  readonly initiator: Atom;
  readonly acceptor: Atom;
  readonly initiatorCookie: string;
  readonly acceptorCookie: string;
  /** The acceptor's node arbiter; the suite passes one answering `ok` unless it tests another status. */
  readonly arbiter: HandshakeArbiter;
}

/** Options of a harness's `makeNodes`: the nodes' cookies, the handshake deadline, a logger. */
export interface NodesOptions {
  /** Cookie of every node not listed in `cookies`. */
  readonly cookie: string;
  /** Per-node cookies, by full node name. */
  readonly cookies?: Readonly<Record<string, string>>;
  readonly handshakeTimeoutMs?: number;
  /** Logger for every node made (the suite passes a recording one). */
  readonly log?: Logger;
}

/**
 * What a carrier package gives the compliance suite, fresh for every test case.
 * The suite names nodes `<short>@localhost`.
 */
export interface CarrierHarness {
  /** Two connected carriers, receivers not yet set. `highWaterMark` is a hint for carriers that take one. */
  carrierPair(opts?: { readonly highWaterMark?: number }): Promise<readonly [Carrier, Carrier]>;
  /** The two roles of one handshake of this carrier, sans-IO, not started. */
  handshakePair(opts: HandshakePairOptions): { readonly initiator: Handshake; readonly acceptor: Handshake };
  /** Started nodes (full names given) that can reach one another by name over this carrier. */
  makeNodes(names: readonly string[], opts: NodesOptions): Promise<Node[]>;
  /** The transport a node made by `makeNodes` runs (to see a connect attempt's typed error). */
  transportOf(node: Node): Transport;
  /** Listen as node `name` (full name), accept connections and never answer a byte (a hung peer). */
  silentPeer(name: string): Promise<void>;
  /** Connections open right now, each counted once, when the carrier can tell. */
  openConnections?(): number;
  /** Stop every node, listener and carrier made for this case. */
  teardown(): Promise<void>;
}

/** Makes a fresh {@link CarrierHarness} for one case of the suite. */
export type CarrierHarnessFactory = () => CarrierHarness | Promise<CarrierHarness>;

/** Options of the compliance suite: its deadlines, and the error code of a refused credential. */
export interface SuiteOptions {
  /** Handshake deadline used by the timeout case (default 300 ms). */
  readonly handshakeTimeoutMs?: number;
  /** Deadline of every wait (default 5000 ms). */
  readonly deadlineMs?: number;
  /**
   * The HandshakeError code with which a peer whose credentials the other side refuses fails
   * (default `BAD_COOKIE`). Carriers whose credentials are keys rather than cookies read the
   * suite's cookies as trust domains (nodes with one cookie trust each other's keys) and name
   * their refusal here (SSH: `NOT_ALLOWED`, the server refused our key).
   */
  readonly refusedCredentialCode?: string;
}
