import { createServer, connect, type Server, type Socket } from 'node:net';
import { Node, type Carrier } from '@courier/core';
import type { CarrierHarness } from '@courier/carrier-compliance';
import { EpmdServer, ErlDistTransport, ErlHandshake, TcpCarrier, register, tcpLayer, type DistLayer, type Registration } from '@courier/transport-tcp';

/**
 * The Erlang distribution (over a given byte layer) as the compliance suite sees it: a private
 * embedded EPMD per case, nodes on 127.0.0.1, carriers over real sockets. Used by the TCP carrier
 * and, with its layer and carrier pair, by the TLS carrier.
 */
export interface LayerKit {
  readonly layer: () => DistLayer;
  /** Two connected carriers over this layer. */
  readonly carrierPair: () => Promise<readonly [Carrier, Carrier]>;
}

export const tcpKit: LayerKit = {
  layer: () => tcpLayer,
  carrierPair: () => socketPair().then(([a, b]) => [new TcpCarrier(a), new TcpCarrier(b)] as const),
};

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

export function distHarness(kit: LayerKit): () => Promise<CarrierHarness> {
  return async () => {
    const epmd = new EpmdServer({ trace() {}, debug() {}, info() {}, warn() {}, error() {}, child() { return this; } });
    const epmdPort = await epmd.listen(0, '127.0.0.1');
    const nodes: Node[] = [];
    const transports = new Map<Node, ErlDistTransport>();
    const carriers: Carrier[] = [];
    const silent: Array<{ server: Server; reg: Registration; sockets: Socket[] }> = [];
    const layer = kit.layer();
    return {
      async carrierPair() {
        const pair = await kit.carrierPair();
        carriers.push(...pair);
        return pair;
      },
      handshakePair(o) {
        const common = { hidden: false, lengthBytes: layer.handshakeLengthBytes } as const;
        return {
          initiator: new ErlHandshake({ ...common, role: 'initiator', self: o.initiator, peer: o.acceptor, creation: 1, cookie: () => o.initiatorCookie }),
          acceptor: new ErlHandshake({ ...common, role: 'acceptor', self: o.acceptor, creation: 2, cookie: () => o.acceptorCookie, arbiter: o.arbiter }),
        };
      },
      async makeNodes(names, o) {
        const made: Node[] = [];
        for (const name of names) {
          const t = new ErlDistTransport(
            { cookie: o.cookies?.[name] ?? o.cookie, hidden: false, handshakeTimeoutMs: o.handshakeTimeoutMs, epmd: { host: '127.0.0.1', port: epmdPort, embedded: false }, listen: { host: '127.0.0.1' } },
            layer,
          );
          const node = new Node({ name, transports: [t], log: o.log });
          await node.start();
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
        const port = typeof a === 'object' && a !== null ? a.port : 0;
        const log = { trace() {}, debug() {}, info() {}, warn() {}, error() {}, child() { return this; } };
        const reg = await register(
          { host: '127.0.0.1', port: epmdPort },
          { name: name.split('@')[0] as string, port, nodeType: 77, protocol: 0, highest: 6, lowest: 6, extra: new Uint8Array(0) },
          log,
        );
        silent.push({ server, reg, sockets });
      },
      async teardown() {
        for (const n of nodes) await n.stop();
        for (const c of carriers) c.abort();
        for (const s of silent) {
          s.reg.close();
          for (const x of s.sockets) x.destroy();
          await new Promise<void>((r) => s.server.close(() => r()));
        }
        await epmd.close();
      },
    };
  };
}
