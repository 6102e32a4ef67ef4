import { describe, expect, it } from 'vitest';
import { ProtocolError } from '@courier/core';
import { MAX_WS_MESSAGE, WsCarrier, type WebSocketLike } from '@courier/transport-ws';

/** A WebSocket that records what is sent; `deliver` plays a message from the peer. */
function fakeSocket(): WebSocketLike & { sent: Uint8Array[]; deliver(data: unknown): void; closedWith?: number } {
  const ws = {
    binaryType: 'arraybuffer',
    bufferedAmount: 0,
    readyState: 1,
    sent: [] as Uint8Array[],
    closedWith: undefined as number | undefined,
    send(data: Uint8Array) {
      ws.sent.push(Uint8Array.from(data));
    },
    close(code?: number) {
      ws.closedWith = code;
    },
    onmessage: null as ((ev: { data: unknown }) => void) | null,
    onclose: null as ((ev: { code: number; reason: string }) => void) | null,
    onerror: null as ((ev: unknown) => void) | null,
    deliver(data: unknown) {
      ws.onmessage?.({ data });
    },
  };
  return ws;
}

function bytes(n: number, seed = 0): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed) & 0xff;
  return b;
}
/** Byte equality without an element-by-element diff of large arrays. */
const same = (a: Uint8Array, b: Uint8Array): boolean => Buffer.compare(a, b) === 0;
const joined = (parts: readonly Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};

describe('WsCarrier: WebSocket messages are pieces of a byte stream of at most MAX_WS_MESSAGE', () => {
  it('is 64 KiB', () => {
    expect(MAX_WS_MESSAGE).toBe(64 * 1024);
  });

  it('a write larger than a message goes out as several, in order, none over the bound', () => {
    const ws = fakeSocket();
    const c = new WsCarrier(ws, 'peer');
    const data = bytes(3 * MAX_WS_MESSAGE + 123);
    c.write(data);
    expect(ws.sent.map((m) => m.length)).toEqual([MAX_WS_MESSAGE, MAX_WS_MESSAGE, MAX_WS_MESSAGE, 123]);
    expect(same(joined(ws.sent), data)).toBe(true);
  });

  it('a write of the bound or less is one message', () => {
    const ws = fakeSocket();
    const c = new WsCarrier(ws, 'peer');
    c.write(bytes(MAX_WS_MESSAGE));
    c.write(bytes(5));
    expect(ws.sent.map((m) => m.length)).toEqual([MAX_WS_MESSAGE, 5]);
  });

  it('writev packs small chunks into one message and cuts large ones at the bound', () => {
    const ws = fakeSocket();
    const c = new WsCarrier(ws, 'peer');
    const chunks = [bytes(4, 1), bytes(22, 2), bytes(2 * MAX_WS_MESSAGE, 3), bytes(10, 4), bytes(7, 5)];
    c.writev(chunks);
    expect(ws.sent.every((m) => m.length <= MAX_WS_MESSAGE)).toBe(true);
    expect(ws.sent.map((m) => m.length)).toEqual([MAX_WS_MESSAGE, MAX_WS_MESSAGE, 26 + 17]);
    expect(same(joined(ws.sent), joined(chunks))).toBe(true);
    ws.sent.length = 0;
    c.writev([bytes(3), bytes(4)]);
    expect(ws.sent.map((m) => m.length)).toEqual([7]);
  });

  it('honours a smaller bound given to it, both ways', () => {
    const ws = fakeSocket();
    const c = new WsCarrier(ws, 'peer', { maxMessage: 10 });
    const data = bytes(25);
    c.writev([data.subarray(0, 3), data.subarray(3)]);
    expect(ws.sent.map((m) => m.length)).toEqual([10, 10, 5]);
    expect(same(joined(ws.sent), data)).toBe(true);
  });

  it('a message over the bound from the peer (a browser cannot refuse it earlier) closes the connection with ProtocolError WS_MESSAGE_TOO_BIG', () => {
    const ws = fakeSocket();
    const c = new WsCarrier(ws, 'peer');
    const got: Uint8Array[] = [];
    let closed: Error | undefined | null = null;
    c.setReceiver({ onData: (b) => got.push(b), onDrain() {}, onClose: (e) => (closed = e) });
    ws.deliver(bytes(MAX_WS_MESSAGE).buffer);
    expect(got.map((b) => b.length)).toEqual([MAX_WS_MESSAGE]);
    ws.deliver(new Uint8Array(MAX_WS_MESSAGE + 1).buffer);
    expect(closed).toBeInstanceOf(ProtocolError);
    expect((closed as unknown as ProtocolError).code).toBe('WS_MESSAGE_TOO_BIG');
    expect(got).toHaveLength(1);
  });
});
