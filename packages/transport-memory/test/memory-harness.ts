import { atom } from '@courier/term';
import { Node, type Carrier } from '@courier/core';
import type { CarrierHarness } from '@courier/carrier-compliance';
import { MemoryHandshake, MemoryNetwork, memoryCarrierPair, memoryDist, type MemoryTransport } from '@courier/transport-memory';

/** The in-memory carrier as the compliance suite sees it: one fresh network per case. */
export function memoryHarness(): CarrierHarness {
  const network = new MemoryNetwork();
  const nodes: Node[] = [];
  const transports = new Map<Node, MemoryTransport>();
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
      const made: Node[] = [];
      for (const name of names) {
        const t = memoryDist({ network, cookie: o.cookies?.[name] ?? o.cookie, handshakeTimeoutMs: o.handshakeTimeoutMs });
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
      network.listen(atom(name), (c) => {
        carriers.push(c);
        c.setReceiver({ onData: () => {}, onDrain: () => {}, onClose: () => {} });
      });
    },
    openConnections: () => network.openConnections(),
    async teardown() {
      for (const n of nodes) await n.stop();
      for (const c of carriers) c.abort();
    },
  };
}
