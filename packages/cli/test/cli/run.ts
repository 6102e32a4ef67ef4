import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * `courier ARGS` as the command runs in a checkout (tsx, the `source` condition), to its exit; with
 * `stopAtReady`, a node that prints READY is stopped and answers `code: null` (starting is an answer too).
 */
const CLI = fileURLToPath(new URL('../../src/cli.ts', import.meta.url));

export interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export function runCourier(args: readonly string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number; stopAtReady?: boolean } = {}): Promise<CliRun> {
  const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', CLI, ...args], {
    cwd: opts.cwd ?? fileURLToPath(new URL('../../../../', import.meta.url)),
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`courier ${args.join(' ')}: no exit within ${opts.timeoutMs ?? 45_000} ms\n${stdout}${stderr}`));
    }, opts.timeoutMs ?? 45_000);
    if (opts.stopAtReady === true)
      child.stdout.on('data', () => {
        if (!/^READY /m.test(stdout)) return;
        clearTimeout(timer);
        child.removeAllListeners('exit');
        child.once('exit', () => resolve({ code: null, stdout, stderr }));
        child.kill('SIGTERM');
      });
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
