import { atom } from '@courier/term';
import type { Carrier, Node } from '@courier/core';
import { HarnessNodes, type CarrierHarness } from '@courier/carrier-compliance';
import { MemoryHandshake, MemoryNetwork, memoryCarrierPair, memoryDist, type MemoryTransport } from '@courier/transport-memory';

/** The in-memory carrier as the compliance suite sees it: one fresh network per case. */
export function memoryHarness(): CarrierHarness {
  const network = new MemoryNetwork();
  const registry = new HarnessNodes<MemoryTransport>();
  const carriers: Carrier[] = [];
  return {
    async carrierPair(opts) {
      const pair = memoryCarrierPair({ highWaterMark: opts?.highWaterMark });
      carriers.push(...pair);
      return pair;
    },
    handshakePair(o) {
      return {
        initiator: new MemoryHandshake({ role: 'initiator', self: o.initiator, creation: 1, cookie: o.initiatorCookie, peer: o.acceptor }),
        acceptor: new MemoryHandshake({ role: 'acceptor', self: o.acceptor, creation: 2, cookie: o.acceptorCookie, arbiter: o.arbiter }),
      };
    },
    async makeNodes(names, o) {
      const nodes: Node[] = [];
      for (const name of names) {
        nodes.push(await registry.start(name, memoryDist({ network, cookie: o.cookies?.[name] ?? o.cookie, handshakeTimeoutMs: o.handshakeTimeoutMs }), o.log));
      }
      return nodes;
    },
    transportOf: (node) => registry.transportOf(node),
    async silentPeer(name) {
      network.listen(atom(name), (c) => {
        carriers.push(c);
        c.setReceiver({ onData: () => {}, onDrain: () => {}, onClose: () => {} });
      });
    },
    openConnections: () => network.openConnections(),
    async teardown() {
      await registry.stopAll();
      for (const c of carriers) c.abort();
    },
  };
}
