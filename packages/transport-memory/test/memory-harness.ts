import { atom } from '@courier/term';
import type { Carrier, Node } from '@courier/core';
import { HarnessNodes, type CarrierHarness } from '@courier/carrier-compliance';
import { ErlHandshake } from '@courier/erl-dist';
import { MemoryNetwork, memoryCarrierPair, memoryDist, type MemoryTransport } from '@courier/transport-memory';

/** The in-memory carrier (the Erlang distribution over memory pipes) as the compliance suite sees it: one fresh network per case. */
export function memoryHarness(): CarrierHarness {
  const network = new MemoryNetwork();
  const registry = new HarnessNodes<MemoryTransport>();
  const carriers: Carrier[] = [];
  return {
    carrierPair(opts) {
      const pair = memoryCarrierPair({ highWaterMark: opts?.highWaterMark });
      carriers.push(...pair);
      return Promise.resolve(pair);
    },
    handshakePair(o) {
      // The Erlang handshake, as memoryDist runs it: 2-byte length prefixes, as over TCP.
      const common = { hidden: false, lengthBytes: 2 } as const;
      return {
        initiator: new ErlHandshake({ ...common, role: 'initiator', self: o.initiator, peer: o.acceptor, creation: 1, cookie: () => o.initiatorCookie }),
        acceptor: new ErlHandshake({ ...common, role: 'acceptor', self: o.acceptor, creation: 2, cookie: () => o.acceptorCookie, arbiter: o.arbiter }),
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
    silentPeer(name) {
      network.listen(atom(name), (c) => {
        carriers.push(c);
        c.setReceiver({ onData: () => {}, onDrain: () => {}, onClose: () => {} });
      });
      return Promise.resolve();
    },
    openConnections: () => network.openConnections(),
    async teardown() {
      await registry.stopAll();
      for (const c of carriers) c.abort();
    },
  };
}
