/**
 * The floor of a TLS stream between two Node.js processes on this machine: a minimal sender
 * writing 1 MiB buffers over one `tls` connection (Node's defaults, the bench's certificates) to a
 * sink that only counts — no framing, no codec, no runtime. What Courier↔Courier's TLS binaries
 * rows can reach at most with Node's TLS (encryption in one thread per process). bench/dist/run.ts
 * prints it under the TLS table; `node --import tsx bench/dist/tls-floor.ts CERT KEY CA` runs it alone.
 *
 * Child role (`--sink CERT KEY CA BYTES`): listen on an ephemeral port, print it, and answer one
 * byte each time BYTES have arrived.
 */
import { readFileSync } from 'node:fs';
import { connect, createServer } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { spawnListener } from './floor.js';

const CHUNK = 1 << 20;
const PASS_BYTES = 128 * CHUNK;

export interface TlsFiles {
  readonly cert: string;
  readonly key: string;
  readonly ca: string;
}

function sink(files: TlsFiles, bytes: number): void {
  const server = createServer({ cert: readFileSync(files.cert), key: readFileSync(files.key), ca: readFileSync(files.ca), requestCert: true, rejectUnauthorized: true }, (sock) => {
    let n = 0;
    sock.on('data', (d: Buffer) => {
      n += d.length;
      if (n >= bytes) {
        n -= bytes;
        sock.write('k');
      }
    });
  });
  server.listen(0, '127.0.0.1', () => {
    const addr = server.address();
    process.stdout.write(`PORT ${typeof addr === 'object' && addr !== null ? addr.port : 0}\n`);
  });
}

/** Bytes per second of PASS_BYTES written in 1 MiB buffers, after passes for `warmUpMs` (at least one). */
export async function tlsFloorBytesPerSec(files: TlsFiles, warmUpMs = 0): Promise<number> {
  const { child, port } = await spawnListener(import.meta.url, ['--sink', files.cert, files.key, files.ca, String(PASS_BYTES)]);
  try {
    const sock = connect({
      port,
      host: '127.0.0.1',
      cert: readFileSync(files.cert),
      key: readFileSync(files.key),
      ca: readFileSync(files.ca),
      checkServerIdentity: () => undefined,
    });
    await new Promise<void>((resolve, reject) => sock.once('secureConnect', resolve).once('error', reject));
    const chunk = Buffer.alloc(CHUNK);
    const pass = async (): Promise<number> => {
      const acked = new Promise((r) => sock.once('data', r));
      const t0 = performance.now();
      for (let sent = 0; sent < PASS_BYTES; sent += CHUNK) if (!sock.write(chunk)) await new Promise((r) => sock.once('drain', r));
      await acked;
      return PASS_BYTES / ((performance.now() - t0) / 1000);
    };
    const t0 = performance.now();
    do await pass();
    while (performance.now() - t0 < warmUpMs);
    const rate = await pass();
    sock.destroy();
    return rate;
  } finally {
    child.kill();
  }
}

const sinkAt = process.argv.indexOf('--sink');
if (sinkAt >= 0) {
  const [cert, key, ca, bytes] = process.argv.slice(sinkAt + 1) as [string, string, string, string];
  sink({ cert, key, ca }, Number(bytes));
} else if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [cert, key, ca] = process.argv.slice(2) as [string, string, string];
  console.log(`Node.js TLS stream, 1 MiB writes: ${((await tlsFloorBytesPerSec({ cert, key, ca }, 1500)) / 1e6).toFixed(0)} MB/s`);
}
