import type { TestContext } from 'vitest';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { requirePeer, uniqueName } from '@courier/testkit';

class Skipped extends Error {}

function fakeContext(): TestContext & { notes: string[] } {
  const notes: string[] = [];
  const skip = (note?: unknown): never => {
    notes.push(String(note));
    throw new Skipped();
  };
  return { notes, skip } as unknown as TestContext & { notes: string[] };
}

describe('requirePeer', () => {
  const ci = process.env.CI;
  afterEach(() => {
    if (ci === undefined) delete process.env.CI;
    else process.env.CI = ci;
    vi.restoreAllMocks();
  });

  it('does nothing when the peer is there', () => {
    const ctx = fakeContext();
    requirePeer('erl', true, 'unused').require(ctx);
    expect(ctx.notes).toEqual([]);
  });

  it('fails the test in CI when the peer is missing', () => {
    process.env.CI = 'true';
    const ctx = fakeContext();
    expect(() => requirePeer('perl', false, 'perl not on PATH').require(ctx)).toThrow(/peer perl unavailable: perl not on PATH.*CI/);
    expect(ctx.notes).toEqual([]);
  });

  it('skips with the reason, visibly, elsewhere', () => {
    delete process.env.CI;
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const peer = requirePeer('perl', false, 'perl not on PATH');
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('peer perl unavailable: perl not on PATH'));
    const ctx = fakeContext();
    expect(() => peer.require(ctx)).toThrow(Skipped);
    expect(ctx.notes).toEqual(['peer perl unavailable: perl not on PATH']);
  });
});

describe('uniqueName', () => {
  it('differs on every call and is a valid node name part', () => {
    const names = new Set(Array.from({ length: 100 }, () => uniqueName('golden')));
    expect(names.size).toBe(100);
    for (const n of names) expect(n).toMatch(/^golden_\d+_\d+_[0-9a-f]{6}$/);
  });
});
