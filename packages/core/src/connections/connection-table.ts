import { atom, atoms, type Atom, type Term } from '@courier/term';
import type { DistOp } from '../seams/dist-op.js';
import type { Session } from '../seams/session.js';
import type { Transport } from '../seams/transport.js';
import type { HandshakeArbiter } from '../seams/handshake.js';
import type { Logger } from '../log.js';
import { CarrierError } from '../errors.js';
import { MAX_PENDING_OPS } from './defaults.js';

/**
 * The node's connections, one per peer. Sending to a peer with no connection dials it on demand;
 * operations sent meanwhile queue and go out in order once the session is up. A failed dial or a
 * lost session is reported once through `onDown`, which fires `noconnection` to links and
 * monitors across it. Simultaneous connects are arbitrated here as OTP's net_kernel does: the
 * node with the greater name keeps its own attempt.
 */
type Conn = { state: 'pending'; queue: DistOp[]; abort: AbortController; transport: Transport } | { state: 'up'; session: Session };

/**
 * When a send, link or monitor to a peer with no connection dials it (OTP's kernel
 * `dist_auto_connect`): `on` always; `once` until the first connection to that peer has gone down,
 * then only after an explicit `connect` (or an incoming connection) brought it up again; `never`.
 * An implicit connect that is not made fails as a failed dial does: `noconnection`.
 */
export type DistAutoConnect = 'on' | 'once' | 'never';

/**
 * What a {@link ConnectionTable} needs from its node: its own name, who is allowed, which transport reaches
 * a peer, and callbacks for connections going up and down.
 */
export interface ConnectionHooks {
  readonly self: Atom;
  readonly log: Logger;
  /** Implicit connects (default `on`). */
  readonly autoConnect?: DistAutoConnect;
  /**
   * The only peers this node connects with, in and out (`net_kernel:allow/1`); absent: every peer.
   * An incoming handshake from another node is answered `not_allowed`; a connect to one fails.
   */
  readonly allow?: ReadonlySet<string>;
  /** A session to `peer` became its current connection (nodeup). */
  onUp(peer: Atom, session: Session): void;
  /**
   * `wasUp`: a session had been up (false: a dial that never connected); `session`: that session.
   * `reason` is the nodedown reason (OTP's: `connection_closed`, `net_tick_timeout`, `disconnect`, …).
   */
  onDown(peer: Atom, reason: Term, wasUp: boolean, session?: Session): void;
  /** The transport that reaches `peer` (by the node's routes), or `undefined` when none does. */
  pickTransport(peer: Atom): Transport | undefined;
  /** Dial `peer` through the connection pipeline. */
  dial(peer: Atom, transport: Transport, signal: AbortSignal): Promise<Session>;
}

export class ConnectionTable implements HandshakeArbiter {
  private readonly conns = new Map<Atom, Conn>();
  private readonly waiters = new Map<Atom, Array<(up: boolean) => void>>();
  /** Set by closeAll (node stop): no dialing, no new sessions after that. */
  private closed = false;
  /** `once`: peers whose connection went down; no implicit connect to them until one is up again. */
  private readonly barred = new Set<Atom>();
  /** Peers whose refused connect reports `noconnection` at the end of this turn (once per turn). */
  private readonly refusing = new Set<Atom>();

  constructor(private readonly hooks: ConnectionHooks) {}

  /**
   * Send `op` to `peer`, dialing when needed (and `distAutoConnect` lets it). Dropped (as in Erlang)
   * if the peer is unreachable; links and monitors across it then get `noconnection`. A message to
   * a peer still being set up with MAX_PENDING_OPS operations queued for it is refused with
   * CarrierError BUSY_DIST_PORT; links, exits and monitors always queue.
   */
  send(peer: Atom, op: DistOp): void {
    const c = this.conns.get(peer);
    if (c === undefined) {
      if (!this.mayAutoConnect(peer)) return this.refuse(peer, 'auto_connect');
      const pending = this.dial(peer);
      if (pending) pending.queue.push(op);
      return;
    }
    if (c.state === 'up') return void c.session.send(op);
    if (c.queue.length >= MAX_PENDING_OPS && isMessage(op)) {
      throw new CarrierError(
        'BUSY_DIST_PORT',
        `the connection to ${peer.name} is still being set up and ${MAX_PENDING_OPS} operations wait for it: await node.connect(peer) before sending more`,
      );
    }
    c.queue.push(op);
  }

  /**
   * Connect to `peer` (if not connected) and tell whether it is up. `explicit` (the default) is
   * `net_kernel:connect_node/1`, allowed whatever `distAutoConnect` says; `auto` is the implicit
   * connect of `monitor_node`.
   */
  connect(peer: Atom, how: 'explicit' | 'auto' = 'explicit'): Promise<boolean> {
    const c = this.conns.get(peer);
    if (c?.state === 'up') return Promise.resolve(true);
    if (c === undefined && how === 'auto' && !this.mayAutoConnect(peer)) return Promise.resolve(false);
    if (c === undefined && how === 'explicit') this.barred.delete(peer);
    if (c === undefined && !this.dial(peer)) return Promise.resolve(false);
    return new Promise((resolve) => {
      const list = this.waiters.get(peer) ?? [];
      list.push(resolve);
      this.waiters.set(peer, list);
    });
  }

  /** Whether a session to `peer` is up now. */
  isUp(peer: Atom): boolean {
    return this.conns.get(peer)?.state === 'up';
  }

  /** The session to `peer` when it is up, otherwise `undefined`. */
  session(peer: Atom): Session | undefined {
    const c = this.conns.get(peer);
    return c?.state === 'up' ? c.session : undefined;
  }

  /** Peers with a live session; hidden ones only when asked. */
  nodes(which: 'visible' | 'hidden' | 'all' = 'visible'): Atom[] {
    const out: Atom[] = [];
    for (const [peer, c] of this.conns) {
      if (c.state !== 'up') continue;
      if (which === 'all' || (which === 'hidden') === c.session.hidden) out.push(peer);
    }
    return out;
  }

  /** An accepted session finished its handshake. */
  attach(session: Session): void {
    if (this.closed) {
      session.close('node stopped');
      return;
    }
    const peer = session.peer;
    if (!this.allowed(peer)) {
      // An address-dialed session (an AEMP seed) names its peer only now; accepted ones were refused in the handshake.
      this.hooks.log.warn({ peer: peer.name, carrier: session.carrier }, 'connection to a node not on the allow list closed');
      session.close('not_allowed');
      return;
    }
    const c = this.conns.get(peer);
    if (c?.state === 'up') {
      if (c.session === session) return;
      // The handshake answered `alive` and the peer confirmed: the old connection goes.
      // net_kernel disconnects the old controller: nodedown reason `disconnect`.
      this.conns.delete(peer);
      c.session.close('replaced');
      this.hooks.onDown(peer, DISCONNECT, true, c.session);
    }
    let queue: DistOp[] = [];
    if (c?.state === 'pending') {
      queue = c.queue;
      c.abort.abort();
    }
    this.conns.set(peer, { state: 'up', session });
    this.barred.delete(peer);
    this.hooks.onUp(peer, session);
    this.flushQueue(session, queue);
    this.wake(peer, true);
  }

  /** The session for `peer` is gone. Ignored when `session` is given and is not the current one. */
  down(peer: Atom, reason: Term, session?: Session): void {
    const c = this.conns.get(peer);
    if (c === undefined) return;
    if (session !== undefined && (c.state !== 'up' || c.session !== session)) return;
    this.conns.delete(peer);
    if (c.state === 'pending') c.abort.abort();
    // OTP bars only connections that have been up (net_kernel's pending_nodedown does not).
    else if (this.hooks.autoConnect === 'once') this.barred.add(peer);
    this.wake(peer, false);
    this.hooks.onDown(peer, reason, c.state === 'up', c.state === 'up' ? c.session : undefined);
  }

  acceptPending(peer: Atom): 'ok' | 'ok_simultaneous' | 'nok' | 'alive' | 'not_allowed' {
    // `peer` may be a provisional atom (not interned before authentication): compare names.
    if (peer.name === this.hooks.self.name || this.closed || !this.allowed(peer)) return 'not_allowed';
    const c = this.conns.get(peer);
    if (c === undefined) return 'ok';
    if (c.state === 'up') return 'alive';
    // Both sides are dialing: the greater name's own attempt wins (net_kernel's rule).
    return peer.name > this.hooks.self.name ? 'ok_simultaneous' : 'nok';
  }

  /** Close every connection (node stop). */
  closeAll(): void {
    this.closed = true;
    for (const [peer, c] of [...this.conns]) {
      // Down first with OTP's reason for a stopping net_kernel; the session's own report is then ignored.
      this.down(peer, NET_KERNEL_TERMINATED);
      if (c.state === 'up') c.session.close('node stopping');
    }
  }

  private allowed(peer: Atom): boolean {
    return this.hooks.allow === undefined || this.hooks.allow.has(peer.name);
  }

  private mayAutoConnect(peer: Atom): boolean {
    const mode = this.hooks.autoConnect ?? 'on';
    return mode === 'on' || (mode === 'once' && !this.barred.has(peer));
  }

  /** A connect that is not made: `noconnection` to what was set up across it, as for a failed dial. */
  private refuse(peer: Atom, why: 'auto_connect' | 'not_allowed'): void {
    if (this.closed || this.refusing.has(peer)) return;
    this.refusing.add(peer);
    // Logged once per turn, however many sends a loop makes.
    if (why === 'not_allowed') this.hooks.log.warn({ peer: peer.name }, 'connect refused: the node is not on the allow list');
    else this.hooks.log.debug({ peer: peer.name, autoConnect: this.hooks.autoConnect }, 'implicit connect not made (distAutoConnect)');
    queueMicrotask(() => {
      this.refusing.delete(peer);
      if (!this.conns.has(peer)) this.hooks.onDown(peer, atoms.noconnection, false);
    });
  }

  private dial(peer: Atom): (Conn & { state: 'pending' }) | undefined {
    if (this.closed) return undefined;
    if (!this.allowed(peer)) {
      this.refuse(peer, 'not_allowed');
      return undefined;
    }
    const transport = this.hooks.pickTransport(peer);
    if (transport === undefined || peer === this.hooks.self) {
      this.hooks.log.warn({ peer: peer.name }, 'no carrier configured for peer');
      return undefined;
    }
    const entry: Conn & { state: 'pending' } = { state: 'pending', queue: [], abort: new AbortController(), transport };
    this.conns.set(peer, entry);
    this.hooks.dial(peer, transport, entry.abort.signal).then(
      (session) => {
        if (this.conns.get(peer) !== entry) {
          // An incoming connection won the race meanwhile; this one is surplus.
          if (this.session(peer) !== session) session.close('simultaneous connect');
          return;
        }
        this.conns.set(peer, { state: 'up', session });
        this.hooks.onUp(peer, session);
        this.flushQueue(session, entry.queue);
        this.wake(peer, true);
      },
      (err: unknown) => {
        if (this.conns.get(peer) !== entry) return;
        this.hooks.log.warn({ peer: peer.name, err: errText(err) }, 'connect failed');
        this.down(peer, atoms.noconnection);
      },
    );
    return entry;
  }

  /**
   * Send what queued while the connection was set up. Each message was checked when sent; one that
   * fails now (a term changed since) is dropped with a warn and the others still go.
   */
  private flushQueue(session: Session, queue: readonly DistOp[]): void {
    for (const op of queue) {
      try {
        session.send(op);
      } catch (err) {
        this.hooks.log.warn({ peer: session.peer.name, op: op.op, err: err instanceof Error ? err.message : String(err) }, 'a queued operation could not be sent; dropped');
      }
    }
  }

  private wake(peer: Atom, up: boolean): void {
    const list = this.waiters.get(peer);
    if (!list) return;
    this.waiters.delete(peer);
    for (const w of list) w(up);
  }
}

const DISCONNECT = atom('disconnect');
const NET_KERNEL_TERMINATED = atom('net_kernel_terminated');

function errText(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}

/** A message (refused when too many operations wait), as opposed to a signal (always queued). */
function isMessage(op: DistOp): boolean {
  return op.op === 'send' || op.op === 'reg_send' || op.op === 'alias_send' || op.op === 'port_send';
}
