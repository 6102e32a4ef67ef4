import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCluster, netnsPeer, randomCookie, uniqueName, type Cluster } from '@courier/testkit';
import { TICKTIME, erlPeer } from './cluster.js';
import { courierGp, erlGp, eventually, type GpNode } from './gp.js';

/**
 * The visible-node issue's global/pg convergence under namespace faults: a visible Courier node C
 * and erl Ea on host a, erl Eb on b, Ec on c (each host its own EPMD, net_ticktime 4 s, OTP 25's
 * prevent_overlapping_partitions on). Names registered with global and pg members joined on every
 * node; then a host is cut off, or one pair of hosts only, and while the sides are apart each
 * registers the same name and joins more members; after the heal (and a reconnection) every node
 * — Courier's too — has the same global:registered_names(), each name's whereis the same pid (no
 * duplicate: the conflict resolved once), and the same pg members, all of them, within a bound.
 */
const netns = netnsPeer();
const T = TICKTIME * 1000;
/** From the heal to every node agreeing: reconnection, global's merge and resolution, pg's sync. */
const CONVERGE_MS = 20_000;

let cluster: Cluster | undefined;
let nodes: GpNode[] = [];
let C: GpNode, Ea: GpNode, Eb: GpNode, Ec: GpNode;
/** The members joined on each node (by node name), and every name registered. */
const joined = new Map<string, number>();
const names = new Set<string>();

async function join(n: GpNode, k: number): Promise<void> {
  expect(await n.ask(`join grp ${k}`)).toBe('ok');
  joined.set(n.name, (joined.get(n.name) ?? 0) + k);
}
async function register(n: GpNode, name: string): Promise<void> {
  expect(await n.ask(`register ${name}`)).toBe('yes');
  names.add(name);
}
const others = (n: GpNode): string[] => nodes.filter((x) => x !== n).map((x) => x.name);
const sees = async (n: GpNode): Promise<string[]> => (await n.ask('nodes')).split(' ').filter((x) => x !== '');

/** Every node sees every name registered (one pid each, the same everywhere) and every member joined. */
async function converged(ms: number): Promise<void> {
  await eventually(
    async () => Promise.all(nodes.map(async (n) => ({ node: n.name, seen: await sees(n), names: await n.ask('names'), members: await n.ask('members grp') }))),
    (views) => {
      const [first] = views;
      if (first === undefined) return false;
      return views.every((v) => {
        if (v.seen.length !== nodes.length - 1 || v.names !== first.names || v.members !== first.members) return false;
        const entries = v.names.split(' ').filter((x) => x !== '');
        const members = v.members.split(' ').filter((x) => x !== '');
        return (
          entries.length === names.size &&
          entries.every((e) => names.has(e.split('=')[0] as string) && !e.endsWith('=undefined')) &&
          [...joined].every(([node, k]) => members.filter((m) => m.startsWith(`${node}/`)).length === k)
        );
      });
    },
    ms,
    'the same global names and pg members on every node',
  );
  // And global:sync/0 returns everywhere.
  for (const n of nodes) expect(await n.ask('sync')).toBe('ok');
}

/** After a heal: every node dials every other (net_kernel:connect_node), as traffic would. */
async function reconnect(): Promise<void> {
  await Promise.all(nodes.map(async (n) => Promise.all(others(n).map((o) => n.ask(`connect ${o}`)))));
}

beforeAll(async () => {
  if (!netns.available || !erlPeer.available) return;
  cluster = await createCluster({ hosts: ['a', 'b', 'c'], subnet: 17 });
  const c = cluster;
  await Promise.all(['a', 'b', 'c'].map((h) => c.host(h).startEpmd()));
  const cookie = randomCookie();
  const at = (h: string): string => c.host(h).hostname;
  [C, Ea, Eb, Ec] = await Promise.all([
    courierGp(c.host('a'), `${uniqueName('cg')}@${at('a')}`, cookie),
    erlGp(c.host('a'), `${uniqueName('ea')}@${at('a')}`, cookie),
    erlGp(c.host('b'), `${uniqueName('eb')}@${at('b')}`, cookie),
    erlGp(c.host('c'), `${uniqueName('ec')}@${at('c')}`, cookie),
  ]);
  nodes = [C, Ea, Eb, Ec];
}, 60_000);
afterAll(async () => {
  await Promise.all(nodes.map((n) => n.stop(3000)));
  await cluster?.teardown();
});

describe('global and pg across three hosts, a Courier node among erl nodes', () => {
  it('form one cluster from a chain of connections (connect_all): names and members agree everywhere', async (ctx) => {
    netns.require(ctx);
    erlPeer.require(ctx);
    // A chain — C dials Eb, Eb dials Ec, Ec dials Ea —: global connects the rest.
    expect(await C.ask(`connect ${Eb.name}`)).toBe('true');
    expect(await Eb.ask(`connect ${Ec.name}`)).toBe('true');
    expect(await Ec.ask(`connect ${Ea.name}`)).toBe('true');
    await eventually(
      () => Promise.all(nodes.map(sees)),
      (v) => v.every((s) => s.length === 3),
      15_000,
      'a full mesh',
    );
    for (const n of nodes) {
      await register(n, `n_${nodes.indexOf(n)}`);
      await join(n, 1 + nodes.indexOf(n));
    }
    await converged(10_000);
  });

  const faults = [
    {
      kind: 'host a (the Courier node and Ea) cut off',
      cut: (c: Cluster) => c.cut('a'),
      heal: (c: Cluster) => c.heal('a'),
      // Who is apart from whom once the nodedowns have come.
      apart: (): [GpNode, GpNode][] => [
        [C, Eb],
        [C, Ec],
        [Ea, Eb],
        [Ea, Ec],
      ],
      sides: (): [GpNode, GpNode] => [C, Eb],
    },
    {
      kind: 'the pair a–b cut, both still reach c',
      cut: (c: Cluster) => c.cutPair('a', 'b'),
      heal: (c: Cluster) => c.healPair('a', 'b'),
      apart: (): [GpNode, GpNode][] => [
        [C, Eb],
        [Ea, Eb],
      ],
      sides: (): [GpNode, GpNode] => [C, Eb],
    },
    {
      kind: 'host c cut off',
      cut: (c: Cluster) => c.cut('c'),
      heal: (c: Cluster) => c.heal('c'),
      apart: (): [GpNode, GpNode][] => [
        [C, Ec],
        [Eb, Ec],
      ],
      sides: (): [GpNode, GpNode] => [Ec, C],
    },
  ];

  it.for(faults)('$kind: after the heal, no duplicate global name and every pg member on every node', async (fault, ctx) => {
    netns.require(ctx);
    erlPeer.require(ctx);
    const c = cluster as Cluster;
    const tag = faults.indexOf(fault);
    try {
      fault.cut(c);
      // The nodedowns, both ways (net_tick_timeout; prevent_overlapping_partitions may drop more).
      await eventually(
        () => Promise.all(fault.apart().map(async ([x, y]) => !(await sees(x)).includes(y.name) && !(await sees(y)).includes(x.name))),
        (v) => v.every(Boolean),
        2 * T,
        'nodedown on both sides',
      );
      // Apart, both sides register the same name and join more members.
      const [x, y] = fault.sides();
      await register(x, `dup_${tag}`);
      await register(y, `dup_${tag}`);
      await register(y, `only_${tag}`);
      await join(x, 2);
      await join(y, 3);
      fault.heal(c);
      const healedAt = Date.now();
      await reconnect();
      await converged(CONVERGE_MS);
      await ctx.annotate(`converged ${Date.now() - healedAt} ms after the heal`);
    } finally {
      fault.heal(c);
    }
  });
});
