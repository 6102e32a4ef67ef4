/**
 * Connections a global node keeps to every other global node (Kernel.pm keepalive_*): a node
 * wanted and not up is dialed at once, then again after (1 + rand) × 0.3 s doubling up to
 * `maxMs`, until it is up or no longer wanted.
 */
export class Keepalive {
  private readonly wanted = new Set<string>();
  private readonly down = new Set<string>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private delay = 0;
  private stopped = false;

  constructor(
    private readonly isUp: (peer: string) => boolean,
    private readonly connect: (peer: string) => void,
    private readonly maxMs: number,
  ) {}

  add(peer: string): void {
    if (this.wanted.has(peer)) return;
    this.wanted.add(peer);
    if (!this.isUp(peer)) this.lost(peer);
  }

  del(peer: string): void {
    this.wanted.delete(peer);
    this.down.delete(peer);
    if (this.down.size === 0) this.clear();
  }

  has(peer: string): boolean {
    return this.wanted.has(peer);
  }

  up(peer: string): void {
    this.down.delete(peer);
    if (this.down.size === 0) this.clear();
  }

  /** A wanted node's connection went (or never was): dial it again, soon. */
  lost(peer: string): void {
    if (!this.wanted.has(peer) || this.stopped) return;
    this.down.add(peer);
    this.delay = (1 + Math.random()) * 300;
    this.clear();
    this.all();
  }

  stop(): void {
    this.stopped = true;
    this.clear();
  }

  private all(): void {
    this.timer = undefined;
    if (this.stopped || this.down.size === 0) return;
    for (const peer of this.down) if (!this.isUp(peer)) this.connect(peer);
    this.timer = setTimeout(() => this.all(), this.delay);
    this.timer.unref?.();
    this.delay = Math.min(this.maxMs, this.delay * 2);
  }

  private clear(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
