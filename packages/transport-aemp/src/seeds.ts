import { HandshakeError, type Logger } from '@courier/core';

export interface SeedEvents {
  /** A seed's session is up and the seed is known to be that node (whichever came first). */
  seedUp(peer: string): void;
  /** The connected node known (from `'l`) to listen at `address`, if any. */
  listener(address: string): string | undefined;
  /** The seed at `address` is this node itself: it is dropped, and the node becomes global. */
  self(address: string): void;
}

interface Seed {
  peer: string | undefined;
  /** Why the last dial failed (cleared when one succeeds): what a lookup that times out reports. */
  lastError: string | undefined;
  timer: ReturnType<typeof setTimeout> | undefined;
  delay: number;
}

/**
 * Keeps connections to the seed addresses (Kernel.pm:476-578): each is dialed until a session
 * to it is up, with a backoff from `minMs` doubling to `maxMs`, and dialed again when it goes.
 * `dial` resolves with the node id that answered (or rejects; `'self'` when it was ourselves).
 * A seed counts as up once both are known — its session is up and the address is known to be
 * that node — in whichever order the dial, the handshake and the node's session bookkeeping
 * report them; `seedUp` fires then, once per session. `seedPeers` lists the seeds up, in the
 * order they came up (the first is the master candidate).
 */
export class Seeds {
  private readonly byAddress = new Map<string, Seed>();
  private readonly up: string[] = [];
  /** Peers with a session up (any peer: a seed may connect to us before we know it is one). */
  private readonly connected = new Set<string>();
  private stopped = false;

  constructor(
    addresses: readonly string[],
    private readonly dial: (address: string) => Promise<string>,
    private readonly log: Logger,
    private readonly events: SeedEvents,
    private readonly minMs = 500,
    private readonly maxMs = 30_000,
  ) {
    for (const a of addresses) this.byAddress.set(a, { peer: undefined, lastError: undefined, timer: undefined, delay: minMs });
  }

  start(): void {
    for (const a of this.byAddress.keys()) this.attempt(a);
  }

  /** Seeds whose last dial failed, each as `address: why` (a wrong secret, a refusal, no listener). */
  failures(): string[] {
    const out: string[] = [];
    for (const [address, s] of this.byAddress) if (s.lastError !== undefined) out.push(`${address}: ${s.lastError}`);
    return out;
  }

  /** Node ids of seeds with a session up, in the order they came up. */
  seedPeers(): readonly string[] {
    return this.up;
  }

  isSeed(peer: string): boolean {
    for (const s of this.byAddress.values()) if (s.peer === peer) return true;
    return false;
  }

  /** The seed at `address` turned out to be node `peer` (before or after its session is announced). */
  identify(address: string, peer: string): void {
    const s = this.byAddress.get(address);
    if (s === undefined) return;
    s.peer = peer;
    this.check(peer);
  }

  /** The seed at `address` is ourselves (Kernel.pm seed_connect: "if we connect to ourselves, nuke this seed"). */
  dropSelf(address: string): void {
    const s = this.byAddress.get(address);
    if (s === undefined) return;
    clearTimeout(s.timer);
    this.byAddress.delete(address);
    this.log.info({ seed: address }, 'a seed is this node itself');
    this.events.self(address);
  }

  /** A session to `peer` came up (by our dial or theirs). */
  peerUp(peer: string): void {
    this.connected.add(peer);
    this.check(peer);
  }

  /** The session to `peer` is gone: if it was a seed, dial it again. */
  peerDown(peer: string): void {
    this.connected.delete(peer);
    const i = this.up.indexOf(peer);
    if (i >= 0) this.up.splice(i, 1);
    for (const [a, s] of this.byAddress) if (s.peer === peer) this.retry(a);
  }

  stop(): void {
    this.stopped = true;
    for (const s of this.byAddress.values()) clearTimeout(s.timer);
  }

  private check(peer: string): void {
    if (!this.connected.has(peer) || !this.isSeed(peer) || this.up.includes(peer)) return;
    this.up.push(peer);
    this.events.seedUp(peer);
  }

  private attempt(address: string): void {
    const s = this.byAddress.get(address);
    if (s === undefined || this.stopped) return;
    s.timer = undefined;
    // Up already (Kernel.pm seed_all skips seeds that are up): a second connection would replace the first.
    const known = s.peer ?? this.events.listener(address);
    if (known !== undefined && this.connected.has(known)) return this.identify(address, known);
    this.dial(address).then(
      (peer) => {
        if (this.byAddress.get(address) !== s) return;
        s.delay = this.minMs;
        s.lastError = undefined;
        this.identify(address, peer);
      },
      (err: unknown) => {
        const message = err instanceof Error ? err.message : String(err);
        // A seed that answers and refuses us (a wrong secret, our node id refused) is a
        // configuration mistake that retrying will not mend: a warning, once per distinct reason.
        // A seed not listening yet is ordinary at start-up: debug.
        const refused = err instanceof HandshakeError && (err.code === 'BAD_COOKIE' || err.code === 'NOT_ALLOWED');
        if (refused && s.lastError !== message) this.log.warn({ seed: address, code: err.code, reason: message }, 'seed refused the connection');
        else if (!refused) this.log.debug({ seed: address, err: message }, 'seed not reached');
        s.lastError = message;
        this.retry(address);
      },
    );
  }

  private retry(address: string): void {
    const s = this.byAddress.get(address);
    if (s === undefined || this.stopped || s.timer !== undefined) return;
    // Jitter: two seeds that dial each other on the same beat keep replacing each other's
    // connection (the newer one wins on each side, so both lose); a random half to one and a half
    // of the delay lets one dial land first, and the other then finds the seed up.
    s.timer = setTimeout(() => this.attempt(address), s.delay * (0.5 + Math.random()));
    s.timer.unref?.();
    s.delay = Math.min(this.maxMs, s.delay * 2);
  }
}
