import { describe, expect, it } from 'vitest';
import { CarrierError, HandshakeError } from '@courier/core';
import { PageAuthError, type WebSocketLike } from '@courier/transport-ws';
import { joinGateway } from '../../src/browser/browser-dist.js';

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

/** A page's WebSocket that opens, takes the token, and then closes with `code`/`reason` or answers `text`. */
function answering(a: { close?: [number, string]; text?: string }): () => WebSocketLike {
  return () => {
    const ws = {
      binaryType: '',
      bufferedAmount: 0,
      readyState: 0,
      sent: [] as unknown[],
      send(d: unknown) {
        ws.sent.push(d);
        setTimeout(() => (a.close ? ws.onclose?.({ code: a.close[0], reason: a.close[1] }) : ws.onmessage?.({ data: a.text })), 5);
      },
      close() {},
      onmessage: null as null | ((ev: { data: unknown }) => void),
      onclose: null as null | ((ev: { code: number; reason: string }) => void),
      onerror: null,
      onopen: null as null | (() => void),
    };
    setTimeout(() => ws.onopen?.(), 5);
    return ws;
  };
}

const join = (createWebSocket: () => WebSocketLike) =>
  joinGateway({ url: 'ws://127.0.0.1:1/courier', token: 't', handshakeTimeoutMs: 200, createWebSocket }).then(
    () => undefined,
    (e: unknown) => e,
  );

describe('joinGateway', () => {
  it('a WebSocket that never opens fails with the set-up deadline: HandshakeError TIMEOUT', async () => {
    const started = Date.now();
    const err = await join(unopened('hang'));
    expect(err).toBeInstanceOf(HandshakeError);
    expect((err as HandshakeError).code).toBe('TIMEOUT');
    expect(Date.now() - started).toBeGreaterThanOrEqual(180);
  });

  it('a WebSocket that errors before opening fails with CarrierError CONNECT_FAILED', async () => {
    const err = await join(unopened('error'));
    expect(err).toBeInstanceOf(CarrierError);
    expect((err as CarrierError).code).toBe('CONNECT_FAILED');
  });

  it("a gateway's refusal becomes a PageAuthError with its code; an answer that is not a welcome, BAD_WELCOME", async () => {
    const err = await join(answering({ close: [4401, 'TOKEN_EXPIRED: the page token expired'] }));
    expect(err).toBeInstanceOf(PageAuthError);
    expect((err as PageAuthError).code).toBe('TOKEN_EXPIRED');
    expect((err as PageAuthError).message).toMatch(/4401.*expired/);
    const bad = await join(answering({ text: 'hello' }));
    expect((bad as PageAuthError).code).toBe('BAD_WELCOME');
  });
});
