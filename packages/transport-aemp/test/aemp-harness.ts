import { Node, type Carrier } from '@courier/core';
import { HarnessNodes, silentTcpPeer, socketPair, type CarrierHarness } from '@courier/carrier-compliance';
import { TcpCarrier } from '@courier/stream';
import { AempHandshake, aemp, type AempOptions, type AempTransport, type Framing } from '@courier/transport-aemp';

/**
 * AEMP as the compliance suite sees it: nodes on 127.0.0.1 with random ports, finding each other
 * through a shared address book (the `peers` option), over real sockets.
 */
export function aempHarness(framings: readonly Framing[] = ['cbor', 'json'], extra: Partial<AempOptions> = {}): () => Promise<CarrierHarness> {
  return () => {
    const book: Record<string, string[]> = {};
    const registry = new HarnessNodes<AempTransport>();
    const carriers: Carrier[] = [];
    const silent: Array<{ close(): Promise<void> }> = [];
    return Promise.resolve<CarrierHarness>({
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
          const node = await registry.start(name, t, o.log);
          book[name] = [...t.listening];
          made.push(node);
        }
        return made;
      },
      transportOf: (node) => registry.transportOf(node),
      async silentPeer(name) {
        const peer = await silentTcpPeer();
        book[name] = [`127.0.0.1:${peer.port}`];
        silent.push(peer);
      },
      async teardown() {
        await registry.stopAll();
        for (const c of carriers) c.abort();
        for (const p of silent) await p.close();
      },
    });
  };
}
