import { describe, expect, it } from 'vitest';
import { silentLogger } from '@courier/core';
import { Seeds } from '../src/seeds.js';

/** A Seeds whose dials the test answers by hand. */
function seeds(addresses: string[]): { s: Seeds; ups: string[]; selves: string[]; dials: Map<string, (peer: string) => void>; known: Map<string, string> } {
  const ups: string[] = [];
  const selves: string[] = [];
  const dials = new Map<string, (peer: string) => void>();
  const known = new Map<string, string>();
  const s = new Seeds(addresses, (a) => new Promise((resolve) => dials.set(a, resolve)), silentLogger, {
    seedUp: (p) => ups.push(p),
    self: (a) => selves.push(a),
    listener: (a) => known.get(a),
  });
  return { s, ups, selves, dials, known };
}
const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 0));

describe('Seeds: a slave attaches to its seed whatever order things come up in', () => {
  it('identified in the handshake, then the session up', async () => {
    const { s, ups, dials } = seeds(['h:1']);
    s.start();
    s.identify('h:1', 'seed');
    expect(ups).toEqual([]);
    s.peerUp('seed');
    expect(ups).toEqual(['seed']);
    dials.get('h:1')?.('seed');
    await tick();
    expect(ups).toEqual(['seed']);
    expect(s.seedPeers()).toEqual(['seed']);
    s.stop();
  });

  it('the session up first (the seed dialed us, or the node announced it before the dial returned)', async () => {
    const { s, ups, dials } = seeds(['h:1']);
    s.start();
    s.peerUp('seed');
    expect(ups).toEqual([]);
    dials.get('h:1')?.('seed');
    await tick();
    expect(ups).toEqual(['seed']);
    // Down and up again: up once more.
    s.peerDown('seed');
    expect(s.seedPeers()).toEqual([]);
    s.peerUp('seed');
    expect(ups).toEqual(['seed', 'seed']);
    s.stop();
  });

  it('a seed whose node is up already (known from its listeners) is not dialed; a seed that is us is dropped', async () => {
    const { s, ups, dials, known, selves } = seeds(['h:1', 'me:2']);
    known.set('h:1', 'seed');
    s.peerUp('seed');
    s.start();
    expect(dials.has('h:1')).toBe(false);
    expect(ups).toEqual(['seed']);
    s.dropSelf('me:2');
    expect(selves).toEqual(['me:2']);
    await tick();
    s.stop();
  });
});
