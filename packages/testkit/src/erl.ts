import { execFile, spawn } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { LineReader } from './lines.js';
import { randomCookie } from './names.js';
import { childPids, isAlive } from './procs.js';

export interface ErlTools {
  erl: string;
  erlc: string;
}

function which(cmd: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    const file = join(dir, cmd);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // not in this directory
    }
  }
  return null;
}

/** `erl` and `erlc` from PATH, or null when either is missing. */
export function findErl(): ErlTools | null {
  const erl = which('erl');
  const erlc = which('erlc');
  return erl !== null && erlc !== null ? { erl, erlc } : null;
}

export interface CompiledErl {
  /** Directory holding the .beam files; pass it in `codePath`. */
  dir: string;
  cleanup(): void;
}

/** Compile Erlang sources with erlc into a fresh temporary directory. */
export function compileErl(sources: string[], tools: ErlTools | null = findErl()): Promise<CompiledErl> {
  if (tools === null) return Promise.reject(new Error('erlc not found on PATH'));
  const dir = mkdtempSync(join(tmpdir(), 'courier-erl-'));
  const cleanup = (): void => rmSync(dir, { recursive: true, force: true });
  return new Promise((resolve, reject) => {
    execFile(tools.erlc, ['-o', dir, ...sources], { timeout: 120_000 }, (err, stdout, stderr) => {
      if (err) {
        cleanup();
        reject(new Error(`erlc failed: ${err.message}\n${stdout}${stderr}`));
      } else {
        resolve({ dir, cleanup });
      }
    });
  });
}

export interface StartErlOptions {
  /** Long node name (`-name`); `@127.0.0.1` is appended when it has no host part. */
  name?: string;
  /** Short node name (`-sname`). */
  sname?: string;
  /** `-setcookie`; a random cookie when a node name is given and this is not. */
  cookie?: string;
  /** Directories for `-pa`. */
  codePath?: string[];
  /** `-eval` expression run at start-up. */
  eval?: string;
  /** More arguments, after the above. */
  args?: string[];
  /** Extra environment, e.g. `{ ERL_EPMD_PORT: '4380' }`. */
  env?: Record<string, string>;
  cwd?: string;
  /** The erl executable; found on PATH by default. */
  erl?: string;
}

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A running `erl` (its pid is the beam.smp process: erl and erlexec exec into it). */
export interface ErlNode {
  readonly pid: number;
  /** Full node name, when started distributed. */
  readonly node: string | undefined;
  readonly cookie: string | undefined;
  readonly stdout: LineReader;
  readonly stderr: LineReader;
  readonly exited: Promise<ExitStatus>;
  /** Whether the process is still running. */
  readonly running: boolean;
  write(data: string | Uint8Array): void;
  closeStdin(): void;
  /** SIGTERM (OTP shuts down cleanly), SIGKILL after `timeoutMs`; resolves once it has exited. */
  stop(timeoutMs?: number): Promise<ExitStatus>;
}

/** Wait for the given (former) children of a stopped beam to exit; SIGKILL those that do not. */
async function reapHelpers(pids: number[], timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  let left = pids.filter(isAlive);
  while (left.length > 0 && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 20));
    left = left.filter(isAlive);
  }
  for (const p of left) process.kill(p, 'SIGKILL');
}

/** Start `erl -noshell` with the given node name, cookie, code path and start-up expression. */
export function startErl(opts: StartErlOptions = {}): ErlNode {
  const erl = opts.erl ?? findErl()?.erl;
  if (erl === undefined) throw new Error('erl not found on PATH');
  const args = ['-noshell'];
  let node: string | undefined;
  if (opts.name !== undefined) {
    node = opts.name.includes('@') ? opts.name : `${opts.name}@127.0.0.1`;
    args.push('-name', node);
  } else if (opts.sname !== undefined) {
    node = opts.sname;
    args.push('-sname', opts.sname);
  }
  const cookie = opts.cookie ?? (node !== undefined ? randomCookie() : undefined);
  if (cookie !== undefined) args.push('-setcookie', cookie);
  for (const dir of opts.codePath ?? []) args.push('-pa', dir);
  if (opts.eval !== undefined) args.push('-eval', opts.eval);
  args.push(...(opts.args ?? []));

  const child = spawn(erl, args, { cwd: opts.cwd, env: { ...process.env, ...opts.env }, stdio: ['pipe', 'pipe', 'pipe'] });
  if (child.pid === undefined) {
    child.once('error', () => undefined); // reported by the throw below
    throw new Error(`could not spawn ${erl}`);
  }
  const pid = child.pid;
  let status: ExitStatus | null = null;
  const describe = (): string =>
    `erl pid ${pid}${node ? ` (${node})` : ''}, ${status ? `exited ${JSON.stringify(status)}` : 'running'}, stderr: ${stderr.text.slice(-2000) || '(empty)'}`;
  const stdout = new LineReader(child.stdout, describe);
  const stderr = new LineReader(child.stderr, () => `erl pid ${pid}`);
  child.stdin.on('error', () => undefined); // EPIPE once erl has gone; reported through `exited`
  const exited = new Promise<ExitStatus>((resolve) => {
    child.on('exit', (code, signal) => {
      status = { code, signal };
      resolve(status);
    });
  });

  return {
    pid,
    node,
    cookie,
    stdout,
    stderr,
    exited,
    get running() {
      return status === null;
    },
    write(data) {
      child.stdin.write(data);
    },
    closeStdin() {
      child.stdin.end();
    },
    async stop(timeoutMs = 10_000) {
      if (status !== null) return status;
      // beam.smp's helpers (erl_child_setup, port programs) are noted now, while they are its children.
      const helpers = childPids(pid);
      process.kill(pid, 'SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
      });
      await Promise.race([exited, deadline]);
      if (status === null) process.kill(pid, 'SIGKILL');
      const result = await exited;
      clearTimeout(timer);
      await reapHelpers(helpers, timeoutMs);
      return result;
    },
  };
}
