import { createServer, connect, type Server, type Socket } from 'node:net';
import { Node, type Carrier } from '@courier/core';
import type { CarrierHarness } from '@courier/carrier-compliance';
import { TcpCarrier } from '@courier/transport-tcp';
import { AempHandshake, aemp, type AempOptions, type AempTransport, type Framing } from '@courier/transport-aemp';

/** Two connected loopback sockets. */
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

/**
 * AEMP as the compliance suite sees it: nodes on 127.0.0.1 with random ports, finding each other
 * through a shared address book (the `peers` option), over real sockets.
 */
export function aempHarness(framings: readonly Framing[] = ['cbor', 'json'], extra: Partial<AempOptions> = {}): () => Promise<CarrierHarness> {
  return async () => {
    const book: Record<string, string[]> = {};
    const nodes: Node[] = [];
    const transports = new Map<Node, AempTransport>();
    const carriers: Carrier[] = [];
    const servers: Array<{ server: Server; sockets: Socket[] }> = [];
    return {
      async carrierPair() {
        const [a, b] = await socketPair();
        const pair = [new TcpCarrier(a, 'aemp'), new TcpCarrier(b, 'aemp')] as const;
        carriers.push(...pair);
        return pair;
      },
      handshakePair(o) {
        return {
          initiator: new AempHandshake({ role: 'initiator', self: o.initiator, peer: o.acceptor, secret: o.initiatorCookie, framings }),
          acceptor: new AempHandshake({ role: 'acceptor', self: o.acceptor, secret: o.acceptorCookie, framings, arbiter: o.arbiter }),
        };
      },
      async makeNodes(names, o) {
        const made: Node[] = [];
        for (const name of names) {
          const t = aemp({ secret: o.cookies?.[name] ?? o.cookie, framings, peers: book, handshakeTimeoutMs: o.handshakeTimeoutMs ?? 5000, ...extra });
          const node = new Node({ name, transports: [t], log: o.log });
          await node.start();
          book[name] = [...t.listening];
          transports.set(node, t);
          nodes.push(node);
          made.push(node);
        }
        return made;
      },
      transportOf(node) {
        const t = transports.get(node);
        if (t === undefined) throw new Error(`${node.name.name} was not made by this harness`);
        return t;
      },
      async silentPeer(name) {
        const sockets: Socket[] = [];
        const server = createServer((s) => {
          sockets.push(s);
          s.on('error', () => undefined);
        });
        await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
        const a = server.address();
        book[name] = [`127.0.0.1:${typeof a === 'object' && a !== null ? a.port : 0}`];
        servers.push({ server, sockets });
      },
      async teardown() {
        for (const n of nodes) await n.stop();
        for (const c of carriers) c.abort();
        for (const s of servers) {
          for (const x of s.sockets) x.destroy();
          await new Promise<void>((r) => s.server.close(() => r()));
        }
      },
    };
  };
}
