import { Node, type Carrier } from '@courier/core';
import { atom } from '@courier/term';
import { HarnessNodes, type CarrierHarness } from '@courier/carrier-compliance';
import { ErlHandshake } from '@courier/erl-dist';
import { WebSocketServer, type WebSocket } from 'ws';
import { WsCarrier, WsDistTransport, dialWs, type WebSocketLike } from '@courier/transport-ws';

/** Two WebSocket carriers over a loopback connection. */
export async function wsCarrierPair(highWaterMark?: number): Promise<readonly [Carrier, Carrier]> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
  await new Promise<void>((r) => wss.once('listening', () => r()));
  const a = wss.address();
  const port = typeof a === 'object' && a !== null ? a.port : 0;
  const accepted = new Promise<WebSocket>((r) => wss.once('connection', (ws) => r(ws)));
  const dialer = await dialWs(`ws://127.0.0.1:${port}/`, undefined);
  const ws = await accepted;
  ws.on('error', () => undefined);
  wss.close();
  if (highWaterMark === undefined) return [dialer, new WsCarrier(ws as unknown as WebSocketLike, 'accepted')] as const;
  return [rewrap(dialer, { highWaterMark }), new WsCarrier(ws as unknown as WebSocketLike, 'accepted', { highWaterMark })] as const;
}

// dialWs wraps with the default mark; the backpressure case asks for a small one.
function rewrap(c: WsCarrier, hwm: { highWaterMark: number }): WsCarrier {
  const ws = (c as unknown as { ws: WebSocketLike }).ws;
  return new WsCarrier(ws, 'dialer', hwm);
}

export function wsHarness(): () => Promise<CarrierHarness> {
  return () => {
    const urls = new Map<string, string>();
    const registry = new HarnessNodes<WsDistTransport>();
    const carriers: Carrier[] = [];
    const silent: WebSocketServer[] = [];
    return Promise.resolve<CarrierHarness>({
      async carrierPair(o) {
        const pair = await wsCarrierPair(o?.highWaterMark);
        carriers.push(...pair);
        return pair;
      },
      handshakePair(o) {
        const common = { hidden: false, lengthBytes: 2 } as const;
        return {
          initiator: new ErlHandshake({ ...common, role: 'initiator', self: o.initiator, peer: o.acceptor, creation: 1, cookie: () => o.initiatorCookie }),
          acceptor: new ErlHandshake({ ...common, role: 'acceptor', self: o.acceptor, creation: 2, cookie: () => o.acceptorCookie, arbiter: o.arbiter }),
        };
      },
      async makeNodes(names, o) {
        const made: Node[] = [];
        for (const name of names) {
          const t = new WsDistTransport({
            cookie: o.cookies?.[name] ?? o.cookie,
            handshakeTimeoutMs: o.handshakeTimeoutMs,
            listen: { host: '127.0.0.1' },
            urlFor: (peer) => urls.get(peer.name),
          });
          const node = await registry.start(name, t, o.log);
          urls.set(name, t.url as string);
          made.push(node);
        }
        return made;
      },
      transportOf: (node) => registry.transportOf(node),
      async silentPeer(name) {
        const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
        wss.on('connection', (ws) => ws.on('error', () => undefined));
        await new Promise<void>((r) => wss.once('listening', () => r()));
        const a = wss.address();
        urls.set(atom(name).name, `ws://127.0.0.1:${typeof a === 'object' && a !== null ? a.port : 0}/`);
        silent.push(wss);
      },
      async teardown() {
        await registry.stopAll();
        for (const c of carriers) c.abort();
        for (const s of silent) {
          for (const ws of s.clients) ws.terminate();
          await new Promise<void>((r) => s.close(() => r()));
        }
      },
    });
  };
}
