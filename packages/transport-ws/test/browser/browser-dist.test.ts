import { afterEach, describe, expect, it } from 'vitest';
import { CarrierError, HandshakeError, Node, ResolveError } from '@courier/core';
import { atom } from '@courier/term';
import type { WebSocketLike } from '@courier/transport-ws';
import { BrowserWsTransport, type BrowserWsOptions } from '../../src/browser/browser-dist.js';

/** A page's WebSocket that never opens: it hangs, or reports an error soon after being made. */
function unopened(how: 'hang' | 'error'): () => WebSocketLike {
  return () => {
    const ws = {
      binaryType: '',
      bufferedAmount: 0,
      readyState: 0,
      send() {},
      close() {},
      onmessage: null,
      onclose: null,
      onerror: null as null | ((ev: unknown) => void),
      onopen: null,
    };
    if (how === 'error') setTimeout(() => ws.onerror?.({}), 10);
    return ws;
  };
}

const GW = atom('gw@127.0.0.1');
const nodes: Node[] = [];
afterEach(async () => {
  for (const n of nodes.splice(0)) await n.stop();
});

async function dial(name: string, o: Partial<BrowserWsOptions>): Promise<{ node: Node; err: unknown }> {
  const t = new BrowserWsTransport({ cookie: 'c', urlFor: () => 'ws://127.0.0.1:1/courier', handshakeTimeoutMs: 200, ...o });
  const node = await new Node({ name, transports: [t] }).start();
  nodes.push(node);
  const err = await node.pipeline.dial(GW, t.dialer(GW)).then(
    () => undefined,
    (e: unknown) => e,
  );
  return { node, err };
}

describe('BrowserWsTransport dialing', () => {
  it('a WebSocket that never opens fails with the set-up deadline: HandshakeError TIMEOUT', async () => {
    const started = Date.now();
    const { node, err } = await dial('web_hang@127.0.0.1', { createWebSocket: unopened('hang') });
    expect(err).toBeInstanceOf(HandshakeError);
    expect((err as HandshakeError).code).toBe('TIMEOUT');
    expect(Date.now() - started).toBeGreaterThanOrEqual(180);
    expect(await node.connect(GW)).toBe(false);
  });

  it('a WebSocket that errors before opening fails with CarrierError CONNECT_FAILED', async () => {
    const { node, err } = await dial('web_err@127.0.0.1', { createWebSocket: unopened('error') });
    expect(err).toBeInstanceOf(CarrierError);
    expect((err as CarrierError).code).toBe('CONNECT_FAILED');
    expect(await node.connect(GW)).toBe(false);
  });

  it('a peer without a URL fails with ResolveError NO_ADDRESS', async () => {
    const { err } = await dial('web_nourl@127.0.0.1', { urlFor: () => undefined });
    expect(err).toBeInstanceOf(ResolveError);
    expect((err as ResolveError).code).toBe('NO_ADDRESS');
  });
});
