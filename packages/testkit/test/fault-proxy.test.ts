import { createServer, connect, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { faultProxy, type FaultProxy } from '../src/fault-proxy.js';

/** The userspace fault proxy against a loopback echo server: latency, bandwidth, stall, reset. */
let server: Server;
let proxy: FaultProxy;
const sockets: Socket[] = [];
/** Bytes the echo server has received. */
let serverGot = 0;

async function setup(): Promise<Socket> {
  serverGot = 0;
  server = createServer((s) => {
    s.on('data', (c: Buffer) => (serverGot += c.length));
    s.pipe(s);
  });
  await new Promise<void>((r) => server.listen({ host: '127.0.0.1', port: 0 }, r));
  const port = (server.address() as { port: number }).port;
  proxy = await faultProxy({ target: { host: '127.0.0.1', port } });
  const s = connect({ host: '127.0.0.1', port: proxy.port });
  sockets.push(s);
  await new Promise((r) => s.once('connect', r));
  return s;
}

/** Send `bytes` and resolve with the ms until all came back. */
function roundtrip(s: Socket, bytes: number): Promise<number> {
  const t0 = Date.now();
  let got = 0;
  return new Promise((resolve) => {
    const onData = (c: Buffer): void => {
      got += c.length;
      if (got >= bytes) {
        s.off('data', onData);
        resolve(Date.now() - t0);
      }
    };
    s.on('data', onData);
    s.write(Buffer.alloc(bytes, 1));
  });
}

afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await proxy?.close();
  await new Promise((r) => server?.close(r));
});

describe('faultProxy', () => {
  it('forwards, and adds latency in each direction', async () => {
    const s = await setup();
    expect(await roundtrip(s, 10)).toBeLessThan(100);
    proxy.latency(150);
    expect(await roundtrip(s, 10)).toBeGreaterThanOrEqual(290);
  });

  it('limits the bandwidth', async () => {
    const s = await setup();
    proxy.bandwidth(200_000);
    // 100 kB at 200 kB/s each way, in slices of 20 kB (the first goes at once): 0.4 s at least.
    const ms = await roundtrip(s, 100_000);
    expect(ms).toBeGreaterThanOrEqual(380);
    expect(ms).toBeLessThan(3000);
  });

  it('stalls without closing, then resumes with nothing lost', async () => {
    const s = await setup();
    proxy.stall();
    let closed = false;
    s.once('close', () => (closed = true));
    const back = roundtrip(s, 1000);
    const early = await Promise.race([back.then(() => 'data'), new Promise((r) => setTimeout(() => r('silence'), 400))]);
    expect(early).toBe('silence');
    expect(closed).toBe(false);
    expect(proxy.open).toBe(1);
    proxy.resume();
    expect(await back).toBeGreaterThanOrEqual(400);
  });

  it('stalls one direction: the target gets the bytes, its answer waits', async () => {
    const s = await setup();
    proxy.stall('toClient');
    const back = roundtrip(s, 1000);
    const early = await Promise.race([back.then(() => 'data'), new Promise((r) => setTimeout(() => r('silence'), 400))]);
    expect(early).toBe('silence');
    expect(serverGot).toBe(1000);
    proxy.resume('toClient');
    expect(await back).toBeGreaterThanOrEqual(400);
    proxy.stall('toTarget');
    const again = roundtrip(s, 10);
    await new Promise((r) => setTimeout(r, 300));
    expect(serverGot).toBe(1000);
    proxy.resume();
    await again;
    expect(serverGot).toBe(1010);
  });

  it('resets open connections and accepts new ones', async () => {
    const s = await setup();
    const err = new Promise<NodeJS.ErrnoException>((r) => s.once('error', r));
    proxy.reset();
    expect((await err).code).toBe('ECONNRESET');
    const again = connect({ host: '127.0.0.1', port: proxy.port });
    sockets.push(again);
    await new Promise((r) => again.once('connect', r));
    expect(await roundtrip(again, 10)).toBeLessThan(100);
    expect(proxy.accepted).toBe(2);
  });
});
