import { silentLogger, type Carrier, type Node } from '@courier/core';
import { HarnessNodes, silentTcpPeer, socketPair, type CarrierHarness } from '@courier/carrier-compliance';
import { ErlHandshake } from '@courier/erl-dist';
import { TcpCarrier } from '@courier/stream';
import { EpmdServer, ErlDistTransport, register, tcpLayer, type DistLayer, type Registration } from '@courier/transport-tcp';

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

export function distHarness(kit: LayerKit): () => Promise<CarrierHarness> {
  return async () => {
    const epmd = new EpmdServer(silentLogger);
    const epmdPort = await epmd.listen(0, '127.0.0.1');
    const registry = new HarnessNodes<ErlDistTransport>();
    const carriers: Carrier[] = [];
    const silent: Array<{ peer: { close(): Promise<void> }; reg: Registration }> = [];
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
        const nodes: Node[] = [];
        for (const name of names) {
          const t = new ErlDistTransport(
            {
              cookie: o.cookies?.[name] ?? o.cookie,
              hidden: false,
              handshakeTimeoutMs: o.handshakeTimeoutMs,
              epmd: { host: '127.0.0.1', port: epmdPort, embedded: false },
              listen: { host: '127.0.0.1' },
            },
            layer,
          );
          nodes.push(await registry.start(name, t, o.log));
        }
        return nodes;
      },
      transportOf: (node) => registry.transportOf(node),
      async silentPeer(name) {
        const peer = await silentTcpPeer();
        const reg = await register(
          { host: '127.0.0.1', port: epmdPort },
          { name: name.split('@')[0] as string, port: peer.port, nodeType: 77, protocol: 0, highest: 6, lowest: 6, extra: new Uint8Array(0) },
          silentLogger,
        );
        silent.push({ peer, reg });
      },
      async teardown() {
        await registry.stopAll();
        for (const c of carriers) c.abort();
        for (const s of silent) {
          s.reg.close();
          await s.peer.close();
        }
        await epmd.close();
      },
    };
  };
}

export { socketPair };
