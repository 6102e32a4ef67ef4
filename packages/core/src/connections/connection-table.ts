import { atoms, type Atom, type Term } from '@courier/term';
import type { DistOp } from '../seams/dist-op.js';
import type { Session } from '../seams/session.js';
import type { Transport } from '../seams/transport.js';
import type { HandshakeArbiter } from '../seams/handshake.js';
import type { Logger } from '../log.js';

/**
 * The node's connections, one per peer. Sending to a peer with no connection dials it on demand;
 * operations sent meanwhile queue and go out in order once the session is up. A failed dial or a
 * lost session is reported once through `onDown`, which fires `noconnection` to links and
 * monitors across it. Simultaneous connects are arbitrated here as OTP's net_kernel does: the
 * node with the greater name keeps its own attempt.
 */
type Conn = { state: 'pending'; queue: DistOp[]; abort: AbortController; transport: Transport } | { state: 'up'; session: Session };

export interface ConnectionHooks {
  readonly self: Atom;
  readonly log: Logger;
  onUp(peer: Atom, session: Session): void;
  /** `wasUp`: a session had been up (false: a dial that never connected). */
  onDown(peer: Atom, reason: Term, wasUp: boolean): void;
  pickTransport(peer: Atom): Transport | undefined;
  /** Dial `peer` through the connection pipeline. */
  dial(peer: Atom, transport: Transport, signal: AbortSignal): Promise<Session>;
}

export class ConnectionTable implements HandshakeArbiter {
  private readonly conns = new Map<Atom, Conn>();
  private readonly waiters = new Map<Atom, Array<(up: boolean) => void>>();
  /** Set by closeAll (node stop): no dialing, no new sessions after that. */
  private closed = false;

  constructor(private readonly hooks: ConnectionHooks) {}

  /** Send `op` to `peer`, dialing when needed. Dropped silently (as in Erlang) if the peer is unreachable. */
  send(peer: Atom, op: DistOp): void {
    const c = this.conns.get(peer);
    if (c === undefined) {
      const pending = this.dial(peer);
      if (pending) pending.queue.push(op);
      return;
    }
    if (c.state === 'up') c.session.send(op);
    else c.queue.push(op);
  }

  /** Connect to `peer` (if not connected) and tell whether it is up. */
  connect(peer: Atom): Promise<boolean> {
    const c = this.conns.get(peer);
    if (c?.state === 'up') return Promise.resolve(true);
    if (c === undefined && !this.dial(peer)) return Promise.resolve(false);
    return new Promise((resolve) => {
      const list = this.waiters.get(peer) ?? [];
      list.push(resolve);
      this.waiters.set(peer, list);
    });
  }

  isUp(peer: Atom): boolean {
    return this.conns.get(peer)?.state === 'up';
  }

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
    const c = this.conns.get(peer);
    if (c?.state === 'up') {
      if (c.session === session) return;
      // The handshake answered `alive` and the peer confirmed: the old connection goes.
      this.conns.delete(peer);
      c.session.close('replaced');
      this.hooks.onDown(peer, atoms.noconnection, true);
    }
    let queue: DistOp[] = [];
    if (c?.state === 'pending') {
      queue = c.queue;
      c.abort.abort();
    }
    this.conns.set(peer, { state: 'up', session });
    this.hooks.onUp(peer, session);
    for (const op of queue) session.send(op);
    this.wake(peer, true);
  }

  /** The session for `peer` is gone. Ignored when `session` is given and is not the current one. */
  down(peer: Atom, reason: Term, session?: Session): void {
    const c = this.conns.get(peer);
    if (c === undefined) return;
    if (session !== undefined && (c.state !== 'up' || c.session !== session)) return;
    this.conns.delete(peer);
    if (c.state === 'pending') c.abort.abort();
    this.wake(peer, false);
    this.hooks.onDown(peer, reason, c.state === 'up');
  }

  acceptPending(peer: Atom): 'ok' | 'ok_simultaneous' | 'nok' | 'alive' | 'not_allowed' {
    if (peer === this.hooks.self || this.closed) return 'not_allowed';
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
      if (c.state === 'up') c.session.close('node stopping');
      else c.abort.abort();
      this.down(peer, atoms.noconnection);
    }
  }

  private dial(peer: Atom): (Conn & { state: 'pending' }) | undefined {
    if (this.closed) return undefined;
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
        for (const op of entry.queue) session.send(op);
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

  private wake(peer: Atom, up: boolean): void {
    const list = this.waiters.get(peer);
    if (!list) return;
    this.waiters.delete(peer);
    for (const w of list) w(up);
  }
}

function errText(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}
