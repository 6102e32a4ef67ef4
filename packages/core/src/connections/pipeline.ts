import type { Atom } from '@courier/term';
import { CarrierError, CourierError, HandshakeError, ResolveError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Carrier } from '../seams/carrier.js';
import type { Handshake, HandshakeArbiter } from '../seams/handshake.js';
import type { Router } from '../seams/dist-op.js';
import type { PipelineSession, Session } from '../seams/session.js';
import type { Acceptor, Dialer, PipelineMetrics, Protocol, Upgrade } from '../seams/transport.js';
import { MAX_PENDING_HANDSHAKES, MAX_PENDING_HANDSHAKES_PER_ADDRESS } from './defaults.js';
import { driveHandshake, type Handover } from './drive-handshake.js';
import { handOff } from './handoff.js';

/**
 * The one connection pipeline of a node (js-libp2p's upgrader, OTP's dist_util): every carrier's
 * connections go through it.
 *
 *   dial(peer)   resolver → candidate addresses → carrier.dial → ┐
 *   accept(carrier) ─────────────────────────────────────────────┤
 *                              driveHandshake (set-up deadline) ─┘→ protocol.session
 *                              → ConnectionTable records it (attach / dial settles)
 *                              → started(): hand-over of the bytes read past the handshake
 *
 * It enforces the set-up deadline over resolve, dial and handshake together, logs every failed
 * attempt once, counts attempts for observers, and aborts the attempts under way on teardown.
 */
export interface PipelineHooks {
  readonly router: Router;
  readonly arbiter: HandshakeArbiter;
  /** Make an accepted (or address-dialed) session its peer's connection. */
  attach(session: PipelineSession): void;
  /** The session the node has for `peer` now. */
  current(peer: Atom): Session | undefined;
  readonly log: Logger;
  /** Pending-handshake caps for accepted connections (defaults.ts). */
  readonly maxPendingAccepts?: number;
  readonly maxPendingPerAddress?: number;
}

interface Waiting {
  readonly log: Logger;
  readonly carrier: Carrier;
  readonly tail: Uint8Array;
  readonly handover: Handover;
  readonly protocol: Protocol;
}

/**
 * The one connection pipeline of a node, through which every carrier's dialed and accepted connections go:
 * resolve, dial, handshake under one set-up deadline, then a session recorded by the node (the diagram is on
 * {@link PipelineHooks}).
 */
export class ConnectionPipeline {
  private readonly attempts = new Set<AbortController>();
  /** Accepted connections in their handshake, oldest first, with their remote address. */
  private readonly accepting = new Map<AbortController, string>();
  /** Sessions whose handshake finished and that wait for the node to record them. */
  private readonly waiting = new WeakMap<Session, Waiting>();
  private closed = false;
  private readonly counters = { dials: 0, accepts: 0, handshakesFailed: 0 };

  constructor(private readonly hooks: PipelineHooks) {}

  /** The counters now (a snapshot; read them at scrape time, never per message). */
  get metrics(): PipelineMetrics {
    return { ...this.counters, pending: this.attempts.size };
  }

  /**
   * Connect to `peer`: resolve, dial the candidates in order (a carrier that cannot connect or
   * closes during the handshake gives way to the next; a handshake refusal ends the attempt), run
   * the handshake, make the session. All within `dialer.setupTimeMs`. The session is started
   * when the node records it ({@link started}).
   */
  async dial(peer: Atom, dialer: Dialer, signal?: AbortSignal): Promise<PipelineSession> {
    return this.attempt(signal, async (own) => {
      this.counters.dials++;
      const limit = new SetupDeadline(own, dialer.setupTimeMs);
      try {
        const addresses = await this.bounded(limit, peer.name, () => dialer.resolver.resolve(peer, limit.signal));
        if (addresses.length === 0) throw new ResolveError('NO_ADDRESS', `no address is known for ${peer.name}`);
        let last: unknown;
        for (const address of addresses) {
          let carrier: Carrier;
          try {
            carrier = await this.bounded(limit, peer.name, () => dialer.carrier.dial(address, peer, limit.signal));
          } catch (err) {
            if (err instanceof HandshakeError || limit.signal.aborted) throw err;
            last = err;
            continue;
          }
          try {
            return await this.handshake(carrier, dialer.protocol, 'initiator', peer, limit.deadline, dialer.upgrade, own, true);
          } catch (err) {
            if (!(err instanceof CarrierError) || err.code === 'ABORTED' || limit.signal.aborted) throw err;
            last = err;
          }
        }
        throw last instanceof Error ? last : new CarrierError('UNREACHABLE', `cannot reach ${peer.name}`);
      } finally {
        limit.clear();
      }
    });
  }

  /**
   * Dial one address whose node is unknown beforehand (an AEMP seed). The new session becomes
   * its peer's connection unless one is up already, in which case the new one is closed and the
   * current one returned (`fresh` false). `identified` runs after the handshake, before attaching.
   */
  async dialAddress<Address>(
    address: Address,
    dialer: Dialer<Address>,
    opts: { readonly signal?: AbortSignal; readonly identified?: (peer: Atom) => void } = {},
  ): Promise<{ readonly session: Session; readonly fresh: boolean }> {
    const session = await this.attempt(opts.signal, async (own) => {
      this.counters.dials++;
      const limit = new SetupDeadline(own, dialer.setupTimeMs);
      try {
        const carrier = await this.bounded(limit, String(address), () => dialer.carrier.dial(address, undefined, limit.signal));
        // No table entry waits on this attempt, so a `nok` (the peer's own attempt wins) fails at once.
        return await this.handshake(carrier, dialer.protocol, 'initiator', undefined, limit.deadline, dialer.upgrade, own, false);
      } finally {
        limit.clear();
      }
    });
    try {
      opts.identified?.(session.peer);
    } catch (err) {
      session.close('refused by the transport');
      throw err;
    }
    const current = this.hooks.current(session.peer);
    if (current !== undefined) {
      session.close('already connected');
      return { session: current, fresh: false };
    }
    this.hooks.attach(session);
    return { session, fresh: true };
  }

  /** Bring up an accepted carrier; its session is attached to the node when the handshake is done. */
  accept(carrier: Carrier, acceptor: Acceptor): void {
    if (this.closed) return carrier.abort();
    this.counters.accepts++;
    const slot = new AbortController();
    this.admit(slot, addressOf(carrier.remote));
    const deadline = Date.now() + acceptor.setupTimeMs;
    this.attempt(slot.signal, (own) => this.handshake(carrier, acceptor.protocol, 'acceptor', undefined, deadline, acceptor.upgrade, own, false))
      .finally(() => this.accepting.delete(slot))
      .then(
        (session) => {
          if (this.closed) return session.close('node stopped');
          this.hooks.attach(session);
        },
        () => undefined, // logged by handshake()
      );
  }

  /** Make room for one more accepted handshake: past a cap, the oldest one under it is dropped. */
  private admit(slot: AbortController, address: string): void {
    const max = this.hooks.maxPendingAccepts ?? MAX_PENDING_HANDSHAKES;
    const perAddress = this.hooks.maxPendingPerAddress ?? MAX_PENDING_HANDSHAKES_PER_ADDRESS;
    let fromThere = 0;
    for (const a of this.accepting.values()) if (a === address) fromThere++;
    const evict = (match: (a: string) => boolean, why: string): void => {
      for (const [old, a] of this.accepting) {
        if (!match(a)) continue;
        this.accepting.delete(old);
        this.hooks.log.warn({ remote: a, code: 'PENDING_LIMIT' }, why);
        old.abort(new CarrierError('PENDING_LIMIT', why));
        return;
      }
    };
    if (fromThere >= perAddress) evict((a) => a === address, `more than ${perAddress} handshakes from ${address} at once: the oldest is dropped`);
    else if (this.accepting.size >= max) evict(() => true, `more than ${max} handshakes at once: the oldest is dropped`);
    this.accepting.set(slot, address);
  }

  /** The node recorded `session` as its peer's connection: let it take its carrier over. */
  started(session: Session): void {
    const w = this.waiting.get(session);
    if (w === undefined) return;
    this.waiting.delete(session);
    handOff(w.carrier, session as PipelineSession, w.tail, w.handover, w.log);
    w.protocol.sessionUp?.(session);
  }

  /** Teardown: abort every attempt under way; no new ones. */
  closeAll(): void {
    this.closed = true;
    for (const ac of [...this.attempts]) ac.abort(new CarrierError('STOPPED', 'the node is stopping'));
  }

  /** One attempt, aborted by the caller's `signal` or by teardown (`own` covers both). */
  private async attempt<T>(signal: AbortSignal | undefined, run: (own: AbortSignal) => Promise<T>): Promise<T> {
    if (this.closed) throw new CarrierError('STOPPED', 'the node is stopping');
    const ac = new AbortController();
    const forward = (): void => ac.abort(signal?.reason);
    if (signal?.aborted) forward();
    signal?.addEventListener('abort', forward, { once: true });
    this.attempts.add(ac);
    try {
      return await run(ac.signal);
    } finally {
      this.attempts.delete(ac);
      signal?.removeEventListener('abort', forward);
    }
  }

  /**
   * Run a resolve or dial step within the attempt: when the limit's signal fires first (the
   * deadline, the caller's abort, teardown) the step is abandoned (a carrier it yields later is
   * aborted); a step cut short by the deadline fails with the set-up timeout.
   */
  private bounded<T>(limit: SetupDeadline, what: string, step: () => Promise<T>): Promise<T> {
    const sig = limit.signal;
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      const fail = (err: unknown): void => {
        if (settled) return;
        settled = true;
        sig.removeEventListener('abort', onAbort);
        if (limit.expired) {
          this.counters.handshakesFailed++;
          // Logged once by whoever asked (the connection table: 'connect failed').
          reject(new HandshakeError('TIMEOUT', `connecting to ${what} did not finish within the set-up time (net_setuptime)`, { cause: err }));
        } else {
          reject(err instanceof Error ? err : new CarrierError('FAILED', `connecting to ${what} failed: ${String(err)}`));
        }
      };
      const onAbort = (): void => fail(sig.reason ?? new CarrierError('ABORTED', `connecting to ${what} was cancelled`));
      if (sig.aborted) return onAbort();
      sig.addEventListener('abort', onAbort, { once: true });
      Promise.resolve()
        .then(step)
        .then((value) => {
          if (settled) {
            if (isCarrier(value)) value.abort();
            return;
          }
          settled = true;
          sig.removeEventListener('abort', onAbort);
          resolve(value);
        }, fail);
    });
  }

  private async handshake(
    carrier: Carrier,
    protocol: Protocol,
    role: 'initiator' | 'acceptor',
    peer: Atom | undefined,
    deadline: number,
    upgrade: Upgrade | undefined,
    signal: AbortSignal | undefined,
    /** After `nok`, wait until the connection table aborts this attempt (it took the peer's own). */
    waitOnNok: boolean,
  ): Promise<PipelineSession> {
    let done;
    let hs: Handshake | undefined;
    try {
      hs = protocol.handshake({ role, peer, carrier, arbiter: this.hooks.arbiter });
      done = await driveHandshake(carrier, hs, { timeoutMs: Math.max(1, deadline - Date.now()), signal, waitOnNok, upgrade });
    } catch (err) {
      if (hs === undefined) carrier.abort(err instanceof Error ? err : undefined);
      this.failed(err, carrier.remote, peer ?? hs?.peer, role);
      throw err;
    }
    const { result, handover } = done;
    const log = this.hooks.log.child({ peer: result.peer.name });
    let session: PipelineSession;
    try {
      session = protocol.session(done.carrier, result, { router: this.hooks.router, log });
    } catch (err) {
      done.carrier.abort(err instanceof Error ? err : undefined);
      this.failed(err, done.carrier.remote, result.peer, role);
      throw err;
    }
    this.waiting.set(session, { log, carrier: done.carrier, tail: result.tail, handover, protocol });
    return session;
  }

  private failed(err: unknown, remote: string, peer: Atom | undefined, role: 'initiator' | 'acceptor'): void {
    const direction = role === 'initiator' ? 'connect' : 'accept';
    if (err instanceof HandshakeError && (err.code === 'NOK' || err.code === 'ALREADY_CONNECTED')) {
      this.hooks.log.debug({ remote, peer: peer?.name, code: err.code }, 'simultaneous connect resolved: the other attempt wins');
      return;
    }
    if (err instanceof CarrierError && (err.code === 'ABORTED' || err.code === 'STOPPED')) {
      // Our own decision (the table took another connection, the node stops), not a failure.
      this.hooks.log.debug({ remote, peer: peer?.name, direction, code: err.code }, 'connection attempt abandoned');
      return;
    }
    this.counters.handshakesFailed++;
    if (err instanceof CourierError) {
      this.hooks.log.warn({ remote, peer: peer?.name, direction, code: err.code, err: err.message }, 'handshake failed');
    } else {
      this.hooks.log.error({ remote, peer: peer?.name, direction, err }, 'handshake crashed');
    }
  }
}

function isCarrier(v: unknown): v is Carrier {
  return typeof v === 'object' && v !== null && typeof (v as Carrier).abort === 'function' && typeof (v as Carrier).setReceiver === 'function';
}

/** The address part of a carrier's `remote` (`127.0.0.1:4370` → `127.0.0.1`, `[::1]:80` → `[::1]`). */
function addressOf(remote: string): string {
  const i = remote.lastIndexOf(':');
  return i > 0 && /^\d+$/.test(remote.slice(i + 1)) ? remote.slice(0, i) : remote;
}

/**
 * The set-up deadline of one outgoing attempt, as a signal that also follows the attempt's own
 * (caller's abort, teardown): plain timers and controllers, so it runs in every browser too.
 */
class SetupDeadline {
  readonly deadline: number;
  private readonly ac = new AbortController();
  private readonly timer: ReturnType<typeof setTimeout>;
  private timedOut = false;
  private readonly follow = (): void => this.ac.abort(this.own.reason);

  constructor(
    private readonly own: AbortSignal,
    setupMs: number,
  ) {
    this.deadline = Date.now() + setupMs;
    this.timer = setTimeout(() => {
      this.timedOut = true;
      this.ac.abort(new HandshakeError('TIMEOUT', `the set-up time of ${setupMs} ms ran out`));
    }, setupMs);
    (this.timer as { unref?: () => void }).unref?.();
    if (own.aborted) this.follow();
    else own.addEventListener('abort', this.follow, { once: true });
  }

  get signal(): AbortSignal {
    return this.ac.signal;
  }

  /** The deadline passed (not the caller's abort). */
  get expired(): boolean {
    return this.timedOut;
  }

  clear(): void {
    clearTimeout(this.timer);
    this.own.removeEventListener('abort', this.follow);
  }
}
