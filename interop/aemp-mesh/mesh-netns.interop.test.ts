import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCluster, netnsPeer, randomCookie, type Cluster, type ClusterHost, type HostProcess } from '@courier/testkit';

/**
 * The AEMP mesh across hosts (network namespaces of the testkit's cluster, each with its own
 * address and /etc/hosts): Courier nodes on a, b, c, d, all bound to `*:4400`. a and b are the
 * seeds, named by host name (each is its own seed, so it becomes global); c is a slave of a or b,
 * d of b only. Checks: wildcard binds publish the hosts' addresses; the two globals mesh and every
 * registration reaches every node; a cut link between the seeds heals (the seeds redial) and what
 * changed meanwhile converges; a seed going away leaves the other one serving, c moving to it.
 */
const netns = netnsPeer();
const NODE = fileURLToPath(new URL('./fixtures/mesh-node.ts', import.meta.url));
const secret = randomCookie();
let cluster: Cluster | undefined;
const procs = new Map<string, HostProcess>();
const host = (n: string): ClusterHost => (cluster as Cluster).host(n);
let seq = 0;

beforeAll(async () => {
  if (!netns.available) return;
  cluster = await createCluster({ hosts: ['a', 'b', 'c', 'd'], subnet: 47 });
});
afterAll(async () => {
  await Promise.all([...procs.values()].map((p) => p.stop(3000)));
  await cluster?.teardown();
});

async function start(h: string, seeds: string): Promise<string[]> {
  const p = await host(h).startNode(NODE, [`m${h}`, secret, '*:4400', seeds], { ready: /^READY / });
  procs.set(h, p);
  // startNode consumed the READY line: read it back from what the process printed.
  const line = /^READY (.*)$/m.exec(p.stdout.text)?.[1] ?? '[]';
  return JSON.parse(line) as string[];
}

async function ask<T>(h: string, cmd: string): Promise<T> {
  const id = String(++seq);
  const p = procs.get(h) as HostProcess;
  p.write(`${id} ${cmd}\n`);
  const line = await p.stdout.waitFor((l) => l.startsWith(`R ${id} `), 10_000);
  return JSON.parse(line.slice(`R ${id} `.length)) as T;
}

async function eventually<T>(h: string, cmd: string, want: T, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  let got: unknown;
  while (Date.now() < end) {
    got = await ask<T>(h, cmd);
    if (JSON.stringify(got) === JSON.stringify(want)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${what}: ${h} ${cmd} gave ${JSON.stringify(got)}, not ${JSON.stringify(want)}, within ${ms} ms`);
}

interface State {
  global: boolean;
  master: string | null;
  mesh: string[];
  nodes: string[];
}

describe('AEMP mesh across hosts', () => {
  it('forms through seeds named by host name, converges, heals a cut link, and survives a seed going away', async (ctx) => {
    netns.require(ctx);
    const seeds = `a.cluster.test:4400,b:4400`;
    expect(await start('a', seeds)).toEqual([`${host('a').address}:4400`]);
    expect(await start('b', seeds)).toEqual([`${host('b').address}:4400`]);
    await start('c', seeds);
    await start('d', 'b:4400');
    const all = ['ma#echo', 'mb#echo', 'mc#echo', 'md#echo'];

    for (const h of ['a', 'b']) expect((await ask<State>(h, 'state')).global).toBe(true);
    for (const [g, o] of [
      ['a', 'mb'],
      ['b', 'ma'],
    ] as const) {
      const end = Date.now() + 10_000;
      while (JSON.stringify((await ask<State>(g, 'state')).mesh) !== JSON.stringify([o]) && Date.now() < end) await new Promise((r) => setTimeout(r, 200));
      expect(await ask<State>(g, 'state')).toMatchObject({ global: true, master: `m${g}`, mesh: [o] });
    }
    for (const h of ['a', 'b', 'c', 'd']) await eventually(h, 'keys echo', all, 10_000, 'every registration everywhere');
    // c published its host's address, not 127.0.0.1: d finds it so through its master.
    expect(await ask('d', 'find mc')).toEqual([`${host('c').address}:4400`]);

    // Cut the seeds' link; both learn it (drop), a change made meanwhile at d reaches a after the heal.
    cluster?.cutPair('a', 'b');
    await ask('a', 'drop mb');
    await ask('b', 'drop ma');
    await ask('d', 'set during-cut');
    await eventually('b', 'keys extra', ['during-cut'], 5000, 'b has the change');
    expect(await ask('a', 'keys extra')).toEqual([]);
    cluster?.healPair('a', 'b');
    await eventually('a', 'keys extra', ['during-cut'], 15_000, 'a converged after the heal');
    expect((await ask<State>('a', 'state')).mesh).toEqual(['mb']);

    // c's master goes away: c moves to the other seed, and the rest converge without it.
    const m = (await ask<State>('c', 'state')).master as string;
    const [gone, other] = m === 'ma' ? ['a', 'b'] : ['b', 'a'];
    await procs.get(gone)?.stop(3000);
    procs.delete(gone);
    await eventually('c', 'state', { global: false, master: `m${other}`, mesh: [], nodes: (await ask<State>('c', 'state')).nodes.filter((n) => n !== m) }, 10_000, 'c moved');
    // d's only seed is b: if b went, d has no master and its entries leave the view (as in Perl).
    const rest = all.filter((k) => k !== `${m}#echo` && (gone === 'a' || k !== 'md#echo'));
    for (const h of [other, 'c']) await eventually(h, 'keys echo', rest, 10_000, 'converged without the seed');
    expect((await ask<State>(other, 'state')).mesh).toEqual([]);
  }, 90_000);
});
