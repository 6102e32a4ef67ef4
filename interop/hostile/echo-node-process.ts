import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LineReader } from '@courier/testkit';

/**
 * The echo node as a separate OS process (`node --conditions=source --import tsx
 * examples/echo-node/main.ts …`), as a user runs it: the hostile-input suite attacks its
 * listeners from outside, so a crash is a process exit, not an exception in the test runner.
 */
const root = fileURLToPath(new URL('../../', import.meta.url));
const probe = fileURLToPath(new URL('./fixtures/memory-probe.ts', import.meta.url));

/** `process.memoryUsage()` of the node after two full collections (fixtures/memory-probe.ts). */
export interface CollectedMemory {
  readonly rss: number;
  readonly heapUsed: number;
  /** Off-heap memory V8 knows of: ArrayBuffer backing stores (socket chunks, frames) and more. */
  readonly external: number;
  readonly arrayBuffers: number;
}

/** What the node still holds after a full collection: its live heap and its live off-heap buffers. */
export function retained(m: CollectedMemory): number {
  return m.heapUsed + m.external;
}

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
  /** Its memory after two full collections: SIGUSR2 to the preloaded memory probe. */
  memory(): Promise<CollectedMemory>;
  /** The last `n` characters of its stderr (its pino log, and a crash's stack). */
  stderrTail(n?: number): string;
  /** SIGTERM, then SIGKILL after 5 s; resolves once it has exited. */
  stop(): Promise<void>;
}

/** Start the echo node with `args` (after `main.ts`) and `env`; resolves at `READY`. */
export async function startEchoNode(args: string[], env: Record<string, string>): Promise<EchoNodeProcess> {
  const probeDir = mkdtempSync(join(tmpdir(), 'courier-memory-'));
  const probeFile = join(probeDir, 'memory.json');
  const child: ChildProcess = spawn(process.execPath, ['--expose-gc', '--conditions=source', '--import', 'tsx', '--import', probe, 'examples/echo-node/main.ts', ...args], {
    cwd: root,
    env: { ...process.env, LOG_LEVEL: 'warn', ...env, COURIER_MEMORY_PROBE: probeFile },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error('could not spawn the echo node');
  let status: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      status = { code, signal };
      rmSync(probeDir, { recursive: true, force: true });
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
    async memory() {
      const seqBefore = existsSync(probeFile) ? (JSON.parse(readFileSync(probeFile, 'utf8')) as { seq: number }).seq : 0;
      process.kill(pid, 'SIGUSR2');
      const deadline = Date.now() + 15_000;
      for (;;) {
        if (existsSync(probeFile)) {
          const m = JSON.parse(readFileSync(probeFile, 'utf8')) as CollectedMemory & { seq: number; collected: boolean };
          if (m.seq > seqBefore) {
            if (!m.collected) throw new Error('the echo node has no global.gc(): it was not started with --expose-gc');
            return m;
          }
        }
        if (status !== null) throw new Error(`the echo node exited before reporting its memory; stderr: ${stderrTail(2000)}`);
        if (Date.now() > deadline) throw new Error(`the echo node did not report its memory within 15 s of SIGUSR2; stderr: ${stderrTail(2000)}`);
        await new Promise((r) => setTimeout(r, 20));
      }
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
