import { execFileSync, spawnSync } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Results, Sizes } from './courier.js';

/**
 * The Erlang half of `npm run bench`: compiles bench/erlang/courier_bench.erl with erlc into a
 * temporary directory, runs it with `erl -noshell`, and parses its `COURIER_BENCH {json}` line.
 * Extra emulator flags (for instance `+S 1` for one scheduler) come from COURIER_BENCH_ERL_FLAGS.
 */
export interface ErlangResults extends Results {
  readonly otpRelease: string;
  readonly erts: string;
  readonly schedulers: number;
  readonly processInfoMemory: number;
}

export type ErlangOutcome = { readonly ok: true; readonly results: ErlangResults } | { readonly ok: false; readonly reason: string };

const SOURCE = fileURLToPath(new URL('./erlang/courier_bench.erl', import.meta.url));
const TIME_LIMIT_MS = 90_000;

function found(cmd: string): boolean {
  return (process.env['PATH'] ?? '').split(delimiter).some((dir) => {
    try {
      accessSync(join(dir, cmd), constants.X_OK);
      return dir !== '';
    } catch {
      return false;
    }
  });
}

export function runErlang(sizes: Sizes): ErlangOutcome {
  for (const cmd of ['erl', 'erlc']) {
    if (!found(cmd)) return { ok: false, reason: `\`${cmd}\` is not on PATH (Debian: apt-get install erlang-base)` };
  }
  const dir = mkdtempSync(join(tmpdir(), 'courier-bench-'));
  try {
    execFileSync('erlc', ['-o', dir, SOURCE], { stdio: ['ignore', 'ignore', 'pipe'] });
    const args = [sizes.spawn, sizes.memory, sizes.pingPong, sizes.manyToOne, sizes.senders, sizes.calls, sizes.backlog, sizes.startChild].join(',');
    const flags = (process.env['COURIER_BENCH_ERL_FLAGS'] ?? '').split(/\s+/).filter((f) => f !== '');
    const run = spawnSync('erl', [...flags, '-noshell', '-pa', dir, '-eval', `courier_bench:main([${args}])`], {
      encoding: 'utf8',
      timeout: TIME_LIMIT_MS,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const line = run.stdout.split('\n').find((l) => l.startsWith('COURIER_BENCH '));
    if (run.status !== 0 || line === undefined) {
      const why = run.error?.message ?? `exit ${run.status ?? run.signal}: ${(run.stderr || run.stdout).trim().slice(0, 300)}`;
      return { ok: false, reason: `erl failed (${why})` };
    }
    const j = JSON.parse(line.slice('COURIER_BENCH '.length)) as Record<string, number | string>;
    return {
      ok: true,
      results: {
        otpRelease: String(j['otp_release']),
        erts: String(j['erts']),
        schedulers: Number(j['schedulers']),
        processInfoMemory: Number(j['process_info_memory']),
        spawnPerS: Number(j['spawn_per_s']),
        idleBytesPerProc: Number(j['idle_bytes_per_proc']),
        pingPongRtPerS: Number(j['ping_pong_rt_per_s']),
        pingPongBesideIdleRtPerS: Number(j['ping_pong_beside_idle_rt_per_s']),
        manyToOneMsgsPerS: Number(j['many_to_one_msgs_per_s']),
        // Erlang has one API: the typed rows stand beside the same Erlang measurement.
        typedPingPongRtPerS: Number(j['ping_pong_rt_per_s']),
        callPerS: Number(j['call_per_s']),
        typedCallPerS: Number(j['call_per_s']),
        callBacklogPerS: Number(j['call_backlog_per_s']),
        startChildPerS: Number(j['start_child_per_s']),
      },
    };
  } catch (e) {
    return { ok: false, reason: `erlc failed (${e instanceof Error ? e.message.split('\n')[0] : String(e)})` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
