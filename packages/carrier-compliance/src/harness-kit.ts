import { connect, createServer, type Server, type Socket } from 'node:net';
import { Node, type Logger, type Transport } from '@courier/core';

/**
 * Pieces every carrier's compliance harness needs: the nodes it made (started, each with its
 * transport, stopped at teardown) and a silent TCP peer (accepts, never answers a byte).
 */
export class HarnessNodes<T extends Transport> {
  private readonly nodes: Node[] = [];
  private readonly transports = new Map<Node, T>();

  /** Start a node on `transport` and remember both. */
  async start(name: string, transport: T, log?: Logger): Promise<Node> {
    const node = new Node({ name, transports: [transport], log });
    await node.start();
    this.transports.set(node, transport);
    this.nodes.push(node);
    return node;
  }

  /** The transport `node` was started on. */
  transportOf(node: Node): T {
    const t = this.transports.get(node);
    if (t === undefined) throw new Error(`${node.name.name} was not made by this harness`);
    return t;
  }

  /** The transports of every node started. */
  all(): T[] {
    return [...this.transports.values()];
  }

  /** Stops every node started, in order. */
  async stopAll(): Promise<void> {
    for (const n of this.nodes) await n.stop();
  }
}

/** A TCP listener on 127.0.0.1 that accepts connections and never answers (a hung peer). */
export async function silentTcpPeer(): Promise<{
  readonly port: number;
  /** Closes the listener and destroys the connections it accepted. */
  close(): Promise<void>;
}> {
  const sockets: Socket[] = [];
  const server: Server = createServer((s) => {
    sockets.push(s);
    s.on('error', () => undefined);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const a = server.address();
  return {
    port: typeof a === 'object' && a !== null ? a.port : 0,
    close: async () => {
      for (const x of sockets) x.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** Two connected loopback sockets (for carriers over TCP). */
export function socketPair(): Promise<readonly [Socket, Socket]> {
  return new Promise((resolve, reject) => {
    const server: Server = createServer((accepted) => {
      server.close();
      resolve([client, accepted]);
    });
    let client!: Socket;
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const a = server.address();
      client = connect({ host: '127.0.0.1', port: typeof a === 'object' && a !== null ? a.port : 0 });
    });
  });
}
