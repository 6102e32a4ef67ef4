/**
 * The floor of a round trip between two Node.js processes on this machine: a minimal TCP
 * ping-pong, 4-byte length prefix, no term codec, no actor runtime — what one round trip of
 * `bench:dist` costs below Courier (two socket writes, two reads, two event-loop wake-ups).
 * The message is as long as a distribution round-trip frame (pass-through header, control
 * tuple, `{Pid, N}`). bench/dist/run.ts runs it beside the distribution pairs and prints it as
 * the "Node.js socket ping-pong" row; `node --import tsx bench/dist/floor.ts N` runs it alone.
 *
 * Child role (`--echo`): listen on an ephemeral port, print it, echo every frame back.
 */
import { spawn } from 'node:child_process';
import { createConnection, createServer, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';

const FRAME_BYTES = 80;

/** Calls `onFrame` with each complete frame's payload length; the socket's chunks are walked in place. */
function frames(sock: Socket, onFrame: (len: number) => void): void {
  let pending: Buffer | undefined;
  sock.on('data', (chunk: Buffer) => {
    let buf = pending === undefined ? chunk : Buffer.concat([pending, chunk]);
    pending = undefined;
    while (buf.length >= 4) {
      const len = buf.readUInt32BE(0);
      if (buf.length < 4 + len) break;
      onFrame(len);
      buf = buf.subarray(4 + len);
    }
    if (buf.length > 0) pending = buf;
  });
}

function echo(): void {
  const server = createServer((sock) => {
    sock.setNoDelay(true);
    const frame = Buffer.alloc(4 + FRAME_BYTES);
    frame.writeUInt32BE(FRAME_BYTES, 0);
    frames(sock, () => sock.write(frame));
  });
  server.listen(0, '127.0.0.1', () => {
    const addr = server.address();
    process.stdout.write(`PORT ${typeof addr === 'object' && addr !== null ? addr.port : 0}\n`);
  });
}

/** Round trips per second over `n` sequential round trips (a warm-up of n/10 first). */
export async function floorRoundTrips(n: number): Promise<number> {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--echo'], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (c: Buffer) => {
        out += c.toString();
        const m = /PORT (\d+)/.exec(out);
        if (m) resolve(Number(m[1]));
      });
      child.once('exit', (code) => reject(new Error(`the echo process exited (${code})`)));
    });
    const sock = createConnection({ port, host: '127.0.0.1' });
    sock.setNoDelay(true);
    await new Promise<void>((resolve, reject) => sock.once('connect', resolve).once('error', reject));
    const frame = Buffer.alloc(4 + FRAME_BYTES);
    frame.writeUInt32BE(FRAME_BYTES, 0);
    let left = 0;
    let done: () => void = () => undefined;
    frames(sock, () => {
      if (--left > 0) sock.write(frame);
      else done();
    });
    const run = (count: number): Promise<number> =>
      new Promise((resolve) => {
        const t0 = process.hrtime.bigint();
        left = count;
        done = () => resolve((count * 1e9) / Number(process.hrtime.bigint() - t0));
        sock.write(frame);
      });
    await run(Math.max(1, Math.floor(n / 10)));
    const rate = await run(n);
    sock.destroy();
    return rate;
  } finally {
    child.kill();
  }
}

if (process.argv.includes('--echo')) echo();
else if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const n = Number(process.argv[2] ?? 10_000);
  console.log(`Node.js socket ping-pong: ${Math.round(await floorRoundTrips(n))} round trips/s`);
}
