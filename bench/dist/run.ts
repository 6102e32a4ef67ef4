/**
 * `npm run bench:dist`: TCP distribution, Erlang↔Erlang vs Courier↔Erlang vs Courier↔Courier,
 * in one run on this machine: round trips (rate, p50/p99), one-way small messages, 64 KiB and
 * 1 MiB binaries. Each pair is two OS processes (erl or node) on 127.0.0.1 with a private epmd.
 * Prints one table with ratios against Erlang↔Erlang. Then, over TCP, the flood table: 1 MiB
 * binaries to an `erl` receiver stopped (SIGSTOP) for FLOOD_STOP_MS, the sender's RSS growth and
 * the throughput once it resumes, Courier→Erlang beside Erlang→Erlang. Then, per carrier, round
 * trips again with busy polling on both sides: Courier nodes with `busyPollMicros` BUSY_POLL_MICROS,
 * erl nodes with their default scheduler busy wait (no `+sbwt none`). `--runs N` repeats it all
 * with fresh nodes and ends with each ratio run by run and its best; `--erl-buffer BYTES` gives
 * the erl nodes' distribution sockets a larger inet buffer (see ERL_BUFFER). Not a test.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Node, rpcCall, type Process } from '@courier/core';
import { tcpDist } from '@courier/transport-tcp';
import { tlsDist, type TlsDistOptions } from '@courier/transport-tls';
import { ErlFloat, Tuple, atom, encode, type Atom, type Term } from '@courier/term';
import { compileErl, findErl, hasOpenssl, inProcess, makeTestCerts, randomCookie, sslDistOptfile, startErl, uniqueName, type ErlNode } from '@courier/testkit';
import { startEpmd } from '../../interop/erlang/harness.js';
import { startCourierPeer, type CourierPeer } from '../courier-peer.js';
import { COURIER_NODE_ENV, erlVersion, runInfo } from '../run-info.js';
import { floorRoundTrips } from './floor.js';
import { tlsFloorBytesPerSec, type TlsFiles } from './tls-floor.js';
import { rtt, tput, type Rtt, type Tput } from './ops.js';

const quick = process.argv.includes('--quick');
/** `--only tcp` or `--only tls`: one table, e.g. to rerun the rows of one carrier; `--only flood`: the flood table alone. */
const onlyAt = process.argv.indexOf('--only');
const only = onlyAt >= 0 ? (process.argv[onlyAt + 1] as Proto | 'flood' | undefined) : undefined;
/** `--runs N`: the whole set N times with fresh nodes, each run's tables, then each ratio run by run and its best. */
const runsAt = process.argv.indexOf('--runs');
const RUNS = runsAt >= 0 ? Math.max(1, Number(process.argv[runsAt + 1]) || 1) : 1;
const N_RTT = quick ? 5_000 : 10_000;
const N_SMALL = quick ? 50_000 : 200_000;
const N_64K = quick ? 500 : 1_000;
const N_1M = quick ? 50 : 100;
const SMALL: Term = new Tuple([atom('msg'), 42]);
/** The flood row: N_FLOOD 1 MiB binaries, the receiver stopped for FLOOD_STOP_MS. */
const N_FLOOD = quick ? 200 : 500;
const FLOOD_STOP_MS = 3000;
const MiB = 1 << 20;
/**
 * `--erl-buffer BYTES`: every erl node's distribution sockets get inet's user-level buffer of that
 * size (`-kernel inet_dist_listen_options/inet_dist_connect_options [{buffer,N}]`). Over TLS the
 * default (1,460 bytes) makes an erl receiver read 1,460 bytes at a time, the bound of every TLS
 * binaries row (docs/performance.md, "TLS"); over TCP the distribution driver does not use it.
 */
const bufferAt = process.argv.indexOf('--erl-buffer');
const ERL_BUFFER = bufferAt >= 0 ? Number(process.argv[bufferAt + 1]) : undefined;
const ERL_BUFFER_ARGS: readonly string[] =
  ERL_BUFFER === undefined ? [] : ['-kernel', 'inet_dist_listen_options', `[{buffer,${ERL_BUFFER}}]`, '-kernel', 'inet_dist_connect_options', `[{buffer,${ERL_BUFFER}}]`];
/** `busyPollMicros` of both Courier nodes in the busy-polling round trips (runtime/busy-poll.ts). */
const BUSY_POLL_MICROS = 100;

interface Flood {
  /** The sender's peak RSS while flooding, less its RSS before, bytes. */
  readonly rssGrowth: number;
  /** Every byte sent over the time from SIGCONT to the sink's ack, bytes/s. */
  readonly bytesPerSecAfterResume: number;
}

interface Row {
  rtt: Rtt;
  small: Tput;
  k64: Tput;
  m1: Tput;
}

type Proto = 'tcp' | 'tls';

interface Rows {
  readonly erlang?: Row;
  readonly c2e?: Row;
  readonly c2c?: Row;
  /** TCP only: round trips/s of a minimal Node.js socket ping-pong between two processes (bench/dist/floor.ts). */
  readonly floor?: number;
  /** TCP only: Erlang→Erlang and Courier→Erlang floods of a stopped receiver. */
  readonly flood?: { readonly erlang: Flood; readonly c2e: Flood };
  /** Round trips with busy polling on both sides (Courier's busyPollMicros, erl's default busy wait). */
  readonly busy?: BusyRows;
  /** TLS only: bytes/s of a minimal Node.js TLS stream between two processes (bench/dist/tls-floor.ts). */
  readonly tlsFloor?: number;
}

interface BusyRows {
  readonly erlang: Rtt;
  readonly c2e: Rtt;
  readonly c2c: Rtt;
  /** TCP only: the floor program with both ends busy-polling as long (bench/dist/floor.ts). */
  readonly floor?: number;
}

async function main(): Promise<void> {
  const tools = findErl();
  if (tools === null) {
    console.log('erl not found: the distribution benchmark needs Erlang/OTP (Debian erlang-base). Skipped.');
    return;
  }
  const dir = (await compileErl([fileURLToPath(new URL('../erlang/dist_bench.erl', import.meta.url))], tools)).dir;
  const runs: Array<Partial<Record<Proto, Rows>>> = [];
  for (let run = 1; run <= RUNS; run++) {
    const results: Partial<Record<Proto, Rows>> = {};
    if (only !== 'tls') results.tcp = await runSet('tcp', dir);
    if (only !== 'tcp' && only !== 'flood') {
      if (hasOpenssl()) results.tls = await runSet('tls', dir);
      else console.log('openssl not found: TLS rows skipped (certificates are made with it).');
    }
    if (RUNS > 1) console.log(`\nRun ${run} of ${RUNS} (${new Date().toISOString().slice(11, 16)} UTC):`);
    printRun(results);
    runs.push(results);
  }
  if (RUNS > 1)
    for (const proto of ['tcp', 'tls'] as const)
      printRuns(
        proto,
        runs.map((r) => r[proto]).filter((r): r is Rows => r !== undefined),
      );
  console.log(
    `\n${runInfo({
      courier: 'a Courier node: one event loop, its own process',
      runtimes: [
        `${erlVersion(tools.erl) ?? 'Erlang/OTP (version unknown)'}, flags +sbwt none (busy-polling rows: default flags)${ERL_BUFFER === undefined ? '' : `, distribution sockets' buffer ${ERL_BUFFER} bytes (--erl-buffer)`}`,
      ],
      statistic: `each figure warm-up passes for ${WARM_UP_MS} ms, then the best of ${PASSES} passes, on both sides; the flood: the best of ${PASSES} by throughput after resume, no warm-up, on both sides`,
    })}`,
  );
}

/** One run's tables: TCP and TLS, the flood, the TLS cost per message. */
function printRun(results: Partial<Record<Proto, Rows>>): void {
  for (const [proto, rows] of Object.entries(results) as Array<[Proto, Rows]>) {
    print(proto, rows);
    if (rows.busy) printBusy(proto, rows.busy, rows.erlang);
  }
  if (results.tcp?.flood) printFlood(results.tcp.flood);
  const [tcp, tls] = [results.tcp, results.tls];
  if (tcp?.c2c && tcp.erlang && tls?.c2c && tls.erlang) {
    const perMsg = (r: Row) => 1 / r.small.msgsPerSec;
    console.log(
      `TLS cost per small message, Courier↔Courier: ${(perMsg(tls.c2c) / perMsg(tcp.c2c)).toFixed(2)}× TCP (target ≤ 1.5×); Erlang↔Erlang: ${(perMsg(tls.erlang) / perMsg(tcp.erlang)).toFixed(2)}×`,
    );
  }
}

async function runSet(proto: Proto, dir: string): Promise<Rows> {
  const epmd = await startEpmd();
  const cookie = randomCookie();
  const env = { ERL_EPMD_PORT: String(epmd.port) };
  let tls: TlsDistOptions | undefined;
  let tlsFiles: TlsFiles | undefined;
  const distArgs: string[] = [...ERL_BUFFER_ARGS];
  if (proto === 'tls') {
    const certs = makeTestCerts();
    tls = { server: { certfile: certs.node.cert, keyfile: certs.node.key, cacertfile: certs.ca }, watch: false };
    tlsFiles = { cert: certs.node.cert, key: certs.node.key, ca: certs.ca };
    const conf = sslDistOptfile(certs.dir, 'bench', { cert: certs.other.cert, key: certs.other.key, ca: certs.ca });
    distArgs.push('-proto_dist', 'inet_tls', '-ssl_dist_optfile', conf);
  }
  /** An erl node; `busyWait` false: `+sbwt none`, as in the main table. */
  const startE = async (prefix: string, evalExpr: string, busyWait = false): Promise<ErlNode> => {
    const args = [...(busyWait ? [] : ['+sbwt', 'none']), ...distArgs];
    const e = startErl({ name: uniqueName(prefix), cookie, codePath: [dir], env, eval: `${evalExpr}, io:format("UP~n").`, args });
    await e.stdout.waitFor('UP', 20_000);
    return e;
  };
  const distOpts = { cookie, epmd: { port: epmd.port, embedded: false } };
  const newDriver = (busyPollMicros = 0) =>
    new Node({ name: `${uniqueName('bdriver')}@127.0.0.1`, busyPollMicros, transports: [tls ? tlsDist({ ...distOpts, tls }) : tcpDist(distOpts)] });
  try {
    const rows = await mainSet(proto, startE, () => startDistPeer(cookie, epmd.port, tls), newDriver);
    const busy =
      only === 'flood'
        ? undefined
        : await busySet(
            proto,
            startE,
            () => startDistPeer(cookie, epmd.port, tls, BUSY_POLL_MICROS),
            () => newDriver(BUSY_POLL_MICROS),
          );
    // The TLS floor: what two Node.js processes move over Node's TLS with nothing of Courier's.
    const files = tlsFiles;
    const tlsFloor =
      files === undefined || only === 'flood'
        ? undefined
        : await best(
            () => tlsFloorBytesPerSec(files, WARM_UP_MS),
            (x) => x,
            false,
          );
    return { ...rows, busy, tlsFloor };
  } finally {
    await epmd.stop();
  }
}

type StartErl = (prefix: string, evalExpr: string, busyWait?: boolean) => Promise<ErlNode>;

/** The main table (and over TCP the floor and the flood): erl with +sbwt none, Courier without busy polling. */
async function mainSet(proto: Proto, startE: StartErl, startC: () => Promise<CourierPeer>, newDriver: () => Node): Promise<Rows> {
  const peerE = await startE('bpeer', 'dist_bench:serve()');
  const driverE = await startE('bdrv', 'ok');
  const courierPeer = await startC();
  const driver = newDriver();
  await driver.start();
  const sizes = { small: encode(SMALL).length - 1, k64: encode(Buffer.alloc(65536)).length - 1, m1: encode(Buffer.alloc(1 << 20)).length - 1 };
  try {
    return await inProcess(driver, async (self) => {
      const rows =
        only === 'flood'
          ? {}
          : {
              erlang: await erlangPair(self, atom(driverE.node as string), atom(peerE.node as string)),
              c2e: await courierPair(self, atom(peerE.node as string), sizes),
              c2c: await courierPair(self, atom(courierPeer.name), sizes),
            };
      if (proto !== 'tcp') return rows;
      // The floor: what two Node.js processes do per round trip with no Courier in between (warm-up inside, as long as the others).
      const floor =
        only === 'flood'
          ? undefined
          : await best(
              () => floorRoundTrips(N_RTT, 0, WARM_UP_MS),
              (x) => x,
              false,
            );
      const E = atom(peerE.node as string);
      // Best of PASSES by throughput after resume; the RSS growth is that pass's.
      const byResume = (f: Flood) => f.bytesPerSecAfterResume;
      const flood = {
        erlang: await best(
          () =>
            floodOnce(
              peerE.pid,
              () => rssOf(driverE.pid),
              () => rpcCall(self, atom(driverE.node as string), atom('dist_bench'), atom('flood'), [E, N_FLOOD, MiB], 600_000),
            ),
          byResume,
          false,
        ),
        c2e: await best(
          () =>
            floodOnce(
              peerE.pid,
              () => process.memoryUsage.rss(),
              () => tput(self, E, N_FLOOD, Buffer.alloc(MiB), sizes.m1),
            ),
          byResume,
          false,
        ),
      };
      return { ...rows, floor, flood };
    });
  } finally {
    courierPeer.process.kill('SIGTERM');
    await driver.stop();
    await peerE.stop();
    await driverE.stop();
  }
}

/**
 * Round trips with busy polling on both sides, fresh nodes: an erl pair with its default scheduler
 * busy wait, a Courier driver and peer with busyPollMicros BUSY_POLL_MICROS.
 */
async function busySet(proto: Proto, startE: StartErl, startC: () => Promise<CourierPeer>, newDriver: () => Node): Promise<BusyRows> {
  const peerE = await startE('bbpeer', 'dist_bench:serve()', true);
  const driverE = await startE('bbdrv', 'ok', true);
  const courierPeer = await startC();
  const driver = newDriver();
  await driver.start();
  try {
    return await inProcess(driver, async (self) => {
      const courier = async (peer: Atom) => {
        await self.node.connect(peer);
        return best(() => rtt(self, peer, N_RTT), byRate);
      };
      return {
        erlang: await erlangRtt(self, atom(driverE.node as string), atom(peerE.node as string)),
        c2e: await courier(atom(peerE.node as string)),
        c2c: await courier(atom(courierPeer.name)),
        floor:
          proto === 'tcp'
            ? await best(
                () => floorRoundTrips(N_RTT, BUSY_POLL_MICROS, WARM_UP_MS),
                (x) => x,
                false,
              )
            : undefined,
      };
    });
  } finally {
    courierPeer.process.kill('SIGTERM');
    await driver.stop();
    await peerE.stop();
    await driverE.stop();
  }
}

/** bench/dist/peer.ts in its own node process (docs/deploy.md's environment), once it printed READY. */
function startDistPeer(cookie: string, epmdPort: number, tls: TlsDistOptions | undefined, busyPollMicros = 0): Promise<CourierPeer> {
  return startCourierPeer(
    new URL('./peer.ts', import.meta.url),
    [`${uniqueName('cpeer')}@127.0.0.1`, cookie, String(epmdPort), tls ? JSON.stringify(tls) : '', String(busyPollMicros)],
    {
      env: COURIER_NODE_ENV,
    },
  );
}

const PASSES = 3;
/**
 * Warm-up passes go on until this long has passed: V8 needs about 10,000 messages of a shape
 * before its optimized code runs (a Courier sender of 64 KiB binaries still got faster over its
 * first three or four 1,000-message passes), where the BEAM's JIT compiled at load. The same rule
 * on both sides.
 */
const WARM_UP_MS = quick ? 500 : 1500;

/** Warm-up passes for WARM_UP_MS (unless `warmUp` is false), then the best of PASSES (both sides are measured the same way). */
async function best<T>(measure: () => Promise<T>, score: (t: T) => number, warmUp = true): Promise<T> {
  if (warmUp) {
    const t0 = performance.now();
    do await measure();
    while (performance.now() - t0 < WARM_UP_MS);
  }
  let top: T | undefined;
  for (let i = 0; i < PASSES; i++) {
    const r = await measure();
    if (top === undefined || score(r) > score(top)) top = r;
  }
  return top as T;
}

const byRate = (r: Rtt) => r.perSec;
const byMsgs = (t: Tput) => t.msgsPerSec;

/** dist_bench:F(Args) in the erl driver node `drv`, by rpc; its result tuple's numbers. */
async function erlCall(self: Process, drv: Atom, f: string, args: Term[]): Promise<number[]> {
  const num = (x: Term | undefined) => Number(x instanceof ErlFloat ? x.value : x);
  return ((await rpcCall(self, drv, atom('dist_bench'), atom(f), args, 600_000)) as Tuple).elements.map(num);
}

/** Erlang↔Erlang round trips, driven inside the erl driver node (the control connection stays idle). */
function erlangRtt(self: Process, drv: Atom, peer: Atom): Promise<Rtt> {
  const rttOnce = async (): Promise<Rtt> => {
    const [perSec, p50us, p99us] = (await erlCall(self, drv, 'rtt', [peer, N_RTT])) as [number, number, number];
    return { perSec, p50us, p99us };
  };
  return best(rttOnce, byRate);
}

/** Erlang↔Erlang, every row, driven inside the erl driver node by rpc. */
async function erlangPair(self: Process, drv: Atom, peer: Atom): Promise<Row> {
  const tputOnce = (n: number, msg: Term) => async (): Promise<Tput> => {
    const [msgsPerSec, bytesPerSec] = (await erlCall(self, drv, 'tput', [peer, n, msg])) as [number, number];
    return { msgsPerSec, bytesPerSec };
  };
  return {
    rtt: await erlangRtt(self, drv, peer),
    small: await best(tputOnce(N_SMALL, SMALL), byMsgs),
    k64: await best(tputOnce(N_64K, Buffer.alloc(65536)), byMsgs),
    m1: await best(tputOnce(N_1M, Buffer.alloc(1 << 20)), byMsgs),
  };
}

async function courierPair(self: Process, peer: Atom, sizes: { small: number; k64: number; m1: number }): Promise<Row> {
  await self.node.connect(peer);
  return {
    rtt: await best(() => rtt(self, peer, N_RTT), byRate),
    small: await best(() => tput(self, peer, N_SMALL, SMALL, sizes.small), byMsgs),
    k64: await best(() => tput(self, peer, N_64K, Buffer.alloc(65536), sizes.k64), byMsgs),
    m1: await best(() => tput(self, peer, N_1M, Buffer.alloc(1 << 20), sizes.m1), byMsgs),
  };
}

/** Resident set size of process `pid`, bytes (Linux /proc). */
function rssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

/**
 * Stop the receiver `stopPid`, start `send` (which returns once the receiver acknowledged every
 * message), resume the receiver after FLOOD_STOP_MS, and sample the sender's RSS throughout.
 */
async function floodOnce(stopPid: number, rss: () => number, send: () => Promise<unknown>): Promise<Flood> {
  const rss0 = rss();
  let peak = rss0;
  const sampler = setInterval(() => (peak = Math.max(peak, rss())), 20);
  process.kill(stopPid, 'SIGSTOP');
  let resumedAt = 0;
  try {
    const sending = send();
    await new Promise((r) => setTimeout(r, FLOOD_STOP_MS));
    process.kill(stopPid, 'SIGCONT');
    resumedAt = performance.now();
    await sending;
  } finally {
    process.kill(stopPid, 'SIGCONT');
    clearInterval(sampler);
  }
  const secs = (performance.now() - resumedAt) / 1000;
  return { rssGrowth: Math.max(0, peak - rss0), bytesPerSecAfterResume: (N_FLOOD * MiB) / secs };
}

function printFlood({ erlang: e, c2e }: { readonly erlang: Flood; readonly c2e: Flood }): void {
  const mb = (x: number) => (x / MiB).toFixed(1);
  const rows = [
    ['sender RSS growth (MiB)', mb(e.rssGrowth), mb(c2e.rssGrowth), 'target ≤ busy limit (1 MiB) + 64 MiB'],
    [
      'MB/s after resume',
      (e.bytesPerSecAfterResume / 1e6).toFixed(0),
      (c2e.bytesPerSecAfterResume / 1e6).toFixed(0),
      `${(c2e.bytesPerSecAfterResume / e.bytesPerSecAfterResume).toFixed(2)}× Erlang (target ≥ 0.8×)`,
    ],
  ];
  console.log(
    `\nFlood: ${N_FLOOD} × 1 MiB binaries to an erl receiver stopped (SIGSTOP) for ${FLOOD_STOP_MS} ms, then resumed; default busy limits on both senders; best of ${PASSES} by throughput after resume (that pass's RSS growth), on both sides`,
  );
  printTable(['TCP flood, receiver stopped', 'Erlang→Erlang', 'Courier→Erlang', ''], rows, [0, 3]);
}

/** A markdown table: columns in `left` left-aligned, the others right-aligned (numbers). */
function printTable(head: readonly string[], rows: readonly (readonly string[])[], left: readonly number[] = [0]): void {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  const line = (cells: readonly string[]) => `| ${cells.map((c, i) => (left.includes(i) ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number))).join(' | ')} |`;
  console.log(line(head));
  console.log(`|${widths.map((w, i) => (left.includes(i) ? '-'.repeat(w + 2) : '-'.repeat(w + 1) + ':')).join('|')}|`);
  for (const r of rows) console.log(line(r));
}

const fmt = (x: number, d = 0) => x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
const ratio = (a: number, b: number, lowerBetter = false) => `${(lowerBetter ? b / a : a / b).toFixed(2)}×`;

/**
 * The Erlang↔Erlang round trips the busy-polling rows are divided by: the faster of the run's two
 * erl pairs, with its busy wait or without (+sbwt none, the main table), so that neither setting
 * of Erlang's flatters Courier.
 */
function erlangBest(b: BusyRows, plain: Row | undefined): Rtt {
  return plain !== undefined && plain.rtt.perSec > b.erlang.perSec ? plain.rtt : b.erlang;
}

/** The busy-polling round trips of one run, against the faster Erlang↔Erlang pair of the same run. */
function printBusy(proto: Proto, b: BusyRows, plain: Row | undefined): void {
  const e = erlangBest(b, plain);
  const rows = (
    [
      ['round trips/s', (r: Rtt) => r.perSec, 0, false],
      ['round trip p50 (µs)', (r: Rtt) => r.p50us, 1, true],
      ['round trip p99 (µs)', (r: Rtt) => r.p99us, 1, true],
    ] as const
  ).map(([name, get, d, lower]) => [
    name,
    fmt(get(b.erlang), d),
    plain ? fmt(get(plain.rtt), d) : '',
    fmt(get(b.c2e), d),
    ratio(get(b.c2e), get(e), lower),
    fmt(get(b.c2c), d),
    ratio(get(b.c2c), get(e), lower),
  ]);
  const P = proto.toUpperCase();
  console.log(
    `\n${P} round trips with busy polling on both sides: Courier nodes with busyPollMicros ${BUSY_POLL_MICROS} (runtime/busy-poll.ts), erl with its default scheduler busy wait; ` +
      `fresh nodes, best of ${PASSES} after ${WARM_UP_MS} ms of warm-up passes; ratios against the faster Erlang↔Erlang pair of this run (${e === b.erlang ? 'busy wait' : '+sbwt none'})`,
  );
  printTable([`${P}, busy polling`, 'Erlang↔Erlang, busy wait', 'Erlang↔Erlang, +sbwt none', 'Courier↔Erlang', 'ratio', 'Courier↔Courier', 'ratio'], rows);
  if (b.floor !== undefined)
    console.log(
      `Node.js socket ping-pong with the same busy polling (bench/dist/floor.ts, ${BUSY_POLL_MICROS} µs at both ends): ${fmt(b.floor)} round trips/s = ${ratio(b.floor, e.perSec)} Erlang↔Erlang; ` +
        `Courier↔Erlang at ${ratio(b.c2e.perSec, b.floor)} and Courier↔Courier at ${ratio(b.c2c.perSec, b.floor)} it`,
    );
}

function print(proto: Proto, { erlang: e, c2e, c2c, floor, tlsFloor }: Rows): void {
  if (e === undefined || c2e === undefined || c2c === undefined) return;
  const f = fmt;
  const rows: string[][] = [
    ['round trips/s', f(e.rtt.perSec), f(c2e.rtt.perSec), ratio(c2e.rtt.perSec, e.rtt.perSec), f(c2c.rtt.perSec), ratio(c2c.rtt.perSec, e.rtt.perSec)],
    ['round trip p50 (µs)', f(e.rtt.p50us, 1), f(c2e.rtt.p50us, 1), ratio(c2e.rtt.p50us, e.rtt.p50us, true), f(c2c.rtt.p50us, 1), ratio(c2c.rtt.p50us, e.rtt.p50us, true)],
    ['round trip p99 (µs)', f(e.rtt.p99us, 1), f(c2e.rtt.p99us, 1), ratio(c2e.rtt.p99us, e.rtt.p99us, true), f(c2c.rtt.p99us, 1), ratio(c2c.rtt.p99us, e.rtt.p99us, true)],
    [
      'small msgs/s (one-way)',
      f(e.small.msgsPerSec),
      f(c2e.small.msgsPerSec),
      ratio(c2e.small.msgsPerSec, e.small.msgsPerSec),
      f(c2c.small.msgsPerSec),
      ratio(c2c.small.msgsPerSec, e.small.msgsPerSec),
    ],
    [
      '64 KiB binaries MB/s',
      f(e.k64.bytesPerSec / 1e6),
      f(c2e.k64.bytesPerSec / 1e6),
      ratio(c2e.k64.bytesPerSec, e.k64.bytesPerSec),
      f(c2c.k64.bytesPerSec / 1e6),
      ratio(c2c.k64.bytesPerSec, e.k64.bytesPerSec),
    ],
    [
      '1 MiB binaries MB/s',
      f(e.m1.bytesPerSec / 1e6),
      f(c2e.m1.bytesPerSec / 1e6),
      ratio(c2e.m1.bytesPerSec, e.m1.bytesPerSec),
      f(c2c.m1.bytesPerSec / 1e6),
      ratio(c2c.m1.bytesPerSec, e.m1.bytesPerSec),
    ],
  ];
  console.log(
    `\n${proto.toUpperCase()}: best of ${PASSES} after ${WARM_UP_MS} ms of warm-up passes, on both sides; ratios vs Erlang↔Erlang (higher is better; latency ratios are inverted so higher is better too)`,
  );
  printTable([`${proto.toUpperCase()} distribution`, 'Erlang↔Erlang', 'Courier↔Erlang', 'ratio', 'Courier↔Courier', 'ratio'], rows);
  if (floor !== undefined) {
    console.log(
      `Node.js socket ping-pong (the floor: bench/dist/floor.ts, two node processes, ${FLOOR_NOTE}): ${f(floor)} round trips/s = ${ratio(floor, e.rtt.perSec)} Erlang↔Erlang; ` +
        `Courier↔Erlang at ${ratio(c2e.rtt.perSec, floor)} and Courier↔Courier at ${ratio(c2c.rtt.perSec, floor)} the floor`,
    );
  }
  if (tlsFloor !== undefined) {
    console.log(
      `Node.js TLS stream (the floor: bench/dist/tls-floor.ts, two node processes, 1 MiB writes, no framing, no codec): ${f(tlsFloor / 1e6)} MB/s = ${ratio(tlsFloor, e.m1.bytesPerSec)} Erlang↔Erlang's 1 MiB row; ` +
        `Courier↔Erlang at ${ratio(c2e.m1.bytesPerSec, tlsFloor)} and Courier↔Courier at ${ratio(c2c.m1.bytesPerSec, tlsFloor)} it (1 MiB binaries)`,
    );
  }
  console.log(
    `targets (issue 16): round trips Courier↔Courier ≥ 1.0× and Courier↔Erlang ≥ 0.95× — or ≥ 0.9× the floor where the floor itself is below Erlang↔Erlang; ` +
      `64 KiB and 1 MiB binaries ≥ 1.0× both ways; small messages ≥ their previous ratios. N: rtt ${N_RTT}, small ${N_SMALL}, 64 KiB ${N_64K}, 1 MiB ${N_1M}; each: warm-up passes for ${WARM_UP_MS} ms, then the best of ${PASSES}`,
  );
}

/**
 * The ratios of `runs` side by side, each against the Erlang↔Erlang figure of its own run (never
 * across runs), and the best of them: the issue's "best of three, same session".
 */
function printRuns(proto: Proto, runs: readonly Rows[]): void {
  const full = runs.filter((r): r is Required<Pick<Rows, 'erlang' | 'c2e' | 'c2c'>> & Rows => r.erlang !== undefined && r.c2e !== undefined && r.c2c !== undefined);
  if (full.length < 2) return;
  const figures: Array<[string, (r: Row) => number, boolean]> = [
    ['round trips/s', (r) => r.rtt.perSec, false],
    ['round trip p50 (µs)', (r) => r.rtt.p50us, true],
    ['round trip p99 (µs)', (r) => r.rtt.p99us, true],
    ['small msgs/s (one-way)', (r) => r.small.msgsPerSec, false],
    ['64 KiB binaries MB/s', (r) => r.k64.bytesPerSec, false],
    ['1 MiB binaries MB/s', (r) => r.m1.bytesPerSec, false],
  ];
  const ratioOf = (x: number, e: number, lowerBetter: boolean) => (lowerBetter ? e / x : x / e);
  const cells = (pair: 'c2e' | 'c2c', get: (r: Row) => number, lowerBetter: boolean): [string, string] => {
    const rs = full.map((r) => ratioOf(get(r[pair]), get(r.erlang), lowerBetter));
    return [rs.map((x) => x.toFixed(2)).join(' '), `${Math.max(...rs).toFixed(2)}×`];
  };
  const rows = figures.map(([name, get, lowerBetter]) => [name, ...cells('c2e', get, lowerBetter), ...cells('c2c', get, lowerBetter)]);
  const floors = full.map((r) => (r.floor === undefined ? undefined : r.floor / r.erlang.rtt.perSec));
  if (floors.every((x) => x !== undefined)) {
    const vsFloor = (pair: 'c2e' | 'c2c') => full.map((r) => r[pair].rtt.perSec / (r.floor as number));
    rows.push(['floor: ping-pong/Erlang', floors.map((x) => x.toFixed(2)).join(' '), '', '', '']);
    rows.push([
      'round trips / floor',
      vsFloor('c2e')
        .map((x) => x.toFixed(2))
        .join(' '),
      `${Math.max(...vsFloor('c2e')).toFixed(2)}×`,
      vsFloor('c2c')
        .map((x) => x.toFixed(2))
        .join(' '),
      `${Math.max(...vsFloor('c2c')).toFixed(2)}×`,
    ]);
  }
  if (full.every((r) => r.busy !== undefined)) {
    const busyCells = (pair: 'c2e' | 'c2c'): [string, string] => {
      const rs = full.map((r) => (r.busy as BusyRows)[pair].perSec / erlangBest(r.busy as BusyRows, r.erlang).perSec);
      return [rs.map((x) => x.toFixed(2)).join(' '), `${Math.max(...rs).toFixed(2)}×`];
    };
    rows.push([`round trips/s, busy polling (vs the faster Erlang↔Erlang)`, ...busyCells('c2e'), ...busyCells('c2c')]);
  }
  console.log(`\n${proto.toUpperCase()} over ${full.length} runs: each ratio against Erlang↔Erlang in its own run (higher is better), then the best of the runs`);
  printTable([`${proto.toUpperCase()}, ${full.length} runs`, 'Courier↔Erlang, run by run', 'best', 'Courier↔Courier, run by run', 'best'], rows);
}

const FLOOR_NOTE = '80-byte frames with a 4-byte length, no codec, no runtime';

await main();
process.exit(0);
