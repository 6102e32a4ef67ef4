import { afterEach, describe, expect, it } from 'vitest';
import { Node } from '@courier/core';
import { atom } from '@courier/term';
import { MemoryNetwork, memoryDist } from '@courier/transport-memory';
import { formCluster, type Cluster, type MembershipChange, type Strategy } from '@courier/discovery';

/** formCluster over in-memory Courier nodes: the real handshake and session, a strategy the test steers. */
const network = new MemoryNetwork();
const nodes: Node[] = [];
const clusters: Cluster[] = [];

async function start(name: string): Promise<Node> {
  const n = new Node({ name, transports: [memoryDist({ network, cookie: 'c' })] });
  await n.start();
  nodes.push(n);
  return n;
}

/** A strategy whose answer the test sets; `fail` makes the next rounds reject. */
function steered(initial: string[]): Strategy & { list: string[]; fail: boolean } {
  const s = {
    kind: 'test',
    list: initial,
    fail: false,
    resolve: () => (s.fail ? Promise.reject(new Error('no answer')) : Promise.resolve(s.list)),
  };
  return s;
}

function record(c: Cluster): string[] {
  const seen: string[] = [];
  c.changes$.subscribe((e: MembershipChange) => seen.push(e.type === 'joined' ? `+${e.node.name}` : `-${e.node.name}:${e.reason}`));
  return seen;
}

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
}

afterEach(async () => {
  for (const c of clusters.splice(0)) await c.stop();
  for (const n of nodes.splice(0)) await n.stop();
});

describe('formCluster', () => {
  it('connects every node listed (not itself), and drops those no longer listed', async () => {
    const [a, b, c] = [await start('fa@h'), await start('fb@h'), await start('fc@h')];
    const s = steered(['fa@h', 'fb@h', 'fc@h']);
    const cl = formCluster(a, { strategies: [s], intervalMs: 60_000 });
    clusters.push(cl);
    const seen = record(cl);
    await cl.refresh();
    expect(
      cl
        .members()
        .map((m) => m.name)
        .sort(),
    ).toEqual(['fb@h', 'fc@h']);
    expect(
      a
        .nodes()
        .map((n) => n.name)
        .sort(),
    ).toEqual(['fb@h', 'fc@h']);
    s.list = ['fb@h'];
    await cl.refresh();
    expect(cl.members()).toEqual([b.name]);
    expect(seen.sort()).toEqual(['+fb@h', '+fc@h', '-fc@h:unlisted']);
    // Not disconnected by default: only out of the member list.
    expect(a.nodes()).toContain(c.name);
  });

  it('disconnectGone drops the connection too; a member going down leaves and is reconnected next round', async () => {
    const [a, b] = [await start('ga@h'), await start('gb@h')];
    const s = steered(['gb@h']);
    const cl = formCluster(a, { strategies: [s], intervalMs: 60_000, disconnectGone: true });
    clusters.push(cl);
    const seen = record(cl);
    await cl.refresh();
    b.disconnect(a.name);
    await until(() => cl.members().length === 0);
    expect(cl.members()).toEqual([]);
    await cl.refresh();
    expect(cl.members()).toEqual([b.name]);
    s.list = [];
    await cl.refresh();
    expect(a.nodes()).toEqual([]);
    expect(seen).toEqual(['+gb@h', '-gb@h:nodedown', '+gb@h', '-gb@h:unlisted']);
  });

  it('keeps the last answer of a strategy that fails, retries an unreachable node, and re-resolves on its own', async () => {
    const a = await start('ha@h');
    const s = steered(['hb@h']);
    const cl = formCluster(a, { strategies: [s], intervalMs: 30 });
    clusters.push(cl);
    const seen = record(cl);
    await cl.refresh();
    expect(cl.members()).toEqual([]); // hb@h is not up yet
    s.fail = true;
    const b = await start('hb@h');
    // Later rounds, by the timer: the failed strategy's last answer still lists hb@h, now up.
    await until(() => cl.members().length > 0);
    expect(cl.members()).toEqual([b.name]);
    expect(seen).toEqual(['+hb@h']);
  });

  it('a listed node that connects first joins at its nodeup, between rounds', async () => {
    const a = await start('ia@h');
    const cl = formCluster(a, { strategies: [steered(['ib@h'])], intervalMs: 60_000 });
    clusters.push(cl);
    const seen = record(cl);
    await cl.refresh(); // ib@h is not up: no member
    const b = await start('ib@h');
    expect(await b.connect(a.name)).toBe(true);
    await until(() => cl.members().length === 1);
    expect(cl.members()).toEqual([b.name]);
    expect(seen).toEqual(['+ib@h']);
  });

  it('stop() abandons the rounds, completes the stream and leaves connections alone', async () => {
    const [a, b] = [await start('ka@h'), await start('kb@h')];
    const cl = formCluster(a, { strategies: [steered(['kb@h'])], intervalMs: 60_000 });
    await cl.refresh();
    let completed = false;
    cl.changes$.subscribe({ complete: () => (completed = true) });
    await cl.stop();
    expect(completed).toBe(true);
    expect(a.nodes()).toEqual([b.name]);
    await cl.refresh(); // a no-op now
    expect(cl.members()).toEqual([atom('kb@h')]);
  });
});
