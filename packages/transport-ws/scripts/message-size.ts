/**
 * What a WebSocket message bound costs (docs/limits.md, "WebSocket message"): a 256 MiB byte
 * stream written as the Erlang session writes a large message (fragment frames: a 22-byte header
 * and a 64 KiB view, one `writev` each) through two WsCarriers over loopback, both ends bounded at
 * B, each way. Prints the CPU time per MiB (both ends run in this process; CPU time, unlike wall
 * time, stays comparable on a machine shared with other work), the median of ROUNDS rounds.
 *
 *   node --conditions=source --import tsx packages/transport-ws/scripts/message-size.ts [B,B,…] [ROUNDS]
 */
import { WebSocket, WebSocketServer } from 'ws';
import { WsCarrier, type WebSocketLike } from '@courier/transport-ws';

const TOTAL = 256 * 1024 * 1024;
const FRAGMENT = 64 * 1024;

async function pair(bound: number): Promise<{ client: WsCarrier; server: WsCarrier; close: () => void }> {
  const limits = { maxPayload: bound, perMessageDeflate: false } as const;
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, ...limits });
  await new Promise<void>((r) => wss.once('listening', () => r()));
  const { port } = wss.address() as { port: number };
  const accepted = new Promise<WebSocket>((r) => wss.once('connection', (ws) => r(ws)));
  const c = new WebSocket(`ws://127.0.0.1:${port}/`, limits);
  await new Promise((r) => c.once('open', r));
  const s = await accepted;
  return {
    client: new WsCarrier(c as unknown as WebSocketLike, 'client', { maxMessage: bound }),
    server: new WsCarrier(s as unknown as WebSocketLike, 'server', { maxMessage: bound }),
    close: () => {
      c.terminate();
      s.terminate();
      wss.close();
    },
  };
}

/** CPU ms per MiB to move TOTAL bytes from `from` to `to`, honouring backpressure. */
async function cpuPerMiB(from: WsCarrier, to: WsCarrier): Promise<number> {
  const head = new Uint8Array(22);
  const part = new Uint8Array(FRAGMENT).fill(1);
  let got = 0;
  const done = new Promise<void>((resolve) =>
    to.setReceiver({
      onData: (c) => {
        got += c.length;
        if (got >= TOTAL) resolve();
      },
      onDrain() {},
      onClose() {},
    }),
  );
  let drained: (() => void) | undefined;
  from.setReceiver({ onData() {}, onDrain: () => drained?.(), onClose() {} });
  const c0 = process.cpuUsage();
  for (let sent = 0; sent < TOTAL; sent += head.length + part.length) {
    if (!from.writev([head, part])) await new Promise<void>((r) => (drained = r));
  }
  await done;
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1000 / (TOTAL / 2 ** 20);
}

const bounds = (process.argv[2] ?? '4096,16384,65536,262144,134217728').split(',').map(Number);
const rounds = Number(process.argv[3] ?? 5);
const results = new Map<number, { up: number[]; down: number[] }>(bounds.map((b) => [b, { up: [], down: [] }]));
for (let r = 0; r < rounds; r++) {
  for (const b of bounds) {
    const { client, server, close } = await pair(b);
    const e = results.get(b) as { up: number[]; down: number[] };
    e.up.push(await cpuPerMiB(client, server));
    e.down.push(await cpuPerMiB(server, client));
    close();
  }
}
const median = (xs: number[]): string => ([...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number).toFixed(2);
console.log(`CPU ms per MiB, median of ${rounds} (both ends in this process)`);
console.log('message bound\tdialer → listener (masked)\tlistener → dialer');
for (const [b, e] of results) console.log(`${b}\t${median(e.up)}\t${median(e.down)}`);
process.exit(0);
