/**
 * `npm run bench:cluster`: clusters across hosts, Courier beside Erlang in one run on this
 * machine, in the testkit's network-namespace cluster (needs root and `ip netns`; each host its
 * own address, /etc/hosts and EPMD). The nodes are the interop suite's (interop/cluster/fixtures:
 * gp-node.ts, a visible Courier node; gp_peer.erl, erl), driven by commands on their stdin.
 *
 * - Partition to nodedown: three pairs on six hosts — erl↔erl, Courier↔erl, Courier↔Courier,
 *   every node with net_ticktime TICKTIME — are cut at once (cutPair: the pair's packets vanish,
 *   no FIN, no RST); the figure is the time from a pair's cut to the later of its two nodedowns
 *   (each node prints its nodedown with the wall-clock time). Then the pairs are healed and
 *   reconnected; DOWN_TRIALS times, median. OTP's bound is T×¾ to T×1¼ after the last byte
 *   received, so a single figure moves with where in a tick the cut falls: the median of several.
 * - Join: a cluster of N = 3, 6, 10 erl nodes on N hosts (meshed, global in sync); a node on
 *   another host — an erl, or a Courier node — connects to one member and the figure is the time
 *   from the connect call until it is connected to all N (nodeup events) and global:sync has
 *   returned, measured inside the joining node. It then leaves quietly (global:disconnect) and
 *   joins again: one warm-up each, then JOIN_TRIALS each, alternating, median.
 * Not a test; not in CI.
 */
import { createCluster, netnsSupport, randomCookie, uniqueName, type Cluster } from '@courier/testkit';
import { tools } from '../../interop/cluster/cluster.js';
import { courierGp, erlGp, eventually, type GpNode } from '../../interop/cluster/gp.js';
import { erlVersion, runInfo } from '../run-info.js';

const TICKTIME = Number(process.env['BENCH_CLUSTER_TICKTIME'] ?? 4);
const DOWN_TRIALS = Number(process.env['BENCH_CLUSTER_DOWN_TRIALS'] ?? 9);
const JOIN_SIZES = (process.env['BENCH_CLUSTER_SIZES'] ?? '3,6,10').split(',').map(Number);
const JOIN_TRIALS = Number(process.env['BENCH_CLUSTER_JOIN_TRIALS'] ?? 7);
const TARGET = 1.2;
/** Print each side's nodedown time of every trial. */
const VERBOSE = process.env['BENCH_CLUSTER_VERBOSE'] === '1';

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The wall-clock time of `node`'s first `EV nodedown <peer>` at or after `since`. */
async function nodedownAt(node: GpNode, peer: string, since: number, ms: number): Promise<number> {
  const end = Date.now() + ms;
  for (;;) {
    for (const line of node.out.text.split('\n')) {
      const m = /^EV nodedown (\S+) (\d+)$/.exec(line);
      if (m !== null && m[1] === peer && Number(m[2]) >= since) return Number(m[2]);
    }
    if (Date.now() > end) throw new Error(`${node.name}: no nodedown of ${peer} within ${ms} ms`);
    await sleep(10);
  }
}

const sees = async (n: GpNode): Promise<string[]> => (await n.ask('nodes')).split(' ').filter((x) => x !== '');

interface Pair {
  readonly kind: string;
  readonly hosts: readonly [string, string];
  readonly nodes: readonly [GpNode, GpNode];
  /** Per trial: the later of the two nodedowns. */
  readonly times: number[];
  /** Per trial and side: each node's own nodedown. */
  readonly sides: number[];
}

async function partitions(): Promise<Pair[]> {
  const cluster = await createCluster({ hosts: ['p1', 'p2', 'p3', 'p4', 'p5', 'p6'], subnet: 40 });
  try {
    await Promise.all(cluster.hosts.map((h) => h.startEpmd()));
    const at = (h: string, prefix: string): string => `${uniqueName(prefix)}@${cluster.host(h).hostname}`;
    const make = async (kind: string, x: string, y: string, courierX: boolean, courierY: boolean): Promise<Pair> => {
      const cookie = randomCookie();
      const start = (h: string, courier: boolean): Promise<GpNode> =>
        courier ? courierGp(cluster.host(h), at(h, 'bc'), cookie, undefined, false, TICKTIME) : erlGp(cluster.host(h), at(h, 'be'), cookie, undefined, TICKTIME);
      const nodes = await Promise.all([start(x, courierX), start(y, courierY)]);
      for (const n of nodes) if ((await n.ask('monitor')) !== 'ok') throw new Error(`${n.name}: monitor failed`);
      return { kind, hosts: [x, y], nodes, times: [], sides: [] };
    };
    const pairs = await Promise.all([
      make('erl ↔ erl', 'p1', 'p2', false, false),
      make('Courier ↔ erl', 'p3', 'p4', true, false),
      make('Courier ↔ Courier', 'p5', 'p6', true, true),
    ]);
    const connect = async (p: Pair): Promise<void> => {
      const [x, y] = p.nodes;
      // A Courier node ticks each connection from its start, erl every connection from its ticker:
      // connecting at a random point of a tick keeps the reconnection (which follows a nodedown,
      // itself on a tick) from fixing the phase between the two sides.
      await sleep(Math.random() * ((TICKTIME * 1000) / 4));
      await eventually(
        () => x.ask(`connect ${y.name}`),
        (r) => r === 'true',
        10_000,
        `${p.kind} connected`,
      );
      await eventually(
        () => Promise.all([sees(x), sees(y)]),
        ([a, b]) => (a ?? []).includes(y.name) && (b ?? []).includes(x.name),
        10_000,
        `${p.kind} connected both ways`,
      );
    };
    try {
      await Promise.all(pairs.map(connect));
      for (let t = 0; t < DOWN_TRIALS; t++) {
        process.stdout.write(` ${t + 1}`);
        // Each trial cuts at another point of the tick intervals; the pairs in turn come first.
        await sleep(Math.random() * ((TICKTIME * 1000) / 4));
        const order = pairs.map((_, i) => pairs[(i + t) % pairs.length] as Pair);
        const cutAt = new Map<Pair, number>();
        for (const p of order) {
          cutAt.set(p, Date.now());
          cluster.cutPair(...p.hosts);
        }
        await Promise.all(
          pairs.map(async (p) => {
            const since = cutAt.get(p) as number;
            const [x, y] = p.nodes;
            const downs = await Promise.all([nodedownAt(x, y.name, since, 3 * TICKTIME * 1000), nodedownAt(y, x.name, since, 3 * TICKTIME * 1000)]);
            p.times.push(Math.max(...downs) - since);
            p.sides.push(...downs.map((d) => d - since));
            if (VERBOSE) process.stdout.write(`\n  ${p.kind}: ${x.name.split('_')[0]} ${downs[0] - since} ms, ${y.name.split('_')[0]} ${downs[1] - since} ms`);
          }),
        );
        for (const p of pairs) cluster.healPair(...p.hosts);
        await Promise.all(pairs.map(connect));
      }
    } finally {
      await Promise.all(pairs.flatMap((p) => p.nodes.map((n) => n.stop(3000))));
    }
    return pairs;
  } finally {
    await cluster.teardown();
  }
}

/**
 * The joiner leaves quietly (global:disconnect), after the members' global has finished with it:
 * a member still connecting to it when it leaves brings it back, so it leaves again until it is gone.
 */
async function leave(joiner: GpNode, members: readonly GpNode[]): Promise<void> {
  await sleep(300);
  for (let attempt = 1; ; attempt++) {
    await joiner.ask('leave');
    try {
      await eventually(
        () => Promise.all([sees(joiner), ...members.map(sees)]),
        ([mine, ...theirs]) => (mine ?? []).length === 0 && theirs.every((s) => !s.includes(joiner.name)),
        2000,
        `${joiner.name} gone from the cluster`,
      );
      return;
    } catch (err) {
      if (attempt === 5) throw err;
    }
  }
}

interface JoinRow {
  readonly n: number;
  readonly erl: number[];
  readonly courier: number[];
}

async function joins(): Promise<JoinRow[]> {
  const maxN = Math.max(...JOIN_SIZES);
  const memberHosts = Array.from({ length: maxN }, (_, i) => `m${i + 1}`);
  const cluster: Cluster = await createCluster({ hosts: [...memberHosts, 'j'], subnet: 41 });
  const started: GpNode[] = [];
  try {
    await Promise.all(cluster.hosts.map((h) => h.startEpmd()));
    const cookie = randomCookie();
    const j = cluster.host('j');
    const [erlJoiner, courierJoiner] = await Promise.all([
      erlGp(j, `${uniqueName('joinerl')}@${j.hostname}`, cookie, undefined, TICKTIME),
      courierGp(j, `${uniqueName('joincr')}@${j.hostname}`, cookie, undefined, false, TICKTIME),
    ]);
    started.push(erlJoiner, courierJoiner);
    const members: GpNode[] = [];
    const rows: JoinRow[] = [];
    for (const n of JOIN_SIZES) {
      // Grow the cluster to n erl nodes, each new one dialling the first; global meshes them.
      const fresh = await Promise.all(
        memberHosts.slice(members.length, n).map((h) => erlGp(cluster.host(h), `${uniqueName('member')}@${cluster.host(h).hostname}`, cookie, undefined, TICKTIME)),
      );
      started.push(...fresh);
      members.push(...fresh);
      const first = members[0] as GpNode;
      for (const m of fresh) if (m !== first) await m.ask(`connect ${first.name}`);
      await eventually(
        () => Promise.all(members.map(sees)),
        (v) => v.every((s) => s.length === n - 1),
        30_000,
        `a mesh of ${n}`,
      );
      for (const m of members) await m.ask('sync');
      const row: JoinRow = { n, erl: [], courier: [] };
      process.stdout.write(` N=${n}`);
      for (let t = -1; t < JOIN_TRIALS; t++) {
        for (const [joiner, into] of t % 2 === 0
          ? ([
              [erlJoiner, row.erl],
              [courierJoiner, row.courier],
            ] as const)
          : ([
              [courierJoiner, row.courier],
              [erlJoiner, row.erl],
            ] as const)) {
          const via = members[(t + 1) % n] as GpNode;
          const us = await joiner.ask(`joinall ${via.name} ${n}`, 30_000);
          if (!/^\d+$/.test(us)) throw new Error(`${joiner.name} joining ${n}: ${us}`);
          if (t >= 0) into.push(Number(us) / 1000);
          await leave(joiner, members);
        }
      }
      rows.push(row);
    }
    return rows;
  } finally {
    await Promise.all(started.map((n) => n.stop(3000)));
    await cluster.teardown();
  }
}

const f = (x: number, d = 0): string => x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });

function table(head: string[], rows: string[][]): void {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  const line = (cells: string[]): string => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number))).join(' | ')} |`;
  console.log(line(head));
  console.log(`|${widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`);
  for (const r of rows) console.log(line(r));
}

async function main(): Promise<void> {
  if (tools === null) {
    console.log('erl not found: the cluster benchmark needs Erlang/OTP. Skipped.');
    return;
  }
  const s = netnsSupport();
  if (!s.available) {
    console.log(`the cluster benchmark runs in network namespaces: ${s.reason}. Skipped.`);
    return;
  }
  const started = Date.now();
  process.stdout.write(`partition to nodedown, ${DOWN_TRIALS} trials:`);
  const pairs = await partitions();
  process.stdout.write(`\njoining, ${JOIN_TRIALS} trials each after a warm-up:`);
  const joined = await joins();
  process.stdout.write('\n\n');
  const otp = erlVersion(tools.erl) ?? 'Erlang/OTP (version unknown)';
  console.log(
    runInfo({
      courier: 'each Courier node one event loop, its own process',
      runtimes: [`${otp} (erl defaults, -kernel start_pg true)`],
      statistic: `the median of ${DOWN_TRIALS} partitions (nodedown) and of ${JOIN_TRIALS} joins after a warm-up (join), the same on both sides; each figure's range in brackets`,
    }),
  );
  console.log(
    `hosts: network namespaces on one bridge (testkit createCluster), one EPMD each; net_ticktime ${TICKTIME} s everywhere (OTP's bound: ${f((TICKTIME * 3) / 4, 1)}–${f((TICKTIME * 5) / 4, 1)} s); every node visible (global, pg); total ${((Date.now() - started) / 1000).toFixed(0)} s`,
  );
  console.log('');
  const range = (xs: number[], d: number): string => `${f(median(xs), d)} (${f(Math.min(...xs), d)}–${f(Math.max(...xs), d)})`;
  const base = pairs[0] as Pair;
  table(
    ['cut link → nodedown (ms)', 'each side: median (range)', 'ratio', 'both sides: median (range)', 'ratio'],
    pairs.map((p) => {
      const ratio = (xs: number[], ys: number[]): string => (p === base ? '—' : `${(median(xs) / median(ys)).toFixed(2)}×`);
      return [p.kind, range(p.sides, 0), ratio(p.sides, base.sides), range(p.times, 0), ratio(p.times, base.times)];
    }),
  );
  console.log('');
  console.log(
    "each side: every node's own nodedown (2 per trial); both sides: the later of the pair's two. Ratio to erl ↔ erl. Two erl nodes' tickers keep one phase for the whole run (each ticks all its connections from its start), a Courier node's starts with each connection: the later of two sides is the larger the more their phases differ.",
  );
  console.log('');
  table(
    ['a node joins a cluster of N erl nodes (ms)', 'N', 'erl joining', 'Courier joining', 'ratio'],
    joined.map((r) => ['connected to all N + global:sync', String(r.n), range(r.erl, 1), range(r.courier, 1), `${(median(r.courier) / median(r.erl)).toFixed(2)}×`]),
  );
  console.log('');
  console.log(`ratio: Courier / Erlang (lower is better); target ≤ ${TARGET}×.`);
}

await main();
process.exit(0);
