/**
 * `npm run bench`: Courier's local runtime against an equivalent Erlang program on this machine,
 * printed as one table. Courier runs in this process (re-executed with --expose-gc for the memory
 * measurement), then erl runs bench/erlang/courier_bench.erl; never both at once.
 * `npm run bench -- --quick` runs a tenth of the sizes (a smoke run; numbers are noisier).
 */
import { spawnSync } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import { runCourier, type Sizes } from './courier.js';
import { runErlang } from './erlang.js';
import { table } from './table.js';

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) {
  // Re-run this same command with the flag the memory measurement needs.
  const r = spawnSync(process.execPath, ['--expose-gc', ...process.execArgv, ...process.argv.slice(1)], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}

const scale = process.argv.includes('--quick') ? 0.1 : 1;
const sizes: Sizes = {
  spawn: 200_000 * scale,
  memory: 100_000 * scale,
  pingPong: 300_000 * scale,
  manyToOne: 1_000_000 * scale,
  senders: 4,
};

const started = Date.now();
process.stdout.write('running Courier … ');
const courier = await runCourier(sizes, gc as () => void);
process.stdout.write('done; running Erlang … ');
const erlang = runErlang(sizes);
process.stdout.write(`done (${((Date.now() - started) / 1000).toFixed(1)} s)\n\n`);

const cpu = cpus();
const otp = erlang.ok
  ? `Erlang/OTP ${erlang.results.otpRelease} (erts ${erlang.results.erts}, ${erlang.results.schedulers} schedulers${process.env['COURIER_BENCH_ERL_FLAGS'] ? `, flags ${process.env['COURIER_BENCH_ERL_FLAGS']}` : ''})`
  : 'Erlang skipped';
console.log(`date: ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`);
console.log(`machine: ${cpu.length} cores (${cpu[0]?.model.trim() ?? 'unknown cpu'}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB, ${process.platform} ${process.arch}`);
console.log(`runtimes: node ${process.version} (one event loop); ${otp}`);
console.log(
  `sizes: spawn ${sizes.spawn}, idle ${sizes.memory}, ping-pong ${sizes.pingPong}, many-to-one ${sizes.manyToOne} from ${sizes.senders} senders; median of 3 passes after a warm-up (memory: one pass)`,
);
console.log('');
console.log(table(courier, erlang.ok ? erlang.results : undefined));
console.log('');
if (erlang.ok) {
  console.log(
    `memory: Courier = V8 heapUsed delta after global.gc(); Erlang = erlang:memory(processes) delta (process_info(P, memory) of one idle process: ${erlang.results.processInfoMemory} bytes)`,
  );
} else {
  console.log(`Erlang column skipped: ${erlang.reason}`);
}
