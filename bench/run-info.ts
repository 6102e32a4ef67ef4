import { execFileSync } from 'node:child_process';
import { cpus, loadavg, totalmem } from 'node:os';

/**
 * What every bench prints above its tables: the date, the machine (CPU model, cores, RAM, the
 * load average at the start of the run and now), the versions of the runtimes it ran, and the
 * statistic each figure is (best of N after a warm-up, or a median), the same on both sides.
 */
const loadAtStart = loadavg()[0] as number;

/**
 * The V8 flags every Courier node process of the network benches runs with, as docs/deploy.md
 * recommends for a node: with V8's default, every ~16 MB of ArrayBuffers allocated after the
 * first full collection (a 64 KiB binary received is one) starts another full collection, and a
 * node receiving large binaries spends most of its time marking (docs/performance.md). The
 * package.json scripts of those benches pass the same flags to the bench process itself.
 */
export const COURIER_NODE_FLAGS: readonly string[] = ['--initial-old-space-size=64'];

/**
 * The environment bench:dist's Courier processes run with, as docs/deploy.md recommends for a node
 * that receives a stream of large binaries: glibc's malloc keeps 64 MiB at the top of its heap
 * instead of handing every freed run back to the kernel. Without it, each scavenge that frees a
 * few hundred received 64 KiB frames lets malloc trim them, and the next ones fault their pages in
 * again: ~8,000 page faults and 4× the CPU per 1,000 frames in one pass of three (docs/performance.md,
 * "Page faults"). bench:dist's package.json script sets it for the bench process itself.
 */
export const COURIER_NODE_ENV: Readonly<Record<string, string>> = { GLIBC_TUNABLES: 'glibc.malloc.top_pad=67108864' };

/**
 * `Erlang/OTP 26 (erts 14.2.5)` from the `erl` given, with the versions of the OTP applications
 * named (`Erlang/OTP 26 (erts 14.2.5, ssh 5.1.4)`), or undefined when it does not run.
 */
export function erlVersion(erl = 'erl', apps: readonly string[] = []): string | undefined {
  const vsn = apps.map((a) => `", ${a} ", begin application:load(${a}), {ok, V${a}} = application:get_key(${a}, vsn), V${a} end`).join(', ');
  const expr = `io:format("~s", [["Erlang/OTP ", erlang:system_info(otp_release), " (erts ", erlang:system_info(version)${vsn ? `, ${vsn}` : ''}, ")"]]), halt().`;
  try {
    return execFileSync(erl, ['-noshell', '-eval', expr], { encoding: 'utf8', timeout: 30_000, stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return undefined;
  }
}

export interface RunInfo {
  /** How the Courier side runs, said after node's version (e.g. `one event loop`). */
  readonly courier?: string;
  /** Each runtime measured beside node, e.g. erlVersion()'s answer with its emulator flags. */
  readonly runtimes?: readonly string[];
  /** The statistic of every figure, said once for both sides. */
  readonly statistic: string;
}

/** The header lines (date, machine, versions, statistic), ready for console.log. */
export function runInfo({ courier, runtimes = [], statistic }: RunInfo): string {
  const cpu = cpus();
  const model = cpu[0]?.model.trim() ?? 'unknown cpu';
  return [
    `date: ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`,
    `machine: ${cpu.length} cores (${model}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB, ${process.platform} ${process.arch}; ` +
      `load average ${loadAtStart.toFixed(2)} at start, ${(loadavg()[0] as number).toFixed(2)} at end`,
    `versions: node ${process.version}${courier === undefined ? '' : ` (${courier})`}${runtimes.map((r) => `; ${r}`).join('')}`,
    `node flags: ${process.execArgv.filter((a) => a.startsWith('--') && !a.startsWith('--conditions') && !a.startsWith('--import')).join(' ') || 'none'}` +
      (process.env['GLIBC_TUNABLES'] ? `; environment: GLIBC_TUNABLES=${process.env['GLIBC_TUNABLES']}` : ''),
    `statistic: ${statistic}`,
  ].join('\n');
}
