/**
 * `npm run bench:scale`: cost per peer and per process, Courier beside Erlang in one run on this
 * machine. A hub node (its own OS process, started fresh for each figure) runs the same steps in
 * Erlang (scale_bench.erl) and in Courier (hub.ts); the driver samples the hub's OS process from
 * outside at each `MARK` the hub prints: RSS (/proc/PID/status) and CPU time (the sum over its
 * threads of /proc/PID/task/T/schedstat, nanoseconds).
 *
 * Per peer, with N = 1, 10, 50, 100 peers on 127.0.0.1, three configurations: an erl hub with
 * erl peers (Erlang's figures), a Courier hub with the same erl peers, and a Courier hub with
 * Courier peers (COURIER_PER_PROC Courier nodes per OS process). The erl peers are N separate
 * VMs (+S 1, schedulers' busy wait off): 100 VMs fit in memory here, and idle VMs cost the two
 * cores little. Every node runs net_ticktime TICKTIME (a tick every TICKTIME/4 s per connection);
 * every connection is hidden (no global, no mesh).
 * - memory per connection: runtime memory after N connections minus before, / N (Erlang:
 *   erlang:memory(total) after a GC of every process; Courier: V8 heap used + external after
 *   two full GCs), and RSS the same way;
 * - idle CPU: the hub's CPU time per second over IDLE_S s with the N connections idle (ticks
 *   only), minus the same over IDLE_S s before they were made, per peer. Each hub first connects
 *   to one more erl peer and is idle with it (its distribution code loaded and warm), so neither
 *   figure counts a first connection's one-time costs;
 * - message rate: M small messages `{msg, I}` from one process, round robin over the N peers'
 *   `scale_sink` ({scale_sink, Node} ! Msg), until each sink has answered a sync sent after them;
 *   best of 3 in each hub.
 * Per process, at two sizes (100k processes / 10k watchers, 1M / 100k): the hub spawns NPROCS
 * idle processes (each waiting in receive; erl with +P), then for the nodedown figures W fresh
 * watcher processes each monitor (or, trapping exits, link to) one process on an erl peer; the
 * hub disconnects the peer and the time runs until a collector got a message from every watcher
 * that received its DOWN / EXIT noconnection. "1 monitor": the same with one watcher, the
 * NPROCS idle processes still there. Not a test; not in CI.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { compileErl, findErl, randomCookie, uniqueName } from '@courier/testkit';
import { startEpmd } from '../../interop/erlang/harness.js';
import { erlVersion, runInfo } from '../run-info.js';

const SIZES = (process.env['BENCH_SCALE_PEERS'] ?? '1,10,50,100').split(',').map(Number);
const TICKTIME = 4;
const IDLE_S = Number(process.env['BENCH_SCALE_IDLE_S'] ?? 5);
/** A directory: the Courier hubs run with --cpu-prof there. */
const PROF = process.env['BENCH_SCALE_PROF'];
const MSGS = Number(process.env['BENCH_SCALE_MSGS'] ?? 200_000);
/** NPROCS:NWATCH pairs. */
const PROC_SIZES = (process.env['BENCH_SCALE_PROCS'] ?? '100000:10000,1000000:100000').split(',').map((x) => x.split(':').map(Number) as [number, number]);
const COURIER_PER_PROC = 25;
const PEER_ARGS = ['+S', '1', '+A', '1', '+sbwt', 'none', '+sbwtdcpu', 'none', '+sbwtdio', 'none', '-hidden', '-kernel', 'net_ticktime', String(TICKTIME)];
const HUB_ARGS = ['+sbwt', 'none', '+sbwtdcpu', 'none', '+sbwtdio', 'none', '-hidden', '-kernel', 'net_ticktime', String(TICKTIME)];
const here = (f: string): string => fileURLToPath(new URL(f, import.meta.url));

interface Sample {
  readonly at: number;
  readonly rssKiB: number;
  readonly cpuNs: number;
}

interface HubRun {
  readonly marks: Map<string, Sample>;
  readonly results: Map<string, number>;
}

/** RSS and CPU (all threads) of OS process `pid`, now. */
function sample(pid: number): Sample {
  const at = performance.now();
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rssKiB = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
  let cpuNs = 0;
  for (const t of readdirSync(`/proc/${pid}/task`)) {
    try {
      cpuNs += Number(readFileSync(`/proc/${pid}/task/${t}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // A thread that ended meanwhile.
    }
  }
  return { at, rssKiB, cpuNs };
}

/** Run a hub to its end: MARK lines sampled, RESULT lines kept. */
function runHub(cmd: string, args: string[], env?: Record<string, string>): Promise<HubRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...env } });
    const marks = new Map<string, Sample>();
    const results = new Map<string, number>();
    let buf = '';
    let done = false;
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d: string) => {
      buf += d;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        const w = line.split(' ');
        if (w[0] === 'MARK') marks.set(w[1] as string, sample(child.pid as number));
        else if (w[0] === 'RESULT') results.set(w[1] as string, Number(w[2]));
        else if (w[0] === 'DONE') done = true;
        else if (line !== '') process.stderr.write(`hub: ${line}\n`);
      }
    });
    child.once('exit', (code) => (done ? resolve({ marks, results }) : reject(new Error(`hub ${args.join(' ').slice(0, 120)} exited ${code} before DONE`))));
  });
}

function courierHub(args: string[]): Promise<HubRun> {
  const prof = PROF === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${PROF}`];
  return runHub(process.execPath, [...prof, '--expose-gc', '--max-old-space-size=16384', '--conditions=source', '--import', 'tsx', here('./hub.ts'), ...args]);
}

function erlHub(ctx: Ctx, evalExpr: string, extra: string[] = []): Promise<HubRun> {
  const args = ['-noshell', '-name', `${uniqueName('scalehub')}@127.0.0.1`, '-setcookie', ctx.cookie, '-pa', ctx.beams, ...HUB_ARGS, ...extra, '-eval', evalExpr];
  return runHub('erl', args, { ERL_EPMD_PORT: String(ctx.epmdPort) });
}

interface Ctx {
  readonly cookie: string;
  readonly epmdPort: number;
  readonly beams: string;
}

interface Started {
  readonly child: ChildProcess;
  readonly names: string[];
}

/** Start a child and wait for a line matching `ready`. */
function startChild(cmd: string, args: string[], ready: RegExp, env?: Record<string, string>): Promise<{ child: ChildProcess; match: RegExpExecArray }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...env } });
    let buf = '';
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (d: string) => {
      buf += d;
      const m = ready.exec(buf);
      if (m) resolve({ child, match: m });
    });
    child.once('exit', (code) => reject(new Error(`${cmd} exited ${code} before it was ready`)));
  });
}

async function startErlPeers(ctx: Ctx, n: number): Promise<Started[]> {
  const out: Started[] = [];
  for (let i = 0; i < n; i += 10) {
    const batch = Array.from({ length: Math.min(10, n - i) }, async () => {
      const name = `${uniqueName('scaleerl')}@127.0.0.1`;
      const args = ['-noshell', '-name', name, '-setcookie', ctx.cookie, '-pa', ctx.beams, ...PEER_ARGS, '-eval', 'scale_bench:peer().'];
      const { child } = await startChild('erl', args, /UP/, { ERL_EPMD_PORT: String(ctx.epmdPort) });
      return { child, names: [name] };
    });
    out.push(...(await Promise.all(batch)));
  }
  return out;
}

async function startCourierPeers(ctx: Ctx, n: number): Promise<Started[]> {
  const procs = Math.ceil(n / COURIER_PER_PROC);
  return Promise.all(
    Array.from({ length: procs }, async (_, i) => {
      const count = Math.min(COURIER_PER_PROC, n - i * COURIER_PER_PROC);
      const args = [
        '--conditions=source',
        '--import',
        'tsx',
        here('./peers.ts'),
        `${uniqueName('scalecr')}_${i}_`,
        String(count),
        ctx.cookie,
        String(ctx.epmdPort),
        String(TICKTIME),
      ];
      const { child, match } = await startChild(process.execPath, args, /READY (\S+)\n/);
      return { child, names: (match[1] as string).split(',') };
    }),
  );
}

async function stopAll(started: Started[]): Promise<void> {
  await Promise.all(
    started.map(
      ({ child }) =>
        new Promise<void>((r) => {
          if (child.exitCode !== null) return r();
          child.once('exit', () => r());
          child.kill('SIGTERM');
        }),
    ),
  );
}

type Config = 'erlang' | 'courierErl' | 'courierCourier';
const CONFIGS: readonly Config[] = ['erlang', 'courierErl', 'courierCourier'];

interface PeerFigures {
  readonly memPerConn: number;
  readonly rssPerConn: number;
  readonly idleCpuUsPerPeerS: number;
  readonly rate: number;
}

async function peerRun(ctx: Ctx, config: Config, warm: string, peers: string[]): Promise<PeerFigures> {
  const r =
    config === 'erlang'
      ? await erlHub(ctx, `scale_bench:hub_peers('${warm}', [${peers.map((p) => `'${p}'`).join(',')}], ${MSGS}, ${IDLE_S}).`)
      : await courierHub(['peers', ctx.cookie, String(ctx.epmdPort), String(TICKTIME), String(MSGS), String(IDLE_S), warm, peers.join(',')]);
  const m = (k: string): Sample => r.marks.get(k) as Sample;
  // CPU per second with the N connections idle, minus the same before them (the hub and its warm-up connection).
  const perS = (a: Sample, b: Sample): number => (b.cpuNs - a.cpuNs) / 1000 / ((b.at - a.at) / 1000);
  return {
    memPerConn: r.results.get('mem_per_conn') as number,
    rssPerConn: ((m('conn').rssKiB - m('base').rssKiB) * 1024) / peers.length,
    idleCpuUsPerPeerS: (perS(m('conn'), m('idle1')) - perS(m('base'), m('base1'))) / peers.length,
    rate: r.results.get('rate') as number,
  };
}

interface ProcFigures {
  readonly memPerProc: number;
  readonly rssPerProc: number;
  readonly spawnUs: number;
  readonly down1: number;
  readonly downMonitors: number;
  readonly downLinks: number;
}

async function procRun(ctx: Ctx, courier: boolean, peer: string, nProcs: number, nWatch: number): Promise<ProcFigures> {
  const r = courier
    ? await courierHub(['procs', ctx.cookie, String(ctx.epmdPort), String(TICKTIME), String(nProcs), String(nWatch), peer])
    : await erlHub(ctx, `scale_bench:hub_procs('${peer}', ${nProcs}, ${nWatch}).`, ['+P', String(4 * nProcs)]);
  const g = (k: string): number => r.results.get(k) as number;
  const m = (k: string): Sample => r.marks.get(k) as Sample;
  return {
    memPerProc: g('mem_per_proc'),
    rssPerProc: ((m('procs').rssKiB - m('base').rssKiB) * 1024) / nProcs,
    spawnUs: g('spawn_us'),
    down1: g('down_1'),
    downMonitors: g('down_monitors'),
    downLinks: g('down_links'),
  };
}

async function main(): Promise<void> {
  const tools = findErl();
  if (tools === null) {
    console.log('erl not found: the scale benchmark needs Erlang/OTP. Skipped.');
    return;
  }
  const started = Date.now();
  const beams = (await compileErl([here('./scale_bench.erl')], tools)).dir;
  const epmd = await startEpmd();
  const ctx: Ctx = { cookie: randomCookie(), epmdPort: epmd.port, beams };
  const maxN = Math.max(...SIZES);
  const all: Started[] = [];
  const perPeer = new Map<number, Map<Config, PeerFigures>>();
  const perProc: Array<{ nProcs: number; nWatch: number; erlang: ProcFigures; courier: ProcFigures }> = [];
  try {
    process.stdout.write(`starting ${maxN} erl peers and ${maxN} Courier peers (${Math.ceil(maxN / COURIER_PER_PROC)} processes) … `);
    // One more erl peer: the one every hub connects to first (warm-up) and the nodedown figures' peer.
    const erls = await startErlPeers(ctx, maxN + 1);
    all.push(...erls);
    const couriers = await startCourierPeers(ctx, maxN);
    all.push(...couriers);
    const erlNames = erls.flatMap((s) => s.names);
    const warm = erlNames.pop() as string;
    const courierNames = couriers.flatMap((s) => s.names);
    process.stdout.write(`${((Date.now() - started) / 1000).toFixed(0)} s\n`);
    for (const [k, n] of SIZES.entries()) {
      const row = new Map<Config, PeerFigures>();
      process.stdout.write(`N=${n}:`);
      for (let j = 0; j < CONFIGS.length; j++) {
        const config = CONFIGS[(j + k) % CONFIGS.length] as Config;
        row.set(config, await peerRun(ctx, config, warm, (config === 'courierCourier' ? courierNames : erlNames).slice(0, n)));
        process.stdout.write(` ${config}`);
      }
      process.stdout.write('\n');
      perPeer.set(n, row);
    }
    const target = warm;
    for (const [nProcs, nWatch] of PROC_SIZES) {
      process.stdout.write(`${nProcs.toLocaleString('en-US')} processes:`);
      const erlang = await procRun(ctx, false, target, nProcs, nWatch);
      process.stdout.write(' erlang');
      const courier = await procRun(ctx, true, target, nProcs, nWatch);
      process.stdout.write(' courier\n');
      perProc.push({ nProcs, nWatch, erlang, courier });
    }
  } finally {
    await stopAll(all);
    await epmd.stop();
  }
  print(perPeer, perProc, erlVersion(tools.erl) ?? 'Erlang/OTP (version unknown)', (Date.now() - started) / 1000);
}

const f = (x: number, d = 0): string => x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });

function table(head: string[], rows: string[][], right: boolean[]): void {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  const line = (cells: string[]): string => `| ${cells.map((c, i) => (right[i] ? c.padStart(widths[i] as number) : c.padEnd(widths[i] as number))).join(' | ')} |`;
  console.log(line(head));
  console.log(`|${widths.map((w, i) => (right[i] ? `${'-'.repeat(w + 1)}:` : '-'.repeat(w + 2))).join('|')}|`);
  for (const r of rows) console.log(line(r));
}

function print(
  perPeer: Map<number, Map<Config, PeerFigures>>,
  perProc: Array<{ nProcs: number; nWatch: number; erlang: ProcFigures; courier: ProcFigures }>,
  otp: string,
  secs: number,
): void {
  console.log('');
  console.log(
    runInfo({
      courier: 'a hub: one event loop, its own process',
      runtimes: [`${otp} (hub: erl ${HUB_ARGS.slice(0, 6).join(' ')}; peers: erl +S 1 +A 1, busy wait off)`],
      statistic: 'messages/s: the best of 3 rate runs in each hub, on both sides; every other figure: one measurement per hub, on both sides',
    }),
  );
  console.log(
    `net_ticktime ${TICKTIME} s everywhere; idle window ${IDLE_S} s; ${f(MSGS)} messages per rate run; Courier peers ${COURIER_PER_PROC} nodes per OS process; total ${secs.toFixed(0)} s`,
  );
  console.log('');
  const rows: string[][] = [];
  const metrics: Array<{ label: string; pick: (x: PeerFigures) => number; d: number }> = [
    { label: 'memory per connection (KiB, runtime)', pick: (x) => x.memPerConn / 1024, d: 1 },
    { label: 'memory per connection (KiB, RSS)', pick: (x) => x.rssPerConn / 1024, d: 1 },
    { label: 'idle CPU per peer (µs per s)', pick: (x) => x.idleCpuUsPerPeerS, d: 1 },
    { label: 'messages/s over all peers', pick: (x) => x.rate, d: 0 },
  ];
  for (const m of metrics) {
    for (const [n, row] of perPeer) {
      const [e, ce, cc] = [row.get('erlang'), row.get('courierErl'), row.get('courierCourier')].map((x) => m.pick(x as PeerFigures)) as [number, number, number];
      rows.push([m.label, String(n), f(e, m.d), f(ce, m.d), `${(ce / e).toFixed(2)}×`, f(cc, m.d), `${(cc / e).toFixed(2)}×`]);
    }
  }
  table(['per peer', 'N', 'erl hub, erl peers', 'Courier hub, erl peers', 'ratio', 'Courier hub, Courier peers', 'ratio'], rows, [false, true, true, true, true, true, true]);
  console.log('ratio: Courier / Erlang (memory and CPU: lower is better; messages/s: higher is better). Per-unit figures at each N: flat or falling means linear or better.');
  console.log('');
  const prow: string[][] = [];
  for (const { nProcs, nWatch, erlang: e, courier: c } of perProc) {
    const n = f(nProcs);
    const w = f(nWatch);
    const line = (label: string, pe: number, pc: number, d: number): string[] => [label, f(pe, d), f(pc, d), `${(pc / pe).toFixed(2)}×`];
    prow.push(line(`${n} idle processes: memory per process (bytes, runtime)`, e.memPerProc, c.memPerProc, 0));
    prow.push(line(`${n} idle processes: RSS per process (bytes)`, e.rssPerProc, c.rssPerProc, 0));
    prow.push(line(`${n} idle processes: spawn time per process (µs)`, e.spawnUs / nProcs, c.spawnUs / nProcs, 3));
    prow.push(line(`nodedown to 1 monitor, ${n} processes (ms)`, e.down1 / 1000, c.down1 / 1000, 2));
    prow.push(line(`nodedown to ${w} monitors (µs per monitor)`, e.downMonitors / nWatch, c.downMonitors / nWatch, 2));
    prow.push(line(`nodedown to ${w} links (µs per link)`, e.downLinks / nWatch, c.downLinks / nWatch, 2));
  }
  table(['per process', 'Erlang', 'Courier', 'ratio'], prow, [false, true, true, true]);
  console.log('ratio: Courier / Erlang (lower is better). nodedown: from disconnect until every watcher got its DOWN / EXIT and told a collector.');
}

await main();
process.exit(0);
