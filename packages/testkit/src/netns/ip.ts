import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { isAlive } from '../procs.js';

/** Namespaces the test cluster makes are named `cn-<owner pid>-<cluster>-<host>`. */
export const NS_PREFIX = 'cn-';

/** Run `ip ARGS…`; throws with ip's stderr on failure. */
export function ip(...args: string[]): string {
  try {
    return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 10_000 });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`ip ${args.join(' ')}: ${(e.stderr ?? '').trim() || e.message}`, { cause: err });
  }
}

export function listNamespaces(): string[] {
  return ip('netns', 'list')
    .split('\n')
    .map((l) => l.split(' ')[0] ?? '')
    .filter((n) => n !== '');
}

/** Pids of the processes running in network namespace `ns`. */
export function pidsIn(ns: string): number[] {
  try {
    return ip('netns', 'pids', ns)
      .split('\n')
      .filter((l) => /^\d+$/.test(l.trim()))
      .map(Number);
  } catch {
    return [];
  }
}

/** Kill what still runs in `ns`, delete it and its /etc/netns/<ns> directory (hosts file). Never throws. */
export function removeNamespace(ns: string): void {
  for (const pid of pidsIn(ns)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone already
    }
  }
  try {
    ip('netns', 'del', ns);
  } catch {
    // not there (or already being removed)
  }
  rmSync(`/etc/netns/${ns}`, { recursive: true, force: true });
}

/**
 * Remove the `cn-` namespaces of test runs that are gone (their owner pid is no longer alive):
 * what a run killed before its teardown left behind. Namespaces of live runs are left alone.
 */
export function sweepStaleNamespaces(): string[] {
  const stale = listNamespaces().filter((ns) => {
    const m = /^cn-(\d+)-/.exec(ns);
    return m !== null && Number(m[1]) !== process.pid && !isAlive(Number(m[1]));
  });
  for (const ns of stale) removeNamespace(ns);
  return stale;
}

let support: { available: boolean; reason: string } | undefined;

/** Whether this process can make network namespaces (root and a working `ip netns`), and why not. */
export function netnsSupport(): { available: boolean; reason: string } {
  if (support !== undefined) return support;
  if (process.platform !== 'linux') return (support = { available: false, reason: 'network namespaces need Linux' });
  if (process.getuid?.() !== 0) return (support = { available: false, reason: 'network namespaces need root (ip netns add)' });
  const probe = `${NS_PREFIX}${process.pid}-probe`;
  try {
    ip('netns', 'add', probe);
    ip('-n', probe, 'link', 'add', 'br0', 'type', 'bridge');
    ip('-n', probe, 'link', 'add', 'v0', 'type', 'veth', 'peer', 'name', 'v1');
    support = { available: true, reason: '' };
  } catch (err) {
    support = { available: false, reason: `ip netns does not work here: ${(err as Error).message}` };
  } finally {
    removeNamespace(probe);
  }
  return support;
}
