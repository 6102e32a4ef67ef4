import { HandshakeError, type HandshakeAction } from '@courier/core';
import { ErlHandshake } from '@courier/erl-dist';
import { Pid, Tuple, atom, encode } from '@courier/term';
import { RawWs } from './ws-exchange.js';
import { binaryMessages, closeCode, fragmentedMessage, upgradeRequest } from './ws-frames.js';

/**
 * A valid Erlang handshake (Courier's own initiator, sans-IO) and one echo round trip, driven over
 * a raw WebSocket whose messages the caller cuts as it likes: one byte per message, or one byte
 * per fragment of a message. What the node sends back may arrive cut anyhow too; it is read as
 * the byte stream it is.
 */
export interface SplitHandshake {
  /** `done` when the handshake finished; else the failure (a HandshakeError code, or what happened). */
  readonly outcome: string;
  /** The echo node answered `{echo, Marker}` after the handshake. */
  readonly echoed: boolean;
  /** Messages written (each a WebSocket message or fragment). */
  readonly messages: number;
}

export async function splitHandshake(
  port: number,
  o: { readonly self: string; readonly peer: string; readonly cookie: string; readonly cut: 'messages' | 'fragments'; readonly ms?: number },
): Promise<SplitHandshake> {
  const ws = await RawWs.open(port);
  const ms = o.ms ?? 5000;
  let messages = 0;
  const send = (bytes: Uint8Array): void => {
    messages += bytes.length;
    ws.write(o.cut === 'messages' ? binaryMessages(bytes, 1) : fragmentedMessage(bytes, 1));
  };
  try {
    ws.write(upgradeRequest());
    if (!(await ws.until(() => ws.status !== undefined, ms)) || ws.status !== 101) return { outcome: `HTTP ${ws.status ?? 'no answer'}`, echoed: false, messages };
    const self = atom(o.self);
    const hs = new ErlHandshake({ role: 'initiator', self, peer: atom(o.peer), creation: 1, cookie: () => o.cookie, hidden: true, lengthBytes: 2 });
    let read = 0;
    let done: Uint8Array | undefined;
    let failed: string | undefined;
    const act = (actions: HandshakeAction[]): void => {
      for (const a of actions) {
        if (a.type === 'write') send(a.bytes);
        else if (a.type === 'done') done = a.result.tail;
        else if (a.type === 'fail') failed = `${a.error.code}: ${a.error.message}`;
        else failed = `unexpected ${a.type}`;
      }
    };
    act(hs.start());
    while (done === undefined && failed === undefined) {
      // The node refusing closes with a close frame and waits for ours, which this client never sends.
      if (!(await ws.until(() => ws.stream.length > read || closeCode(ws.frames) !== undefined, ms)) || ws.stream.length <= read) {
        failed = ws.isClosed || closeCode(ws.frames) !== undefined ? (hs.closedByPeer?.()?.code ?? 'closed by the node') : 'no answer';
        break;
      }
      const s = ws.stream;
      try {
        act(hs.receive(s.subarray(read)));
      } catch (err) {
        failed = err instanceof HandshakeError ? err.code : String(err);
      }
      read = s.length;
    }
    if (failed !== undefined || done === undefined) return { outcome: failed ?? 'no outcome', echoed: false, messages };
    // One echo round trip: <<Len:32, 112, Control, Payload>>, REG_SEND {6, From, '', echo}, {From, Marker}.
    const start = ws.stream.length - done.length;
    const from = new Pid(self, 1, 0, 1);
    const marker = Buffer.from(`ws-split-${o.cut}-${Date.now()}`);
    const body = Buffer.concat([Buffer.from([112]), encode(new Tuple([6, from, atom(''), atom('echo')])), encode(new Tuple([from, marker]))]);
    const len = Buffer.alloc(4);
    len.writeUInt32BE(body.length);
    send(Buffer.concat([len, body]));
    const echoed = await ws.until(() => ws.stream.subarray(start).includes(marker), ms);
    return { outcome: 'done', echoed, messages };
  } finally {
    ws.destroy();
  }
}
