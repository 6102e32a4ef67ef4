/**
 * `npm run bench`: Courier's local runtime against an equivalent Erlang program on this machine,
 * printed as one table. Each Courier metric runs in a fresh `node --expose-gc` (bench/courier-metric.ts),
 * then erl runs bench/erlang/courier_bench.erl; never two at once.
 * `npm run bench -- --quick` runs a tenth of the sizes (a smoke run; numbers are noisier).
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Metric, Results, Sizes } from './courier.js';
import { runErlang } from './erlang.js';
import { runInfo } from './run-info.js';
import { table } from './table.js';

const quick = process.argv.includes('--quick');
const scale = quick ? 0.1 : 1;
const sizes: Sizes = {
  spawn: 200_000 * scale,
  memory: 100_000 * scale,
  pingPong: 300_000 * scale,
  manyToOne: 1_000_000 * scale,
  senders: 4,
  calls: 100_000 * scale,
  backlog: 100_000 * scale,
  startChild: 50_000 * scale,
};
const METRICS: readonly Metric[] = [
  'spawnPerS',
  'idleBytesPerProc',
  'pingPongRtPerS',
  'pingPongBesideIdleRtPerS',
  'manyToOneMsgsPerS',
  'typedPingPongRtPerS',
  'callPerS',
  'typedCallPerS',
  'callBacklogPerS',
  'startChildPerS',
];
const METRIC_SCRIPT = fileURLToPath(new URL('./courier-metric.ts', import.meta.url));

function courierMetric(metric: Metric): number {
  const args = ['--expose-gc', '--conditions=source', '--import', 'tsx', METRIC_SCRIPT, metric, JSON.stringify(sizes)];
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', timeout: 120_000, stdio: ['ignore', 'pipe', 'pipe'] });
  const line = r.stdout.split('\n').find((l) => l.startsWith('COURIER_METRIC '));
  if (r.status !== 0 || line === undefined) throw new Error(`Courier ${metric} failed: ${r.stderr || r.stdout || r.error?.message}`);
  return Number(line.slice('COURIER_METRIC '.length));
}

const started = Date.now();
process.stdout.write('running Courier … ');
const courier = Object.fromEntries(METRICS.map((m) => [m, courierMetric(m)])) as unknown as Results;
process.stdout.write('done; running Erlang … ');
const erlang = runErlang(sizes);
process.stdout.write(`done (${((Date.now() - started) / 1000).toFixed(1)} s)\n\n`);

const erlFlags = process.env['COURIER_BENCH_ERL_FLAGS'];
const otp = erlang.ok
  ? `Erlang/OTP ${erlang.results.otpRelease} (erts ${erlang.results.erts}, ${erlang.results.schedulers} scheduler${erlang.results.schedulers === 1 ? '' : 's'}${erlFlags ? `, flags ${erlFlags}` : ''})`
  : 'Erlang skipped';
console.log(
  runInfo({
    courier: 'one event loop; each Courier metric in a fresh node process',
    runtimes: [otp],
    statistic: 'every rate is the best of 5 passes after a warm-up pass at a tenth of the size, on both sides (each Erlang pass in a fresh process)',
  }),
);
console.log(
  `sizes: spawn ${sizes.spawn}, idle ${sizes.memory}, ping-pong ${sizes.pingPong}, many-to-one ${sizes.manyToOne} from ${sizes.senders} senders; ` +
    `calls ${sizes.calls} (the backlog: ${sizes.backlog} unrelated messages in the caller's mailbox), start_child ${sizes.startChild}`,
);
console.log('');
console.log(table(courier, erlang.ok ? erlang.results : undefined));
console.log('');
if (erlang.ok) {
  const backlog = (r: Results): string => `${(r.callBacklogPerS / r.callPerS).toFixed(2)}×`;
  console.log(`call with a backlog / from an empty mailbox: Courier ${backlog(courier)}, Erlang ${backlog(erlang.results)}`);
  console.log(
    `memory: Courier = V8 heapUsed delta after global.gc(); Erlang = erlang:memory(processes) delta (process_info(P, memory) of one idle process: ${erlang.results.processInfoMemory} bytes)`,
  );
} else {
  console.log(`Erlang column skipped: ${erlang.reason}`);
}
