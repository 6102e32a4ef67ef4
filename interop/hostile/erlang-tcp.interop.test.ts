import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { erlPeer } from '../erlang/harness.js';
import { distArbitrary, distNamedCases } from './dist-cases.js';
import { epmdArbitrary, epmdNamedCases } from './epmd-cases.js';
import { HostileTarget, WINDOW } from './hostile-target.js';
import { hex } from './raw-exchange.js';
import { RETAINED_BOUND, crashLines, expectMemoryBounded, expectWindowIntact } from './window-checks.js';

/**
 * Hostile input before authentication against the echo node PROCESS on the Erlang TCP carrier:
 * its distribution port and its embedded EPMD (on a private ERL_EPMD_PORT). Named cases, then
 * COURIER_HOSTILE_RUNS generated cases per listener (fast-check; `npm run fuzz:hostile` runs
 * 10,000). A real erl keeps 100 echo round trips in flight throughout. Afterwards the node is
 * alive, answers, the erl lost nothing, and its RSS grew by less than RSS_BOUND (both after full collections; it also retains less than RETAINED_BOUND more: window-checks.ts).
 *
 * A case that ends the node fails with its bytes and the node's stderr; the node and the erl are
 * then started afresh so the cases after it still run, and the checks at the end fail.
 */
const RUNS = Number(process.env['COURIER_HOSTILE_RUNS'] ?? 500);
/**
 * The RSS growth allowed over the whole run (measured after full collections at both ends): the
 * figure the issue gives for the flood tests. The cases run one connection at a time and each may
 * legitimately hold at most a 64 KiB handshake message (1 KiB for EPMD) while it lasts. Growth
 * reached +70 and +106 MiB in CI: each closed connection stayed pinned, socket and 64 KiB read
 * buffer, by its 5 s linger timer (fixed; RETAINED_BOUND now catches that kind of thing).
 * Measured since: +19 to +44 MiB (what V8 and malloc keep for reuse; the most with the other test
 * fork busy).
 */
const RSS_BOUND = 96 * 1024 * 1024;
const t0 = Date.now();

let t: HostileTarget;

beforeAll(async () => {
  if (!erlPeer.available) return;
  t = await HostileTarget.start();
}, 90_000);

afterAll(async () => {
  await t?.stop();
});

const statusOk = Buffer.from([0, 3, 0x73, 0x6f, 0x6b]); // <<3:16, "sok">>

describe('Erlang distribution port, before authentication (named cases)', () => {
  for (const c of distNamedCases()) {
    it(c.name, async (ctx) => {
      erlPeer.require(ctx);
      const r = await t.runCase(`dist: ${c.name}`, 'dist', c.bytes, c.opts);
      if (c.refuse) expect(r.answer.includes(statusOk), `the node answered sok to an invalid name: ${hex(r.answer)}`).toBe(false);
    });
  }
});

describe('EPMD, embedded in the echo node (named cases)', () => {
  for (const c of epmdNamedCases()) {
    it(c.name, async (ctx) => {
      erlPeer.require(ctx);
      await t.runCase(`epmd: ${c.name}`, 'epmd', c.bytes, c.opts);
    });
  }
});

describe(`generated cases (fast-check, ${RUNS} per listener)`, () => {
  const property = (port: 'dist' | 'epmd', arb: fc.Arbitrary<{ bytes: Buffer; pieces: boolean }>) =>
    fc.asyncProperty(arb, async ({ bytes, pieces }) => {
      await t.runCase(`${port}: generated ${hex(bytes, 64)}`, port, bytes, { pieces: pieces ? 7 : undefined, closeWaitMs: 500 });
    });
  // No shrinking: every shrink step of a crash would restart the node; the failing bytes are reported whole.
  it('the distribution port', async (ctx) => {
    erlPeer.require(ctx);
    await fc.assert(property('dist', distArbitrary()), { numRuns: RUNS, endOnFailure: true });
  }, 600_000);

  it('EPMD', async (ctx) => {
    erlPeer.require(ctx);
    await fc.assert(property('epmd', epmdArbitrary()), { numRuns: RUNS, endOnFailure: true });
  }, 600_000);
});

describe('after every case', () => {
  it('the echo node never exited', (ctx) => {
    erlPeer.require(ctx);
    const report = crashLines(t.crashes);
    expect(report, `${t.crashes.length} case(s) ended the echo node:\n${report.join('\n')}`).toEqual([]);
    expect(t.node.running).toBe(true);
  });

  it('it still answers the erl: net_adm:ping and an echo round trip', async (ctx) => {
    erlPeer.require(ctx);
    expect(await t.erlSays('ping', /^PING /)).toBe('PING pong');
    expect(await t.erlSays('echo', /^ECHO /)).toBe('ECHO ok');
  });

  it(`the erl kept ${WINDOW} round trips in flight throughout and lost none, in order`, async (ctx) => {
    erlPeer.require(ctx);
    const { sent, received } = await expectWindowIntact(t.window);
    console.log(
      `[hostile] erlang-tcp: ${t.cases} cases (${RUNS} generated per listener) in ${((Date.now() - t0) / 1000).toFixed(1)} s; ` +
        `${t.crashes.length} crash(es); ${t.leftOpen} connection(s) the node had not closed after our FIN; ` +
        `erl round trips ${received}/${sent}; RSS ${(t.rssAtStart / 2 ** 20).toFixed(1)} → ${(t.node.rss() / 2 ** 20).toFixed(1)} MiB`,
    );
  }, 60_000);

  it(`it holds less than ${RETAINED_BOUND / 2 ** 20} MiB more than at the start, and its RSS grew by less than ${RSS_BOUND / 2 ** 20} MiB`, async (ctx) => {
    erlPeer.require(ctx);
    console.log(`[hostile] erlang-tcp: ${await expectMemoryBounded(t.node, t.memoryAtStart, RSS_BOUND)}`);
  });
});
