import { createServer, connect, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy in front of one port that can stop forwarding one direction (it stops reading that
 * side, so the bytes wait in the kernel): to make one peer of a distribution connection silent to
 * the other (net_tick_timeout) or to hold back signals so that they cross others on the wire.
 * `toTarget` is what the dialing side writes, `toClient` what the target answers.
 */
export type Direction = 'toTarget' | 'toClient';

export interface FaultProxy {
  readonly port: number;
  pause(dir: Direction): void;
  resume(dir: Direction): void;
  /** Connections accepted so far. */
  readonly accepted: number;
  close(): Promise<void>;
}

export async function faultProxy(targetPort: number, host = '127.0.0.1'): Promise<FaultProxy> {
  const paused = new Set<Direction>();
  const pairs = new Set<{ client: Socket; target: Socket }>();
  let accepted = 0;
  const apply = (): void => {
    for (const { client, target } of pairs) {
      if (paused.has('toTarget')) client.pause();
      else client.resume();
      if (paused.has('toClient')) target.pause();
      else target.resume();
    }
  };
  const server: Server = createServer({ noDelay: true }, (client) => {
    accepted++;
    const target = connect({ host, port: targetPort, noDelay: true });
    const pair = { client, target };
    pairs.add(pair);
    const end = (): void => {
      pairs.delete(pair);
      client.destroy();
      target.destroy();
    };
    client.on('data', (c) => target.write(c));
    target.on('data', (c) => client.write(c));
    client.on('close', end);
    target.on('close', end);
    client.on('error', end);
    target.on('error', end);
    apply();
  });
  await new Promise<void>((r) => server.listen({ host, port: 0 }, r));
  const a = server.address();
  const port = typeof a === 'object' && a !== null ? a.port : 0;
  return {
    port,
    get accepted() {
      return accepted;
    },
    pause(dir) {
      paused.add(dir);
      apply();
    },
    resume(dir) {
      paused.delete(dir);
      apply();
    },
    close() {
      for (const { client, target } of pairs) {
        client.destroy();
        target.destroy();
      }
      return new Promise((r) => server.close(() => r()));
    },
  };
}
