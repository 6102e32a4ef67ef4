import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { LineReader } from '@courier/testkit';

/**
 * The echo node as a separate OS process (`node --conditions=source --import tsx
 * examples/echo-node/main.ts …`), as a user runs it: the hostile-input suite attacks its
 * listeners from outside, so a crash is a process exit, not an exception in the test runner.
 */
const root = fileURLToPath(new URL('../../', import.meta.url));

export interface EchoNodeProcess {
  readonly pid: number;
  /** The node name it printed in `READY <name>`. */
  readonly name: string;
  readonly stderr: LineReader;
  /** Resolves when the process has exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  readonly running: boolean;
  /** VmRSS of the process in bytes, from /proc/<pid>/status. */
  rss(): number;
  /** The last `n` characters of its stderr (its pino log, and a crash's stack). */
  stderrTail(n?: number): string;
  /** SIGTERM, then SIGKILL after 5 s; resolves once it has exited. */
  stop(): Promise<void>;
}

/** Start the echo node with `args` (after `main.ts`) and `env`; resolves at `READY`. */
export async function startEchoNode(args: string[], env: Record<string, string>): Promise<EchoNodeProcess> {
  const child: ChildProcess = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', 'examples/echo-node/main.ts', ...args], {
    cwd: root,
    env: { ...process.env, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error('could not spawn the echo node');
  let status: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      status = { code, signal };
      resolve(status);
    }),
  );
  const stderr = new LineReader(child.stderr as NonNullable<ChildProcess['stderr']>, () => `echo node pid ${pid}`);
  const stderrTail = (n = 4000): string => stderr.text.slice(-n);
  const stdout = new LineReader(child.stdout as NonNullable<ChildProcess['stdout']>, () => `echo node pid ${pid}, stderr: ${stderrTail(2000)}`);
  const ready = await stdout.next(30_000).catch(async (err: unknown) => {
    child.kill('SIGKILL');
    await exited;
    throw err;
  });
  if (!ready.startsWith('READY ')) throw new Error(`the echo node printed ${JSON.stringify(ready)} instead of READY <name>; stderr: ${stderrTail(2000)}`);
  return {
    pid,
    name: ready.slice('READY '.length),
    stderr,
    exited,
    get running() {
      return status === null;
    },
    rss() {
      const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (m === null) throw new Error(`no VmRSS in /proc/${pid}/status`);
      return Number(m[1]) * 1024;
    },
    stderrTail,
    async stop() {
      if (status !== null) return;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    },
  };
}
