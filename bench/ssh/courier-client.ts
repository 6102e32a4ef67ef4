import type { SshRpcClient } from '@courier/transport-ssh';

/** The Courier client's measurements, the same work as sshrpc_client:bench/2 does in Erlang. */
export async function seq(c: SshRpcClient, n: number): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await c.mfa('lists', 'seq', [1, 100]);
  return (n * 1000) / (performance.now() - t0);
}

/** `n` calls `{call, Id, lists, seq, [1, 100]}`, `depth` in flight at any time. */
export async function pipe(c: SshRpcClient, depth: number, n: number): Promise<number> {
  let sent = 0;
  const t0 = performance.now();
  const worker = async (): Promise<void> => {
    while (sent < n) {
      sent++;
      await c.call('lists', 'seq', [1, 100]);
    }
  };
  await Promise.all(Array.from({ length: depth }, worker));
  return (n * 1000) / (performance.now() - t0);
}

/** `n` sequential 1 MiB answers; MiB/s. */
export async function big(c: SshRpcClient, module: string, n: number): Promise<number> {
  let bytes = 0;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) bytes += ((await c.mfa(module, 'big', [1024 * 1024])) as Uint8Array).length;
  return bytes / 2 ** 20 / ((performance.now() - t0) / 1000);
}
