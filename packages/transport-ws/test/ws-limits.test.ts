import { EventEmitter } from 'node:events';
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Node, silentLogger } from '@courier/core';
import { Pid, Tuple, atom } from '@courier/term';
import { inProcess, uniqueName } from '@courier/testkit';
import { WebSocket } from 'ws';
import { MAX_WS_MESSAGE, SUBPROTOCOL, UpgradeGate, wsDist, type WsDistTransport } from '@courier/transport-ws';

/**
 * What a WebSocket listener lets a peer make it hold before the cookie: one message of
 * MAX_WS_MESSAGE, an HTTP head of 16 KiB, for at most the set-up deadline from the TCP accept.
 * The hostile suite (interop/hostile/ws.interop.test.ts) throws much more at the echo node process.
 */
const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function listener(handshakeTimeoutMs = 400): Promise<{ node: Node; t: WsDistTransport; port: number }> {
  const t = wsDist({ cookie: 'c', listen: { host: '127.0.0.1' }, handshakeTimeoutMs });
  const node = await new Node({ name: `${uniqueName('wsl')}@127.0.0.1`, transports: [t] }).start();
  cleanup.push(() => node.stop());
  return { node, t, port: Number(new URL(t.url as string).port) };
}

/** Write `bytes` on a raw connection; resolves with what came back and how long the node kept it open. */
function raw(port: number, bytes: Uint8Array, waitMs = 3000): Promise<{ answer: string; ms: number; closed: boolean }> {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const s: Socket = connect({ port, host: '127.0.0.1' });
    let answer = '';
    s.on('data', (c: Buffer) => (answer += c.toString('latin1')));
    s.on('error', () => undefined);
    const timer = setTimeout(() => {
      s.destroy();
      resolve({ answer, ms: Date.now() - t0, closed: false });
    }, waitMs);
    s.on('close', () => {
      clearTimeout(timer);
      resolve({ answer, ms: Date.now() - t0, closed: true });
    });
    s.on('connect', () => s.write(bytes));
  });
}

/** Open a `ws` client (no limits of ours), send `payload`, and report the close code the listener sent. */
function sendOnce(port: number, payload: Uint8Array): Promise<number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/courier`, SUBPROTOCOL);
    ws.on('error', () => undefined);
    ws.on('open', () => ws.send(payload));
    ws.on('close', (code) => resolve(code));
  });
}

describe('a wsDist listener', () => {
  it('on a port already in use fails start with CarrierError LISTEN_FAILED, and the process carries on', async () => {
    const { port } = await listener();
    const second = new Node({ name: `${uniqueName('wsl')}@127.0.0.1`, transports: [wsDist({ cookie: 'c', listen: { host: '127.0.0.1', port } })] });
    cleanup.push(() => second.stop().catch(() => undefined));
    await expect(second.start()).rejects.toMatchObject({ name: 'CarrierError', code: 'LISTEN_FAILED' });
  });
});

describe('a wsDist listener before authentication', () => {
  it('refuses a WebSocket message over MAX_WS_MESSAGE with close 1009 before buffering it', async () => {
    const { port } = await listener(3000);
    expect(await sendOnce(port, new Uint8Array(MAX_WS_MESSAGE + 1))).toBe(1009);
    expect(await sendOnce(port, new Uint8Array(8 * 1024 * 1024))).toBe(1009);
  });

  it('answers a plain HTTP request with 426 and closes', async () => {
    const { port } = await listener();
    const r = await raw(port, Buffer.from('GET /courier HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n'));
    expect(r.answer).toMatch(/^HTTP\/1\.1 426 /);
    expect(r.closed).toBe(true);
  });

  it('answers an upgrade whose head passes 16 KiB with 431 and closes', async () => {
    const { port } = await listener();
    const r = await raw(port, Buffer.from(`GET /courier HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nX-Big: ${'a'.repeat(17 * 1024)}\r\n\r\n`));
    expect(r.answer).toMatch(/^HTTP\/1\.1 431 /);
    expect(r.closed).toBe(true);
  });

  it('closes a connection that never upgrades, and one that upgrades and stays silent, at the set-up deadline', async () => {
    const { t, port } = await listener(400);
    const silent = raw(port, new Uint8Array(0));
    const cut = raw(port, Buffer.from('GET /courier HTTP/1.1\r\nHost: x\r\nUpg'));
    await new Promise((r) => setTimeout(r, 100));
    expect(t.upgradesPending()).toBe(2);
    const upgraded = new Promise<number>((resolve) => {
      const t0 = Date.now();
      const ws = new WebSocket(`ws://127.0.0.1:${port}/courier`, SUBPROTOCOL);
      ws.on('error', () => undefined);
      ws.on('close', () => resolve(Date.now() - t0));
    });
    for (const r of await Promise.all([silent, cut])) {
      expect(r.closed).toBe(true);
      expect(r.ms).toBeGreaterThanOrEqual(350);
      expect(r.ms).toBeLessThan(1500);
    }
    const ms = await upgraded;
    expect(ms).toBeGreaterThanOrEqual(350);
    expect(ms).toBeLessThan(1500);
    expect(t.upgradesPending()).toBe(0);
  });

  it('carries a 3 MiB message each way as messages of at most 64 KiB (each end refuses more)', async () => {
    const { node: gw, t } = await listener(3000);
    const web = await new Node({ name: `${uniqueName('wsd')}@127.0.0.1`, transports: [wsDist({ cookie: 'c', urlFor: () => t.url })] }).start();
    cleanup.push(() => web.stop());
    const big = new Uint8Array(3 * 1024 * 1024);
    for (let i = 0; i < big.length; i++) big[i] = (i * 7) & 0xff;
    gw.spawn(
      async (self) => {
        for (;;) {
          const [from, data] = ((await self.receive()) as Tuple).elements as [Pid, Uint8Array];
          self.send(from, data);
        }
      },
      { name: atom('back') },
    );
    const back = await inProcess(web, async (self) => {
      self.send({ name: 'back', node: gw.name }, new Tuple([self.pid, big]));
      return self.receive(undefined, 10_000);
    });
    expect(back).toBeInstanceOf(Uint8Array);
    // Compared as bytes: a failing toEqual would diff 3 MiB element by element.
    expect(Buffer.compare(back as Uint8Array, big)).toBe(0);
  });
});

/** A socket as the gate sees it. */
function fakeSocket(address: string, port: number): Socket & { destroyed: boolean } {
  const s = new EventEmitter() as unknown as Socket & { destroyed: boolean };
  Object.assign(s, { remoteAddress: address, remotePort: port, destroyed: false });
  (s as unknown as { destroy: () => void }).destroy = () => {
    s.destroyed = true;
    s.emit('close');
  };
  return s;
}

describe('UpgradeGate', () => {
  it('drops the oldest connection past the per-address cap, then past the listener cap', () => {
    const gate = new UpgradeGate({ setupTimeMs: 10_000, maxPending: 3, maxPendingPerAddress: 2, log: silentLogger });
    cleanup.push(() => gate.closeAll());
    const a1 = fakeSocket('10.0.0.1', 1);
    const a2 = fakeSocket('10.0.0.1', 2);
    const a3 = fakeSocket('10.0.0.1', 3);
    for (const s of [a1, a2, a3]) gate.admit(s);
    expect([a1.destroyed, a2.destroyed, a3.destroyed]).toEqual([true, false, false]);
    const b1 = fakeSocket('10.0.0.2', 1);
    const b2 = fakeSocket('10.0.0.2', 2);
    gate.admit(b1);
    gate.admit(b2);
    // Four from two addresses: the oldest of all (a2) makes room.
    expect([a2.destroyed, a3.destroyed, b1.destroyed, b2.destroyed]).toEqual([true, false, false, false]);
    expect(gate.size).toBe(3);
  });

  it('hands the time left of the deadline to the upgraded connection, and forgets closed ones', async () => {
    const gate = new UpgradeGate({ setupTimeMs: 1000, log: silentLogger });
    cleanup.push(() => gate.closeAll());
    const s = fakeSocket('10.0.0.3', 1);
    const admitted = Date.now();
    gate.admit(s);
    await new Promise((r) => setTimeout(r, 200));
    const left = gate.upgraded(s) as number;
    const elapsed = Date.now() - admitted;
    expect(Math.abs(left - (1000 - elapsed))).toBeLessThanOrEqual(5);
    expect(elapsed).toBeGreaterThanOrEqual(195);
    expect(gate.upgraded(s)).toBeUndefined();
    const gone = fakeSocket('10.0.0.3', 2);
    gate.admit(gone);
    gone.destroy();
    expect(gate.size).toBe(0);
  });

  it('destroys a connection that is not upgraded within the deadline', async () => {
    const gate = new UpgradeGate({ setupTimeMs: 100, log: silentLogger });
    const s = fakeSocket('10.0.0.4', 1);
    gate.admit(s);
    await new Promise((r) => setTimeout(r, 250));
    expect(s.destroyed).toBe(true);
    expect(gate.size).toBe(0);
  });
});
