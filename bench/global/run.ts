/**
 * `npm run bench:global`: OTP's global and pg on a cluster of N real `erl` nodes (N = 3, 6), all
 * Erlang and with one visible Courier node among them (N erl + 1 Courier), in one run on this
 * machine. Every figure is timed inside Erlang (bench/global/bench_global.erl, compiled at start),
 * so the driver's rpc is not in it:
 *
 * - register_name: names/s — one erl node (E1) registers REG_NAMES fresh processes under unique
 *   names, global:register_name/2 one after the other, each returning `yes` (so every node of the
 *   cluster answered global's lock and registration calls); unregistered afterwards, not timed.
 * - pg:join: joins/s — E1 joins PG_JOINS fresh processes to a fresh group of scope pg, one
 *   pg:join/3 each. Before the first join, every other node of the cluster (each erl node and the
 *   Courier node) has a watcher on the group (pg:monitor/2) that counts the join notifications and
 *   reports once its node sees all PG_JOINS members; the time runs from the first join until E1
 *   received the last of those reports. Same definition with and without Courier.
 * - global:sync, fresh node: ms — a fresh erl node, connected to nothing, connects to E1 of a
 *   cluster already in sync, waits until it is connected to every node of the cluster (global's
 *   connect_all makes the other connections), then calls global:sync(); the time runs from before
 *   the connect until sync returned.
 *
 * Three configurations per N: all-Erlang (N erl), with Courier (N erl + one visible Courier node,
 * bench/global/peer.ts in its own process) and a control, N+1 erl, with an erl node where the
 * Courier node is — it tells the cost of one more node from the cost of Courier being that node.
 * A round of a configuration: a fresh erl node joins (the sync figure), the cluster it completes
 * measures register_name and pg:join, the fresh node stops and the cluster settles. The extra erl
 * node and the Courier node are started once per N and join through E1 before their round and
 * leave after it (global:disconnect/0); each round runs the three configurations back to back,
 * in an order that rotates, so drift on this shared machine falls on all three alike. A warm-up
 * round, then ROUNDS rounds; each figure is the median of the ROUNDS. Before each measurement
 * every node lists exactly the other nodes of its configuration. Node names make E1 sort first
 * (it is never global's boss, the node locked first) and the Courier node (or the control's
 * extra erl node) last: it is the boss — the worst place for it. erl runs with the schedulers'
 * busy wait off (+sbwt none, as bench:dist), since up to 8 VMs share the cores. `--prof`: the
 * Courier peer runs with --cpu-prof (profiles in
 * bench/global/prof/). Not a test; not in CI.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Node, rpcCall, type Process } from '@courier/core';
import { tcpDist } from '@courier/transport-tcp';
import { Tuple, atom, formatErlang, termEquals, type Atom, type Term } from '@courier/term';
import { compileErl, findErl, inProcess, randomCookie, startErl, uniqueName, type ErlNode } from '@courier/testkit';
import { startEpmd, type Epmd } from '../../interop/erlang/harness.js';
import { median } from '../median.js';
import { startCourierPeer } from '../courier-peer.js';
import { erlVersion, runInfo } from '../run-info.js';

const ROUNDS = 5;
const SIZES = [3, 6] as const;
const REG_NAMES = Number(process.env['BENCH_GLOBAL_NAMES'] ?? 300);
const PG_JOINS = Number(process.env['BENCH_GLOBAL_JOINS'] ?? 2000);
const prof = process.argv.includes('--prof');
const ERL_ARGS = ['+sbwt', 'none', '+sbwtdcpu', 'none', '+sbwtdio', 'none', '-kernel', 'start_pg', 'true'];
const B = atom('bench_global');
const RPC_MS = 120_000;

interface Round {
  readonly regPerSec: number;
  readonly joinsPerSec: number;
  readonly syncMs: number;
}

interface Ctx {
  readonly self: Process;
  readonly epmd: Epmd;
  readonly cookie: string;
  readonly beams: string;
}

const call = (self: Process, node: Atom, f: string, args: Term[]): Promise<Term> => rpcCall(self, node, B, atom(f), args, RPC_MS);

async function main(): Promise<void> {
  const tools = findErl();
  if (tools === null) {
    console.log('erl not found: the global benchmark needs Erlang/OTP (Debian erlang-base). Skipped.');
    return;
  }
  const started = Date.now();
  const beams = (await compileErl([fileURLToPath(new URL('./bench_global.erl', import.meta.url))], tools)).dir;
  const epmd = await startEpmd();
  const cookie = randomCookie();
  const driver = new Node({ name: `${uniqueName('gdriver')}@127.0.0.1`, transports: [tcpDist({ cookie, epmd: { port: epmd.port, embedded: false } })] });
  await driver.start();
  const results = new Map<number, SizeRounds>();
  try {
    await inProcess(driver, async (self) => {
      const ctx: Ctx = { self, epmd, cookie, beams };
      for (const n of SIZES) {
        results.set(n, await runSize(ctx, n));
      }
    });
  } finally {
    await driver.stop();
    await epmd.stop();
  }
  print(results, `${erlVersion(tools.erl) ?? 'Erlang/OTP (version unknown)'}, flags ${ERL_ARGS.slice(0, 6).join(' ')}`, (Date.now() - started) / 1000);
}

/** The rounds of one N: all Erlang (N erl), the control (N+1 erl), with Courier (N erl + Courier). */
interface SizeRounds {
  readonly erlang: Round[];
  readonly erlangPlus: Round[];
  readonly courier: Round[];
}

type Config = keyof SizeRounds;
const CONFIGS: readonly Config[] = ['erlang', 'erlangPlus', 'courier'];

/**
 * N-1 erl nodes that stay (the fresh node of each round is the Nth), one more erl node X named to
 * sort where the Courier node does, and the Courier node C, both started once. Each round runs the
 * three configurations back to back (their order rotating from round to round, so drift on this
 * shared machine falls on all three alike): X or C joins through E1 before its configuration and
 * leaves after it (global:disconnect/0), so the others run without it.
 */
async function runSize(ctx: Ctx, n: number): Promise<SizeRounds> {
  const { self } = ctx;
  const base = await Promise.all(Array.from({ length: n - 1 }, (_, i) => startNode(ctx, i === 0 ? `gb${n}a` : `gb${n}b`)));
  let peer: ChildProcess | undefined;
  let extra: ErlNode | undefined;
  try {
    const names = base.map((e) => atom(e.node as string));
    const e1 = names[0] as Atom;
    for (const e of names.slice(1)) await connect(ctx, e1, e);
    await settleAll(ctx, names, []);
    extra = await startNode(ctx, 'gc');
    const x = atom(extra.node as string);
    const started = await startPeer(ctx);
    peer = started.child;
    const c = started.name;
    const out: Record<Config, Round[]> = { erlang: [], erlangPlus: [], courier: [] };
    process.stdout.write(`N=${n}: rounds (all-Erlang, N+1 erl, with Courier) `);
    for (let r = 0; r <= ROUNDS; r++) {
      for (let k = 0; k < CONFIGS.length; k++) {
        const config = CONFIGS[(k + r) % CONFIGS.length] as Config;
        const tag = `${config}${n}_${r}`;
        let one: Round;
        if (config === 'erlang') {
          one = await round(ctx, tag, names, []);
        } else if (config === 'erlangPlus') {
          await connect(ctx, e1, x);
          await settleAll(ctx, [...names, x], []);
          one = await round(ctx, tag, [...names, x], []);
          await rpcCall(self, x, 'global', 'disconnect', [], RPC_MS);
          await leftCluster(ctx, names, x, async () => (await rpcCall(self, x, 'erlang', 'nodes', [], RPC_MS)) as Atom[]);
        } else {
          await connect(ctx, e1, c);
          await settleAll(ctx, names, [c]);
          one = await round(ctx, tag, names, [c]);
          await askPeer(self, c, 'disconnect');
          await leftCluster(ctx, names, c, async () => (await askPeer(self, c, 'nodes')) as Atom[]);
        }
        if (r > 0) out[config].push(one);
      }
      process.stdout.write('.');
    }
    process.stdout.write('\n');
    return out;
  } finally {
    if (peer !== undefined) await stopPeer(peer);
    await extra?.stop();
    await Promise.all(base.map((e) => e.stop()));
  }
}

/** After `gone` left: it lists no visible node, no erl node lists it, and global is in sync on the erl nodes. */
async function leftCluster(ctx: Ctx, erls: Atom[], gone: Atom, itsNodes: () => Promise<Atom[]>): Promise<void> {
  const end = Date.now() + 30_000;
  while ((await itsNodes()).length > 0) {
    if (Date.now() > end) throw new Error(`${gone.name} still connected after global:disconnect()`);
    await new Promise((r) => setTimeout(r, 20));
  }
  await call(ctx.self, erls[0] as Atom, 'settle', [erls, [], gone]);
}

/** Ask the Courier peer's bench_global_peer process directly (over the driver's hidden connection). */
async function askPeer(self: Process, peer: Atom, what: string): Promise<Term> {
  const ref = self.node.makeRef();
  self.send({ name: 'bench_global_peer', node: peer }, new Tuple([self.pid, ref, atom(what)]));
  const answer = await self.receive((m) => m instanceof Tuple && m.elements.length === 2 && termEquals(m.elements[0], ref), 10_000);
  if (!(answer instanceof Tuple)) throw new Error(`the Courier peer did not answer ${what}`);
  return answer.elements[1];
}

async function connect(ctx: Ctx, from: Atom, to: Atom): Promise<void> {
  const ok = await rpcCall(ctx.self, from, 'net_kernel', 'connect_node', [to]);
  if (ok !== true) throw new Error(`${from.name} could not connect to ${to.name}: ${formatErlang(ok)}`);
}

/** One round on `base` (E1 first) and `courier`: a fresh erl node joins (sync), then register_name and pg:join; the fresh node leaves. */
async function round(ctx: Ctx, tag: string, base: Atom[], courier: Atom[]): Promise<Round> {
  const { self } = ctx;
  const e1 = base[0] as Atom;
  const fresh = await startNode(ctx, 'gbf');
  const f = atom(fresh.node as string);
  try {
    const syncUs = num(await call(self, f, 'sync_join', [e1, [...base, ...courier]]));
    await checkConnected(ctx, [...base, f], courier);
    const reg = (await call(self, e1, 'register_rate', [atom(tag), REG_NAMES, courier])) as Tuple;
    const [regUs, seen] = reg.elements as [Term, Tuple[]];
    for (const s of seen) {
      if (num(s.elements[1]) < REG_NAMES) throw new Error(`the Courier node knew ${formatErlang(s.elements[1])} of the ${REG_NAMES} names just registered`);
    }
    const others = [...base.slice(1), f];
    const pg = (await call(self, e1, 'pg_rate', [new Tuple([atom('bench_global'), atom(tag)]), PG_JOINS, others, courier, 60_000])) as Tuple;
    const watchers = num(pg.elements[1]);
    if (watchers !== others.length + courier.length) throw new Error(`pg: ${watchers} watchers, expected ${others.length + courier.length}`);
    return { syncMs: syncUs / 1000, regPerSec: REG_NAMES / (num(regUs) / 1e6), joinsPerSec: PG_JOINS / (num(pg.elements[0]) / 1e6) };
  } finally {
    await fresh.stop();
    await call(self, e1, 'settle', [base, courier, f]);
  }
}

/** Every node of the cluster (erl and Courier) lists exactly the others in nodes(). */
async function checkConnected(ctx: Ctx, erls: Atom[], courier: Atom[]): Promise<void> {
  const all = [...erls, ...courier];
  const view = (await call(ctx.self, erls[0] as Atom, 'cluster_view', [erls, courier])) as Tuple[];
  for (const v of view) {
    const [who, seen] = v.elements as [Atom, Atom[]];
    const missing = all.filter((x) => x !== who && !seen.includes(x));
    if (missing.length > 0) throw new Error(`${who.name} is not connected to ${missing.map((m) => m.name).join(', ')}`);
    const strangers = seen.filter((x) => !all.includes(x));
    if (strangers.length > 0) throw new Error(`${who.name} is connected to ${strangers.map((m) => m.name).join(', ')}, not of this configuration`);
  }
}

/** Wait until the cluster is fully connected, then global:sync() on every erl node. */
async function settleAll(ctx: Ctx, erls: Atom[], courier: Atom[]): Promise<void> {
  const end = Date.now() + 30_000;
  for (;;) {
    try {
      await checkConnected(ctx, erls, courier);
      break;
    } catch (err) {
      if (Date.now() > end) throw err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  for (const e of erls) if ((await rpcCall(ctx.self, e, 'global', 'sync', [], RPC_MS)) !== atom('ok')) throw new Error(`global:sync() failed on ${e.name}`);
}

async function startNode(ctx: Ctx, prefix: string): Promise<ErlNode> {
  const e = startErl({
    name: uniqueName(prefix),
    cookie: ctx.cookie,
    codePath: [ctx.beams],
    env: { ERL_EPMD_PORT: String(ctx.epmd.port) },
    eval: 'io:format("UP~n").',
    args: ERL_ARGS,
  });
  await e.stdout.waitFor('UP', 30_000);
  return e;
}

async function startPeer(ctx: Ctx): Promise<{ child: ChildProcess; name: Atom }> {
  const profDir = fileURLToPath(new URL('./prof/', import.meta.url));
  if (prof) mkdirSync(profDir, { recursive: true });
  const peer = await startCourierPeer(new URL('./peer.ts', import.meta.url), [`${uniqueName('gc')}@127.0.0.1`, ctx.cookie, String(ctx.epmd.port)], {
    flags: prof ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : [],
  });
  return { child: peer.process, name: atom(peer.name) };
}

async function stopPeer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  await exited;
}

function num(x: Term): number {
  if (typeof x === 'number') return x;
  if (typeof x === 'bigint') return Number(x);
  throw new Error(`expected a number from bench_global, got ${formatErlang(x)}`);
}

function print(results: Map<number, SizeRounds>, otp: string, secs: number): void {
  console.log('');
  console.log(
    runInfo({
      courier: 'the Courier node: one event loop, its own process',
      runtimes: [otp],
      statistic: `each figure the median of ${ROUNDS} rounds after a warm-up round [min–max], the same for every configuration; all timing inside Erlang`,
    }),
  );
  console.log(`sizes: register_name ${REG_NAMES} names, pg:join ${PG_JOINS} joins; total ${secs.toFixed(0)} s`);
  const f = (x: number, d = 0) => x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
  const rows: string[][] = [];
  const metrics: Array<{ label: string; pick: (r: Round) => number; higherIsBetter: boolean; d: number }> = [
    { label: 'global:register_name (names/s)', pick: (r) => r.regPerSec, higherIsBetter: true, d: 0 },
    { label: 'pg:join, seen on every node (joins/s)', pick: (r) => r.joinsPerSec, higherIsBetter: true, d: 0 },
    { label: 'global:sync, fresh node joining (ms)', pick: (r) => r.syncMs, higherIsBetter: false, d: 1 },
  ];
  for (const [n, { erlang, erlangPlus, courier }] of results) {
    for (const m of metrics) {
      const [e, x, c] = [erlang.map(m.pick), erlangPlus.map(m.pick), courier.map(m.pick)];
      const [me, mx, mc] = [median(e), median(x), median(c)];
      const ratio = mc / me;
      const met = m.higherIsBetter ? ratio >= 0.8 : ratio <= 1.25;
      const cell = (xs: number[], med: number) => `${f(med, m.d)} [${f(Math.min(...xs), m.d)}–${f(Math.max(...xs), m.d)}]`;
      rows.push([
        String(n),
        m.label,
        cell(e, me),
        cell(c, mc),
        `${ratio.toFixed(2)}×`,
        `${m.higherIsBetter ? '≥ 0.80×' : '≤ 1.25×'} ${met ? 'met' : 'MISSED'}`,
        cell(x, mx),
        `${(mc / mx).toFixed(2)}×`,
      ]);
    }
  }
  const head = ['N', 'metric', 'all-Erlang (N erl)', 'with Courier (N erl + Courier)', 'ratio', 'target', 'control: N+1 erl', 'Courier vs control'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  const right = [true, false, true, true, true, false, true, true];
  const line = (cells: string[]) => `| ${cells.map((c, i) => (right[i] ? c.padStart(widths[i] as number) : c.padEnd(widths[i] as number))).join(' | ')} |`;
  console.log('');
  console.log(line(head));
  console.log(`|${widths.map((w, i) => (right[i] ? `${'-'.repeat(w + 1)}:` : '-'.repeat(w + 2))).join('|')}|`);
  for (const r of rows) console.log(line(r));
  console.log(
    'ratio: with Courier / all-Erlang (rates: higher is better; sync time: lower is better). The control has an erl node where the Courier node is ' +
      "(same name order: global's boss), so \"Courier vs control\" is the Courier node's cost beside an erl node's in its place.",
  );
}

await main();
process.exit(0);
