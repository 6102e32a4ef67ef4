import { spawn } from 'node:child_process';
import { LineReader } from '../lines.js';
import type { ExitStatus } from '../erl.js';

/** A program running in a host of a test cluster (`ip netns exec` execs it: the pid is the program's). */
export interface HostProcess {
  readonly pid: number;
  readonly stdout: LineReader;
  readonly stderr: LineReader;
  readonly exited: Promise<ExitStatus>;
  write(data: string): void;
  /** SIGTERM, SIGKILL after `timeoutMs`; resolves once it has exited. */
  stop(timeoutMs?: number): Promise<ExitStatus>;
}

export interface SpawnInOptions {
  readonly cwd?: string;
  readonly env?: Record<string, string>;
}

/** Environment for programs in a host: no EPMD port of the machine's own tests leaks in (each host has its EPMD on 4369). */
function hostEnv(extra: Record<string, string> | undefined): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  if (extra?.['ERL_EPMD_PORT'] === undefined) delete env['ERL_EPMD_PORT'];
  return env;
}

export function spawnIn(ns: string, cmd: string, args: readonly string[], opts: SpawnInOptions = {}): HostProcess {
  const child = spawn('ip', ['netns', 'exec', ns, cmd, ...args], { cwd: opts.cwd, env: hostEnv(opts.env), stdio: ['pipe', 'pipe', 'pipe'] });
  if (child.pid === undefined) {
    child.once('error', () => undefined);
    throw new Error(`could not start ${cmd} in ${ns}`);
  }
  const pid = child.pid;
  let status: ExitStatus | null = null;
  const describe = (): string => `${cmd} (pid ${pid}, ${ns}) ${status ? `exited ${JSON.stringify(status)}` : 'running'}, stderr: ${stderr.text.slice(-2000) || '(empty)'}`;
  const stdout = new LineReader(child.stdout, describe);
  const stderr = new LineReader(child.stderr, () => `${cmd} (pid ${pid}, ${ns})`);
  child.stdin.on('error', () => undefined);
  const exited = new Promise<ExitStatus>((resolve) => {
    child.on('exit', (code, signal) => {
      status = { code, signal };
      resolve(status);
    });
  });
  return {
    pid,
    stdout,
    stderr,
    exited,
    write: (d) => void child.stdin.write(d),
    async stop(timeoutMs = 5000) {
      if (status !== null) return status;
      child.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<void>((r) => (timer = setTimeout(r, timeoutMs)));
      await Promise.race([exited, late]);
      if (status === null) child.kill('SIGKILL');
      const s = await exited;
      clearTimeout(timer);
      return s;
    },
  };
}
