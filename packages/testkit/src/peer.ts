import type { TestContext } from 'vitest';

/**
 * The peer availability policy. A test that needs a real peer (erl, perl…) calls
 * `peer.require(ctx)` first: when the peer is present nothing happens; when it is missing the test
 * FAILS in CI (`process.env.CI === 'true'`) and is reported SKIPPED, with the reason, elsewhere.
 */
export interface Peer {
  readonly name: string;
  readonly available: boolean;
  readonly reason: string;
  /** Apply the policy inside a test: return (present), throw (CI) or skip with the reason. */
  require(ctx: TestContext): void;
}

export function isCI(): boolean {
  return process.env.CI === 'true';
}

export function requirePeer(name: string, available: boolean, reason: string): Peer {
  const note = `peer ${name} unavailable: ${reason}`;
  if (!available && !isCI()) console.warn(`[courier testkit] ${note}; tests needing it are skipped`);
  return {
    name,
    available,
    reason,
    require(ctx: TestContext): void {
      if (available) return;
      if (isCI()) throw new Error(`${note}. CI must provide it (CI=true), so this test fails instead of skipping.`);
      ctx.skip(note);
    },
  };
}
