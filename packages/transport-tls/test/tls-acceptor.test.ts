import { readFileSync } from 'node:fs';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { CarrierError } from '@courier/core';
import { hasOpenssl, makeTestCerts, requirePeer, type TestCerts } from '@courier/testkit';
import { TlsAcceptor } from '../src/tls-acceptor.js';

const openssl = requirePeer('openssl', hasOpenssl(), 'the openssl command is needed to make test certificates');
const certs: TestCerts | undefined = openssl.available ? makeTestCerts() : undefined;

/** A listener handing every connection to `acceptor`; the outcomes in arrival order. */
async function listen(acceptor: TlsAcceptor, setupTimeMs = 5000): Promise<{ port: number; outcomes: Array<Promise<TLSSocket>>; server: Server }> {
  const outcomes: Array<Promise<TLSSocket>> = [];
  const server = createServer((s) => {
    s.on('error', () => undefined);
    const p = acceptor.accept(s, setupTimeMs);
    p.catch(() => undefined);
    outcomes.push(p);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as AddressInfo).port, outcomes, server };
}

const material = (c: TestCerts) => ({ cert: readFileSync(c.node.cert), key: readFileSync(c.node.key), ca: readFileSync(c.ca) });
const stalled = (port: number): Promise<Socket> =>
  new Promise((resolve) => {
    const s = connect({ port, host: '127.0.0.1' }, () => {
      s.write(Buffer.from([0x16, 0x03, 0x01, 0x00, 0x40, 0x01])); // a record header and one byte, then nothing
      resolve(s);
    });
    s.on('error', () => undefined);
  });
const client = (port: number, id: { cert: string; key: string }, ca: string): TLSSocket => {
  const t = tlsConnect({ host: '127.0.0.1', port, cert: readFileSync(id.cert), key: readFileSync(id.key), ca: readFileSync(ca) });
  t.on('error', () => undefined);
  return t;
};
const until = async (ok: () => boolean, ms: number): Promise<void> => {
  const end = Date.now() + ms;
  while (!ok() && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
};

describe('TlsAcceptor: the server side of TLS for accepted connections', () => {
  const cleanup: Array<() => void> = [];
  afterEach(() => {
    for (const c of cleanup.splice(0)) c();
  });

  it('past the per-address cap drops the oldest stalled handshake; a trusted client still gets in', async (ctx) => {
    openssl.require(ctx);
    const c = certs as TestCerts;
    const acceptor = new TlsAcceptor(material(c), { verify: true, failIfNoPeerCert: true, maxPending: 10, maxPendingPerAddress: 3 });
    const { port, outcomes, server } = await listen(acceptor);
    const sockets = [await stalled(port), await stalled(port), await stalled(port)];
    cleanup.push(
      () => server.close(),
      () => sockets.forEach((s) => s.destroy()),
    );
    await until(() => acceptor.size === 3, 2000);
    const t = client(port, c.other, c.ca);
    cleanup.push(() => t.destroy());
    const first = await (outcomes[0] as Promise<TLSSocket>).catch((e: unknown) => e);
    expect(first).toBeInstanceOf(CarrierError);
    expect((first as CarrierError).code).toBe('PENDING_LIMIT');
    const accepted = await (outcomes[3] as Promise<TLSSocket>);
    expect(accepted.authorized).toBe(true);
    expect(acceptor.size).toBe(2);
  });

  it('refuses a certificate the CA did not sign, and no certificate, saying why', async (ctx) => {
    openssl.require(ctx);
    const c = certs as TestCerts;
    const acceptor = new TlsAcceptor(material(c), { verify: true, failIfNoPeerCert: true });
    const { port, outcomes, server } = await listen(acceptor);
    cleanup.push(() => server.close());
    const bad = client(port, c.untrusted, c.ca);
    const none = tlsConnect({ host: '127.0.0.1', port, ca: readFileSync(c.ca) });
    none.on('error', () => undefined);
    cleanup.push(
      () => bad.destroy(),
      () => none.destroy(),
    );
    await until(() => outcomes.length === 2, 2000);
    const why = await Promise.all(
      outcomes.map((p) =>
        p.then(
          () => 'accepted',
          (e: CarrierError) => e.message,
        ),
      ),
    );
    expect(why.some((w) => /client certificate rejected/.test(w))).toBe(true);
    expect(why.some((w) => /no certificate|certificate required|handshake failed/i.test(w))).toBe(true);
    expect(acceptor.size).toBe(0);
  });

  it('drops a handshake still under way at the set-up time it was given', async (ctx) => {
    openssl.require(ctx);
    const acceptor = new TlsAcceptor(material(certs as TestCerts), { verify: true, failIfNoPeerCert: true });
    const { port, outcomes, server } = await listen(acceptor, 300);
    const s = await stalled(port);
    cleanup.push(
      () => server.close(),
      () => s.destroy(),
    );
    await until(() => outcomes.length === 1, 2000);
    const started = Date.now();
    const err = await (outcomes[0] as Promise<TLSSocket>).catch((e: unknown) => e);
    expect((err as CarrierError).code).toBe('TIMEOUT');
    expect(Date.now() - started).toBeLessThan(1000);
    expect(acceptor.size).toBe(0);
  });
});
