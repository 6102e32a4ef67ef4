import fc from 'fast-check';
import { connect } from 'node:net';
import { AEMP_SETUP_TIME_MS } from '@courier/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aempArbitrary, aempNamedCases, authedCases } from './aemp-cases.js';
import { AempTarget } from './aemp-target.js';
import { WINDOW } from './hostile-target.js';
import { hex } from './raw-exchange.js';
import { RETAINED_BOUND, crashLines, expectMemoryBounded, expectWindowIntact } from './window-checks.js';

/**
 * Hostile input against the echo node PROCESS on the AEMP carrier, before and just after
 * authentication: named cases, then COURIER_HOSTILE_RUNS generated cases (fast-check; `npm run
 * fuzz:hostile` runs 10,000). A Courier AEMP node in another process keeps 100 echo round trips
 * in flight throughout. Afterwards the node is alive and greets, the peer lost nothing, and the
 * node's RSS grew by less than RSS_BOUND (both after full collections; it also retains less than RETAINED_BOUND more: window-checks.ts). Needs no external peer: nothing is skipped.
 *
 * Slow peers: before the cases start, three connections are opened and left waiting (silent; a
 * partial greeting line; a whole greeting and nonce and no auth line). The node must close each at
 * its AEMP set-up deadline (AEMP_SETUP_TIME_MS, 30 s: Perl's monitor_timeout), checked at the
 * end, while the cases run meanwhile.
 */
const RUNS = Number(process.env['COURIER_HOSTILE_RUNS'] ?? 500);
/**
 * The RSS growth allowed over the whole run. Cases run one connection at a time and a handshake
 * line is at most 4 KiB, so growth near the bound means state kept per case (sockets, buffers,
 * atoms from node ids): over 6 KiB for each of 10,000 cases. As the Erlang TCP suite's bound.
 */
const RSS_BOUND = 64 * 1024 * 1024;
const t0 = Date.now();

let t: AempTarget;

/** A connection opened before the cases and left waiting: when it opened, and when the node closed it. */
interface Waiting {
  readonly what: string;
  readonly openedAt: number;
  closedAt?: number;
}
const waiting: Waiting[] = [];

function leaveWaiting(what: string, bytes: string): void {
  const w: Waiting = { what, openedAt: Date.now() };
  waiting.push(w);
  const s = connect({ port: t.port, host: '127.0.0.1' }, () => {
    if (bytes !== '') s.write(bytes);
  });
  s.on('data', () => undefined);
  s.on('error', () => undefined);
  s.on('close', () => (w.closedAt = Date.now()));
}

beforeAll(async () => {
  t = await AempTarget.start();
  leaveWaiting('a silent connection', '');
  leaveWaiting('a greeting line cut short', 'aemp;1;slow-peer;hmac_sha3_512;');
  leaveWaiting('a greeting and nonce, then no auth line', 'aemp;1;slow-peer-2;hmac_sha3_512;json\nbm9uY2U=\n');
}, 90_000);

afterAll(async () => {
  await t?.stop();
});

describe('AEMP listener, greeting and auth lines (named cases)', () => {
  for (const c of aempNamedCases()) {
    it(c.name, async () => {
      const r = await t.runCase(`aemp: ${c.name}`, c.bytes, c.opts);
      // Nothing in these cases authenticates: the node must never send a packet back.
      const lines = r.answer.toString('latin1').split('\n');
      expect(lines.length, `the node sent more than its greeting and an auth line: ${hex(r.answer)}`).toBeLessThanOrEqual(4);
      if (c.opts?.keepOpen === true) expect(r.closedBy, 'the node left the connection open').toBe('node');
    });
  }
});

describe('AEMP listener, framing garbage after a correct auth (named cases)', () => {
  for (const c of authedCases(() => t.secret)) {
    it(c.name, async () => {
      const r = await t.runCase(`aemp: ${c.name}`, c.bytes, c.opts);
      expect(r.answer.toString('latin1'), 'the node did not accept our auth line').toMatch(/\nhmac_sha3_512;[0-9a-f]{128};(json|cbor)\n/);
      expect(r.closedBy, 'the node kept a connection that sent garbage').toBe('node');
    });
  }
});

describe(`generated cases (fast-check, ${RUNS})`, () => {
  // No shrinking: every shrink step of a crash would restart the node; the failing bytes are reported whole.
  it('the AEMP listener', async () => {
    await fc.assert(
      fc.asyncProperty(aempArbitrary(), async ({ bytes, pieces }) => {
        await t.runCase(`aemp: generated ${hex(bytes, 64)}`, bytes, { pieces: pieces ? 7 : undefined, closeWaitMs: 500 });
      }),
      { numRuns: RUNS, endOnFailure: true },
    );
  }, 600_000);
});

describe('slow peers', () => {
  it(
    `connections left waiting in the handshake are closed at the set-up deadline (${AEMP_SETUP_TIME_MS / 1000} s)`,
    async () => {
      const deadline = waiting.reduce((m, w) => Math.max(m, w.openedAt), 0) + AEMP_SETUP_TIME_MS + 5000;
      while (waiting.some((w) => w.closedAt === undefined) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
      for (const w of waiting) {
        expect(w.closedAt, `${w.what}: still open ${AEMP_SETUP_TIME_MS + 5000} ms after it opened`).toBeDefined();
        const held = (w.closedAt as number) - w.openedAt;
        expect(held, `${w.what}: closed after ${held} ms`).toBeGreaterThanOrEqual(AEMP_SETUP_TIME_MS - 1000);
        expect(held, `${w.what}: closed after ${held} ms`).toBeLessThan(AEMP_SETUP_TIME_MS + 5000);
      }
    },
    AEMP_SETUP_TIME_MS + 10_000,
  );
});

describe('after every case', () => {
  it('the echo node never exited and still greets', async () => {
    const report = crashLines(t.crashes);
    expect(report, `${t.crashes.length} case(s) ended the echo node:\n${report.join('\n')}`).toEqual([]);
    expect(t.node.running).toBe(true);
    expect(await t.greets()).toBe(true);
  });

  it('it still answers an echo round trip from the AEMP peer', async () => {
    expect(await t.peer.say('echo', /^ECHO /)).toBe('ECHO ok');
  });

  it(`the AEMP peer kept ${WINDOW} round trips in flight throughout and lost none, in order`, async () => {
    const { sent, received } = await expectWindowIntact(t.window);
    console.log(
      `[hostile] aemp: ${t.cases} cases (${RUNS} generated) in ${((Date.now() - t0) / 1000).toFixed(1)} s; ` +
        `${t.crashes.length} crash(es); ${t.leftOpen} connection(s) the node had not closed after our FIN; ` +
        `peer round trips ${received}/${sent}; RSS ${(t.rssAtStart / 2 ** 20).toFixed(1)} → ${(t.node.rss() / 2 ** 20).toFixed(1)} MiB`,
    );
  }, 60_000);

  it(`it holds less than ${RETAINED_BOUND / 2 ** 20} MiB more than at the start, and its RSS grew by less than ${RSS_BOUND / 2 ** 20} MiB`, async () => {
    console.log(`[hostile] aemp: ${await expectMemoryBounded(t.node, t.memoryAtStart, RSS_BOUND)}`);
  });
});
