import { createServer, connect, type Server, type Socket } from 'node:net';

/**
 * A userspace TCP fault proxy: it accepts on `listen` and forwards every connection to `target`,
 * and can add latency, limit bandwidth, stall all connections without closing them (it stops
 * reading and forwarding, so the bytes wait and no FIN or RST is sent) and reset them (RST on both
 * sides). `tc netem` is not available on the machines the tests run on; this is its stand-in.
 * Faults apply to both directions of every connection, present and future.
 */
export interface FaultProxyOptions {
  readonly listen?: { readonly host?: string; readonly port?: number };
  readonly target: { readonly host: string; readonly port: number };
}

/** One direction of a proxied connection: `toTarget` from the dialing side, `toClient` back to it. */
export type Direction = 'toTarget' | 'toClient';

export interface FaultProxy {
  readonly port: number;
  /** Connections accepted so far, and those still open. */
  readonly accepted: number;
  readonly open: number;
  /** Delay every chunk by `ms` in each direction (0: none); order is kept. */
  latency(ms: number): void;
  /** At most `bytesPerSecond` in each direction of each connection (0: unlimited). */
  bandwidth(bytesPerSecond: number): void;
  /**
   * Stop forwarding (and reading) without closing: the peers see silence. `dir` stalls one
   * direction only (`toTarget`: what the dialing side writes; `toClient`: what the target answers),
   * e.g. to make one peer of a distribution connection silent to the other (net_tick_timeout) or
   * to hold back signals so that they cross others on the wire.
   */
  stall(dir?: Direction): void;
  /** Forward again after `stall` (both directions, or `dir`). */
  resume(dir?: Direction): void;
  /** Reset every open connection (RST to both peers); new ones are accepted as before. */
  reset(): void;
  close(): Promise<void>;
}

/** One direction of a connection: chunks wait here for their latency and bandwidth turn. */
class Pipe {
  private readonly queue: { at: number; chunk: Buffer }[] = [];
  private timer: NodeJS.Timeout | undefined;
  private sentAt = 0;

  constructor(
    private readonly from: Socket,
    private readonly to: Socket,
    private readonly faults: Faults,
    private readonly dir: Direction,
  ) {
    from.on('data', (c: Buffer) => {
      this.queue.push({ at: Date.now() + faults.latencyMs, chunk: c });
      // Hold the source while a queue builds up (bandwidth, latency): the kernel buffers, not us.
      if (this.queue.length > 16) from.pause();
      this.pump();
    });
  }

  pump(): void {
    if (this.timer !== undefined) return;
    if (this.faults.stalled.has(this.dir)) {
      this.from.pause();
      return;
    }
    const now = Date.now();
    while (this.queue.length > 0) {
      const head = this.queue[0] as { at: number; chunk: Buffer };
      const rate = this.faults.bytesPerSecond;
      const due = Math.max(head.at, rate > 0 ? this.sentAt : 0);
      if (due > now) {
        this.timer = setTimeout(() => {
          this.timer = undefined;
          this.pump();
        }, due - now);
        return;
      }
      this.queue.shift();
      if (rate > 0) {
        // A chunk larger than a tenth of a second's worth is split, so the rate holds smoothly.
        const max = Math.max(1, Math.floor(rate / 10));
        if (head.chunk.length > max) this.queue.unshift({ at: head.at, chunk: head.chunk.subarray(max) });
        const part = head.chunk.subarray(0, max);
        this.sentAt = Math.max(now, this.sentAt) + (part.length * 1000) / rate;
        this.to.write(part);
      } else {
        this.to.write(head.chunk);
      }
    }
    this.from.resume();
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}

interface Faults {
  latencyMs: number;
  bytesPerSecond: number;
  readonly stalled: Set<Direction>;
}

const BOTH: readonly Direction[] = ['toTarget', 'toClient'];

export async function faultProxy(opts: FaultProxyOptions): Promise<FaultProxy> {
  const faults: Faults = { latencyMs: 0, bytesPerSecond: 0, stalled: new Set() };
  const conns = new Set<{ client: Socket; target: Socket; pipes: Pipe[] }>();
  let accepted = 0;
  const pumpAll = (): void => {
    for (const c of conns) for (const p of c.pipes) p.pump();
  };
  const server: Server = createServer({ noDelay: true }, (client) => {
    accepted++;
    const target = connect({ host: opts.target.host, port: opts.target.port, noDelay: true });
    const conn = { client, target, pipes: [new Pipe(client, target, faults, 'toTarget'), new Pipe(target, client, faults, 'toClient')] };
    conns.add(conn);
    const end = (): void => {
      if (!conns.delete(conn)) return;
      for (const p of conn.pipes) p.stop();
      client.destroy();
      target.destroy();
    };
    for (const s of [client, target]) {
      s.on('close', end);
      s.on('error', end);
    }
    if (faults.stalled.size > 0) pumpAll();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: opts.listen?.host ?? '127.0.0.1', port: opts.listen?.port ?? 0 }, () => {
      server.removeListener('error', reject);
      resolve();
    });
  });
  const a = server.address();
  const port = typeof a === 'object' && a !== null ? a.port : 0;
  return {
    port,
    get accepted() {
      return accepted;
    },
    get open() {
      return conns.size;
    },
    latency(ms) {
      faults.latencyMs = ms;
    },
    bandwidth(bytesPerSecond) {
      faults.bytesPerSecond = bytesPerSecond;
      pumpAll();
    },
    stall(dir) {
      for (const d of dir === undefined ? BOTH : [dir]) faults.stalled.add(d);
      pumpAll();
    },
    resume(dir) {
      for (const d of dir === undefined ? BOTH : [dir]) faults.stalled.delete(d);
      pumpAll();
    },
    reset() {
      for (const c of [...conns]) {
        for (const s of [c.client, c.target]) {
          try {
            s.resetAndDestroy();
          } catch {
            s.destroy();
          }
        }
      }
    },
    close() {
      for (const c of [...conns]) {
        c.client.destroy();
        c.target.destroy();
      }
      return new Promise((r) => server.close(() => r()));
    },
  };
}
