import type { Logger } from '@courier/core';

/**
 * Keeps connections to the seed addresses (Kernel.pm:476-578): each is dialed until a session
 * to it is up, with a backoff from `minMs` doubling to `maxMs`, and dialed again when it goes.
 * `dial` resolves with the node id that answered (or rejects); `seedPeers` lists the node ids of
 * the seeds up, in the order they came up (the first is the master candidate).
 */
export class Seeds {
  private readonly byAddress = new Map<string, { peer: string | undefined; timer: ReturnType<typeof setTimeout> | undefined; delay: number }>();
  private readonly up: string[] = [];
  private stopped = false;

  constructor(
    addresses: readonly string[],
    private readonly dial: (address: string) => Promise<string>,
    private readonly log: Logger,
    private readonly minMs = 500,
    private readonly maxMs = 30_000,
  ) {
    for (const a of addresses) this.byAddress.set(a, { peer: undefined, timer: undefined, delay: minMs });
  }

  start(): void {
    for (const a of this.byAddress.keys()) this.attempt(a);
  }

  /** Node ids of seeds with a session up, in the order they came up. */
  seedPeers(): readonly string[] {
    return this.up;
  }

  isSeed(peer: string): boolean {
    for (const s of this.byAddress.values()) if (s.peer === peer) return true;
    return false;
  }

  /** The seed at `address` turned out to be node `peer` (before its session is announced). */
  identify(address: string, peer: string): void {
    const s = this.byAddress.get(address);
    if (s !== undefined) s.peer = peer;
  }

  /** A session to `peer` came up (by our dial or theirs). */
  peerUp(peer: string): void {
    if (this.isSeed(peer) && !this.up.includes(peer)) this.up.push(peer);
  }

  /** The session to `peer` is gone: if it was a seed, dial it again. */
  peerDown(peer: string): void {
    const i = this.up.indexOf(peer);
    if (i >= 0) this.up.splice(i, 1);
    for (const [a, s] of this.byAddress) if (s.peer === peer) this.retry(a);
  }

  stop(): void {
    this.stopped = true;
    for (const s of this.byAddress.values()) clearTimeout(s.timer);
  }

  private attempt(address: string): void {
    const s = this.byAddress.get(address);
    if (s === undefined || this.stopped) return;
    s.timer = undefined;
    this.dial(address).then(
      (peer) => {
        s.peer = peer;
        s.delay = this.minMs;
        this.peerUp(peer);
      },
      (err: unknown) => {
        this.log.debug({ seed: address, err: (err as Error).message }, 'seed not reached');
        this.retry(address);
      },
    );
  }

  private retry(address: string): void {
    const s = this.byAddress.get(address);
    if (s === undefined || this.stopped || s.timer !== undefined) return;
    s.timer = setTimeout(() => this.attempt(address), s.delay);
    s.timer.unref?.();
    s.delay = Math.min(this.maxMs, s.delay * 2);
  }
}
