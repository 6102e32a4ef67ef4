import { createServer, connect, type Socket } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { TcpCarrier } from '../src/tcp-carrier.js';

setFlagsFromString('--expose-gc');
const collect = runInNewContext('gc') as () => void;

/**
 * A connected pair on 127.0.0.1: the accepted socket and the dialling one. The listener takes one
 * connection (`once`: a listener left on it would keep the accepted socket reachable) and closes.
 */
async function pair(allowHalfOpen = false): Promise<{ accepted: Socket; dialled: Socket }> {
  const server = createServer();
  const accepted = new Promise<Socket>((resolve) => server.once('connection', resolve));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address !== 'object') throw new Error('no address');
  const dialled = connect({ port: address.port, host: '127.0.0.1', allowHalfOpen });
  const socket = await accepted;
  server.close();
  return { accepted: socket, dialled };
}

/** Close a carrier whose peer answers the FIN at once; resolves with a WeakRef to it once it has closed. */
async function closeGracefully(): Promise<WeakRef<TcpCarrier>> {
  const { accepted, dialled } = await pair();
  dialled.on('end', () => dialled.end());
  dialled.resume();
  const carrier = new TcpCarrier(accepted);
  const closed = new Promise<Error | undefined>((resolve) => carrier.setReceiver({ onData: () => undefined, onDrain: () => undefined, onClose: resolve }));
  carrier.close();
  expect(await closed).toBeUndefined();
  await new Promise<void>((resolve) => (dialled.destroyed ? resolve() : dialled.once('close', () => resolve())));
  return new WeakRef(carrier);
}

describe('TcpCarrier', () => {
  it('closed gracefully, it is not held for the linger time: a peer closing connections fast pins no memory', async () => {
    const ref = await closeGracefully();
    await new Promise((r) => setTimeout(r, 100));
    collect();
    collect();
    // Before the fix, the 5 s destroy timer kept the carrier, its socket and its read buffer.
    expect(ref.deref()).toBeUndefined();
  });

  it('a peer that never answers the FIN is cut off after the linger time', async () => {
    const { accepted, dialled } = await pair(true);
    dialled.resume(); // reads our FIN, never ends its side
    const carrier = new TcpCarrier(accepted);
    const t0 = Date.now();
    const closed = new Promise<void>((resolve) => carrier.setReceiver({ onData: () => undefined, onDrain: () => undefined, onClose: () => resolve() }));
    carrier.close();
    await closed;
    expect(Date.now() - t0).toBeGreaterThanOrEqual(4900);
    dialled.destroy();
  }, 10_000);
});
