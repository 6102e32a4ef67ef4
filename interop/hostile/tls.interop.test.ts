import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SETUP_TIME_MS, MAX_PENDING_HANDSHAKES, MAX_PENDING_HANDSHAKES_PER_ADDRESS } from '@courier/core';
import { hasOpenssl, makeTestCerts, requirePeer, type TestCerts } from '@courier/testkit';
import { erlPeer } from '../erlang/harness.js';
import { HTTP_GET, WS_UPGRADE, sendNameBody } from './dist-cases.js';
import { WINDOW, type HostileTarget } from './hostile-target.js';
import { exchange, hex, holdOpen, type Exchange, type ExchangeOptions, type HeldConnection } from './raw-exchange.js';
import { RECORD, capturedClientHello, frame32, tlsRawArbitrary, tlsRawNamedCases, tlsSessionArbitrary, tlsSessionNamedCases } from './tls-cases.js';
import { slowRelay, startTlsTarget, tlsClient } from './tls-target.js';
import { RETAINED_BOUND, crashLines, expectMemoryBounded, expectWindowIntact } from './window-checks.js';

/**
 * Hostile input against the echo node PROCESS on the Erlang distribution over TLS
 * (`--carrier tls`, mutual verification): on its port before TLS (other protocols, malformed
 * records and ClientHellos), clients with no, untrusted or expired certificates, clients that
 * stall mid-handshake, and inside a TLS session a trusted certificate opened, the Erlang
 * handshake cases of the TCP suite with inet_tls_dist's 4-byte lengths. Then COURIER_HOSTILE_RUNS
 * generated cases on the raw port and as many inside trusted sessions. A real erl
 * (`-proto_dist inet_tls`) keeps 100 echo round trips in flight over TLS throughout. Afterwards
 * the node is alive, the erl lost nothing, and the node's RSS grew by less than RSS_BOUND (both after full collections; it also retains less than RETAINED_BOUND more: window-checks.ts).
 */
const RUNS = Number(process.env['COURIER_HOSTILE_RUNS'] ?? 500);
/**
 * As the Erlang TCP suite's bound: the cases run one connection at a time; each TLS connection
 * holds OpenSSL's state (tens of KiB) while it lasts, so growth near 64 MiB means state kept per
 * connection — over 5 KiB for each of 20,000 connections at `npm run fuzz:hostile`. Measured: +36
 * MiB on a quiet machine, +72 MiB once in CI with the other fork busy (the node's collector lags
 * when it gets little CPU), hence 96 MiB.
 */
const RSS_BOUND = 96 * 1024 * 1024;
const openssl = requirePeer('openssl', hasOpenssl(), 'the openssl command is needed to make test certificates');
const t0 = Date.now();

/** A real ClientHello (Node's TLS client), the seed of the ClientHello cases; needs no peer. */
const hello = await capturedClientHello();

let t: HostileTarget;
let certs: TestCerts;
let trusted: (port: number) => Socket;

beforeAll(async () => {
  if (!erlPeer.available || !openssl.available) return;
  certs = makeTestCerts();
  trusted = tlsClient(certs.ca, certs.other);
  t = await startTlsTarget(certs);
}, 120_000);

afterAll(async () => {
  await t?.stop();
});

const need = (ctx: Parameters<typeof erlPeer.require>[0]): void => {
  erlPeer.require(ctx);
  openssl.require(ctx);
};
/** The acceptor's `sok` status, framed as inet_tls_dist frames it: `<<3:32, "sok">>`. */
const statusOk = frame32(Buffer.from('sok'));
const goodSendName = frame32(sendNameBody('hostile_peer@127.0.0.1'));

describe('the TLS port, before TLS: other protocols, records, ClientHellos (named cases)', () => {
  for (const c of tlsRawNamedCases(hello)) {
    it(c.name, async (ctx) => {
      need(ctx);
      const r = await t.runCase(`tls raw: ${c.name}`, 'dist', c.bytes, c.opts);
      // Whatever came back is TLS records (a ServerHello, an alert), never a plain Erlang handshake message.
      expect(r.answer.length === 0 || r.answer[0] === RECORD.ALERT || r.answer[0] === RECORD.HANDSHAKE, `the node answered without TLS: ${hex(r.answer)}`).toBe(true);
    });
  }
});

describe('TLS clients the node must refuse (each sends a good send_name)', () => {
  const refused = async (testCase: string, connect: (port: number) => Socket): Promise<Exchange> => {
    const r = await t.runCase(`tls client: ${testCase}`, 'dist', goodSendName, { connect, closeWaitMs: 3000 });
    expect(r.answer.length, `the node answered a refused client: ${hex(r.answer)}`).toBe(0);
    expect(r.closedBy, 'the node kept the connection').toBe('node');
    return r;
  };
  it('a trusted client gets sok (the control: the cases below fail for their certificate only)', async (ctx) => {
    need(ctx);
    const r = await t.runCase('tls client: trusted', 'dist', goodSendName, { connect: trusted });
    expect(r.answer.subarray(0, statusOk.length)).toEqual(statusOk);
  });
  it('a client without a certificate (TLS 1.3)', async (ctx) => {
    need(ctx);
    await refused('no certificate, TLS 1.3', tlsClient(certs.ca));
  });
  it('a client without a certificate (TLS 1.2)', async (ctx) => {
    need(ctx);
    await refused('no certificate, TLS 1.2', tlsClient(certs.ca, undefined, { maxVersion: 'TLSv1.2' }));
  });
  it('a client with a certificate from an untrusted CA', async (ctx) => {
    need(ctx);
    await refused('untrusted certificate', tlsClient(certs.ca, certs.untrusted));
  });
  it('a client with an untrusted certificate (TLS 1.2)', async (ctx) => {
    need(ctx);
    await refused('untrusted certificate, TLS 1.2', tlsClient(certs.ca, certs.untrusted, { maxVersion: 'TLSv1.2' }));
  });
  it('a client with an expired certificate from the trusted CA', async (ctx) => {
    need(ctx);
    await refused('expired certificate', tlsClient(certs.ca, certs.expired));
  });
});

describe('inside a TLS session a trusted certificate opened: the Erlang handshake (named cases)', () => {
  for (const c of tlsSessionNamedCases(hello)) {
    it(c.name, async (ctx) => {
      need(ctx);
      const r = await t.runCase(`tls session: ${c.name}`, 'dist', c.bytes, { ...c.opts, connect: trusted });
      if (c.refuse) expect(r.answer.includes(statusOk), `the node answered sok to an invalid name: ${hex(r.answer)}`).toBe(false);
    });
  }

  it('client-initiated renegotiations (TLS 1.2) in a session', async (ctx) => {
    need(ctx);
    const connect = tlsClient(certs.ca, certs.other, { maxVersion: 'TLSv1.2' });
    const renegotiate = (s: TLSSocket): Promise<void> =>
      new Promise((resolve) => {
        if (!s.renegotiate({ rejectUnauthorized: false }, () => resolve())) resolve();
      });
    const o: ExchangeOptions = {
      connect: (port) => {
        const s = connect(port) as TLSSocket;
        s.once(
          'secureConnect',
          () =>
            void (async () => {
              for (let i = 0; i < 6 && !s.destroyed; i++) await renegotiate(s);
            })(),
        );
        return s;
      },
      closeWaitMs: 3000,
    };
    await t.runCase('tls session: 6 renegotiations', 'dist', goodSendName, o);
  });
});

describe("the TLS node's EPMD: other protocols (named cases)", () => {
  it('a real TLS ClientHello', async (ctx) => {
    need(ctx);
    await t.runCase('epmd: a real ClientHello', 'epmd', hello);
  });
  it('an HTTP request (GET / HTTP/1.1)', async (ctx) => {
    need(ctx);
    await t.runCase('epmd: HTTP', 'epmd', HTTP_GET);
  });
  it('a WebSocket upgrade request', async (ctx) => {
    need(ctx);
    await t.runCase('epmd: WebSocket upgrade', 'epmd', WS_UPGRADE);
  });
});

describe(`stalled handshakes are closed at the set-up deadline (${DEFAULT_SETUP_TIME_MS} ms, net_setuptime)`, () => {
  it('a silent client, a partial record, a ClientHello then silence, a TLS session then silence or half a send_name, a TLS handshake finished late', async (ctx) => {
    need(ctx);
    const relay = await slowRelay(t.distPort, DEFAULT_SETUP_TIME_MS - 2000);
    const wait: ExchangeOptions = { keepOpen: true, closeWaitMs: DEFAULT_SETUP_TIME_MS + 8000 };
    try {
      const cases: Array<[string, Promise<Exchange>]> = [
        ['nothing sent', exchange(t.distPort, Buffer.alloc(0), wait)],
        ['a record header and one byte', exchange(t.distPort, hello.subarray(0, 6), wait)],
        ['a real ClientHello, then silence', exchange(t.distPort, hello, wait)],
        ['a TLS session, then silence', exchange(t.distPort, Buffer.alloc(0), { ...wait, connect: trusted })],
        ['a TLS session, then half a send_name', exchange(t.distPort, goodSendName.subarray(0, 9), { ...wait, connect: trusted })],
        ['a TLS handshake finished 5 s late, then silence', exchange(relay.port, Buffer.alloc(0), { ...wait, connect: trusted })],
      ];
      const late: string[] = [];
      for (const [name, p] of cases) {
        const r = await p;
        t.cases++;
        if (r.closedBy !== 'node' || r.ms < DEFAULT_SETUP_TIME_MS - 1000 || r.ms > DEFAULT_SETUP_TIME_MS + 3000)
          late.push(`${name}: ${r.closedBy === 'node' ? `closed after ${r.ms} ms` : `still open after ${r.ms} ms`}`);
      }
      expect(late, `closed outside ${DEFAULT_SETUP_TIME_MS - 1000}…${DEFAULT_SETUP_TIME_MS + 3000} ms`).toEqual([]);
      await t.checkAlive('stalled handshakes', Buffer.alloc(0));
    } finally {
      relay.close();
    }
  }, 30_000);
});

describe(`TLS handshakes under way are capped (${MAX_PENDING_HANDSHAKES_PER_ADDRESS} per address, ${MAX_PENDING_HANDSHAKES} in all)`, () => {
  it(`${MAX_PENDING_HANDSHAKES_PER_ADDRESS * 3} stalled TLS handshakes from one address: past the cap the oldest are dropped at once, and a trusted client still gets in`, async (ctx) => {
    need(ctx);
    const cap = MAX_PENDING_HANDSHAKES_PER_ADDRESS;
    const stalled: HeldConnection[] = [];
    for (let i = 0; i < cap * 3; i++) stalled.push(await holdOpen(t.distPort, hello.subarray(0, 6)));
    const dropped = (): number => stalled.filter((x) => x.ended).length;
    const until = Date.now() + 3000;
    while (dropped() < stalled.length - cap && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    try {
      expect(dropped(), 'stalled handshakes the node dropped within 3 s').toBeGreaterThanOrEqual(stalled.length - cap);
      expect(
        stalled.slice(-cap / 2).filter((x) => x.ended),
        'the newest stalled handshakes were dropped, not the oldest',
      ).toEqual([]);
      const r = await exchange(t.distPort, goodSendName, { connect: trusted });
      expect(r.answer.subarray(0, statusOk.length), 'a trusted client among stalled handshakes').toEqual(statusOk);
    } finally {
      for (const x of stalled) x.socket.destroy();
      t.cases += stalled.length;
    }
    await t.checkAlive('stalled TLS handshakes', Buffer.alloc(0));
  }, 30_000);
});

describe(`generated cases (fast-check, ${RUNS} per listener)`, () => {
  // No shrinking: every shrink step of a crash would restart the node; the failing bytes are reported whole.
  it('the TLS port, raw bytes', async (ctx) => {
    need(ctx);
    await fc.assert(
      fc.asyncProperty(tlsRawArbitrary(hello), async ({ bytes, pieces }) => {
        await t.runCase(`tls raw: generated ${hex(bytes, 64)}`, 'dist', bytes, { pieces: pieces ? 7 : undefined, closeWaitMs: 500 });
      }),
      { numRuns: RUNS, endOnFailure: true },
    );
  }, 900_000);

  it('the Erlang handshake inside a trusted TLS session', async (ctx) => {
    need(ctx);
    await fc.assert(
      fc.asyncProperty(tlsSessionArbitrary(), async ({ bytes, pieces }) => {
        await t.runCase(`tls session: generated ${hex(bytes, 64)}`, 'dist', bytes, { pieces: pieces ? 7 : undefined, closeWaitMs: 500, connect: trusted });
      }),
      { numRuns: RUNS, endOnFailure: true },
    );
  }, 900_000);
});

describe('after every case', () => {
  it('the echo node never exited', (ctx) => {
    need(ctx);
    const report = crashLines(t.crashes);
    expect(report, `${t.crashes.length} case(s) ended the echo node:\n${report.join('\n')}`).toEqual([]);
    expect(t.node.running).toBe(true);
  });

  it('a trusted TLS client still gets sok; the erl still pings and echoes over TLS', async (ctx) => {
    need(ctx);
    const r = await exchange(t.distPort, goodSendName, { connect: trusted });
    expect(r.answer.subarray(0, statusOk.length)).toEqual(statusOk);
    expect(await t.erlSays('ping', /^PING /)).toBe('PING pong');
    expect(await t.erlSays('echo', /^ECHO /)).toBe('ECHO ok');
  });

  it(`the erl kept ${WINDOW} round trips in flight over TLS throughout and lost none, in order`, async (ctx) => {
    need(ctx);
    const { sent, received } = await expectWindowIntact(t.window);
    console.log(
      `[hostile] tls: ${t.cases} cases (${RUNS} generated per listener) in ${((Date.now() - t0) / 1000).toFixed(1)} s; ` +
        `${t.crashes.length} crash(es); ${t.leftOpen} connection(s) the node had not closed after our FIN; ` +
        `erl round trips ${received}/${sent}; RSS ${(t.rssAtStart / 2 ** 20).toFixed(1)} → ${(t.node.rss() / 2 ** 20).toFixed(1)} MiB`,
    );
  }, 60_000);

  it(`it holds less than ${RETAINED_BOUND / 2 ** 20} MiB more than at the start, and its RSS grew by less than ${RSS_BOUND / 2 ** 20} MiB`, async (ctx) => {
    need(ctx);
    console.log(`[hostile] tls: ${await expectMemoryBounded(t.node, t.memoryAtStart, RSS_BOUND)}`);
  });
});
