/**
 * The floor of a round trip between two Node.js processes on this machine: a minimal TCP
 * ping-pong, 4-byte length prefix, no term codec, no actor runtime — what one round trip of
 * `bench:dist` costs below Courier (two socket writes, two reads, two event-loop wake-ups).
 * The message is as long as a distribution round-trip frame (pass-through header, control
 * tuple, `{Pid, N}`). bench/dist/run.ts runs it beside the distribution pairs and prints it as
 * the "Node.js socket ping-pong" row; `node --import tsx bench/dist/floor.ts N [SPIN_MICROS]` runs it alone.
 * With `spinMicros`, both processes keep their event loop turning for that long after each frame
 * (runtime/busy-poll.ts's setImmediate loop, as a Courier node with busyPollMicros): the floor of the
 * busy-polling rows.
 *
 * Child role (`--echo [SPIN_MICROS]`): listen on an ephemeral port, print it, echo every frame back.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createConnection, createServer, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
// Courier's own busy polling (a setImmediate loop for a window after each message), so that the
// busy floor spins exactly as a Courier node with busyPollMicros does; nothing else of Courier.
import { BusyPoll } from '../../packages/core/src/runtime/busy-poll.js';

const FRAME_BYTES = 80;

/** Calls `onFrame` with each complete frame's payload length; the socket's chunks are walked in place. */
function frames(sock: Socket, spin: BusyPoll, onFrame: (len: number) => void): void {
  let pending: Buffer | undefined;
  sock.on('data', (chunk: Buffer) => {
    spin.touch();
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

function echo(spinMicros: number): void {
  const spin = new BusyPoll(spinMicros);
  const server = createServer((sock) => {
    sock.setNoDelay(true);
    const frame = Buffer.alloc(4 + FRAME_BYTES);
    frame.writeUInt32BE(FRAME_BYTES, 0);
    frames(sock, spin, () => sock.write(frame));
  });
  server.listen(0, '127.0.0.1', () => {
    const addr = server.address();
    process.stdout.write(`PORT ${typeof addr === 'object' && addr !== null ? addr.port : 0}\n`);
  });
}

/**
 * Run `script` with tsx in a node process of its own (a floor program's listening role) and wait
 * for its line `PORT <n>`; rejects if it exits first. The caller kills it.
 */
export async function spawnListener(script: string, args: readonly string[]): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(script), ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /PORT (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`${fileURLToPath(script)} ${args.join(' ')} exited (${code}) before listening`)));
  });
  return { child, port };
}

/**
 * Round trips per second over `n` sequential round trips, after warm-up rounds of n/10 for
 * `warmUpMs` (at least one); `spinMicros`: both ends busy-poll. The warm-up is as long as
 * bench:dist's for every other figure: two fresh busy-polling processes start on one core and
 * take the kernel a while to spread (5,000 round trips right after the spawn: 14–17k/s, 20,000: 28–29k).
 */
export async function floorRoundTrips(n: number, spinMicros = 0, warmUpMs = 0): Promise<number> {
  const { child, port } = await spawnListener(import.meta.url, ['--echo', String(spinMicros)]);
  try {
    const sock = createConnection({ port, host: '127.0.0.1' });
    sock.setNoDelay(true);
    await new Promise<void>((resolve, reject) => sock.once('connect', resolve).once('error', reject));
    const frame = Buffer.alloc(4 + FRAME_BYTES);
    frame.writeUInt32BE(FRAME_BYTES, 0);
    let left = 0;
    let done: () => void = () => undefined;
    frames(sock, new BusyPoll(spinMicros), () => {
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
    const t0 = performance.now();
    do await run(Math.max(1, Math.floor(n / 10)));
    while (performance.now() - t0 < warmUpMs);
    const rate = await run(n);
    sock.destroy();
    return rate;
  } finally {
    child.kill();
  }
}

const echoAt = process.argv.indexOf('--echo');
if (echoAt >= 0) echo(Number(process.argv[echoAt + 1] ?? 0));
else if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const n = Number(process.argv[2] ?? 10_000);
  const spin = Number(process.argv[3] ?? 0);
  console.log(`Node.js socket ping-pong${spin > 0 ? `, busy polling ${spin} µs` : ''}: ${Math.round(await floorRoundTrips(n, spin))} round trips/s`);
}
