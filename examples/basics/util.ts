import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import type { Node, Process } from '@courier/core';

/** Small helpers the examples share. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a !== null ? a.port : 0));
    });
  });
}

/** Run `body` in a fresh process of `node` and resolve with its result. */
export function inProcess<T>(node: Node, body: (self: Process) => Promise<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    node.spawn(async (self) => {
      try {
        resolve(await body(self));
      } catch (e) {
        reject(e instanceof Error ? e : new Error('the process body failed', { cause: e }));
      }
    });
  });
}

export const hasErl = (): boolean => spawnSync('sh', ['-c', 'command -v erl'], { stdio: 'ignore' }).status === 0;

/**
 * A real `erl` node registered with the EPMD on `epmdPort` (never starting one of its own), running
 * `script` (Erlang expressions); its stdout lines go to `onLine`.
 */
export function startErl(name: string, cookie: string, epmdPort: number, script: string, onLine: (l: string) => void = () => undefined): ChildProcess {
  const erl = spawn('erl', ['-noshell', '-name', name, '-setcookie', cookie, '-start_epmd', 'false', '-eval', script], {
    env: { ...process.env, ERL_EPMD_PORT: String(epmdPort) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let buf = '';
  erl.stdout?.on('data', (d: Buffer) => {
    buf += d.toString();
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      onLine(buf.slice(0, i));
      buf = buf.slice(i + 1);
    }
  });
  return erl;
}

/** Stop an erl started here, by its pid: SIGTERM, then SIGKILL after 2 s. */
export async function stopErl(erl: ChildProcess): Promise<void> {
  if (erl.exitCode !== null || erl.signalCode !== null) return;
  const exited = new Promise((r) => erl.once('exit', r));
  erl.kill('SIGTERM');
  const t = setTimeout(() => erl.kill('SIGKILL'), 2000);
  await exited;
  clearTimeout(t);
}

/** Retry `f` until it is true (e.g. a node has registered with EPMD). */
export async function until(f: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!(await f())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
