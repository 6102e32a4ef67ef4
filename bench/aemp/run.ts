/**
 * `npm run bench:aemp`: Courier↔Courier over AEMP (AnyEvent::MP 2.x protocol), json and cbor
 * framing: sequential round trips/s and pipelined messages/s (WINDOW in flight, each echoed back).
 * Each pair is two OS processes on 127.0.0.1: the echo node (examples/echo-node, `--carrier
 * aemp`) and this process, which sends `[replyPortId, n]` to `<echo>#echo`. A warm-up, then PASSES
 * passes of SECONDS s each; each figure is their median. Not a test. `--quick` runs shorter.
 *
 * Perl↔Perl: when `perl -MAnyEvent::MP -e1` succeeds here, the same measurements run live in the
 * same run (bench/aemp/perl-echo.pl, perl-client.pl: same message shape, window, time and
 * statistic) and the table prints Courier / Perl. Otherwise the Perl figures of
 * ../shared/specs/aemp.md §10, taken on another machine, are printed as such and divided by nothing.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Node, type Process } from '@courier/core';
import { freePort, LineReader } from '@courier/testkit';
import { aemp, portIdOfPid, type Framing } from '@courier/transport-aemp';
import { median } from '../median.js';
import { COURIER_NODE_FLAGS, runInfo } from '../run-info.js';

const quick = process.argv.includes('--quick');
const SECONDS = quick ? 1.5 : 4;
const PASSES = 3;
const WINDOW = 2_000;
const SECRET = 'bench-secret';
/**
 * Perl client → Perl echo (AnyEvent::MP 2.02), the same shape as here ([reply, n], 4 s, window
 * 2,000), measured 2026-12-05 on another 2-vCPU VM (shared/specs/aemp.md §10). Not a denominator.
 */
const PERL_ELSEWHERE: Record<Framing, Rates> = {
  json: { rtt: 12_905, pipelined: 165_175 },
  cbor: { rtt: 13_399, pipelined: 168_816 },
};
const PERL_ELSEWHERE_WHERE = '2026-12-05, another 2-vCPU VM, one 4 s run each (shared/specs/aemp.md §10)';

interface Rates {
  readonly rtt: number;
  readonly pipelined: number;
}

async function startEcho(framing: Framing, port: number): Promise<ChildProcess> {
  const main = fileURLToPath(new URL('../../examples/echo-node/main.ts', import.meta.url));
  const args = [
    ...COURIER_NODE_FLAGS,
    '--conditions=source',
    '--import',
    'tsx',
    main,
    '--carrier',
    'aemp',
    '--aemp-nodeid',
    'bench-echo',
    '--aemp-bind',
    `127.0.0.1:${port}`,
    '--aemp-secret',
    SECRET,
    '--aemp-framing',
    framing,
    '--log-level',
    'warn',
  ];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
      if (out.includes('READY')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`the echo node exited (${code}) before READY`)));
  });
  return child;
}

/** Run `body` in a process of `node` and wait for its result. */
function inProcess<T>(node: Node, body: (self: Process) => Promise<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    node.spawn(async (self) => {
      try {
        resolve(await body(self));
      } catch (e) {
        reject(e instanceof Error ? e : new Error('the benchmark process failed', { cause: e }));
      }
    });
  });
}

/** Receive without a per-message timer (that would be measured too); a watchdog ends a stalled run. */
function watchdog(seconds: number): () => void {
  const t = setTimeout(
    () => {
      console.error(`no progress within ${seconds + 10} s`);
      process.exit(1);
    },
    (seconds + 10) * 1000,
  );
  return () => clearTimeout(t);
}

async function rtt(self: Process, echo: string, seconds: number): Promise<number> {
  const me = portIdOfPid(self.pid);
  const done = watchdog(seconds);
  let n = 0;
  const end = performance.now() + seconds * 1000;
  const start = performance.now();
  while (performance.now() < end) {
    for (let k = 0; k < 100; k++) {
      self.send(echo, [me, n++]);
      await self.receive();
    }
  }
  done();
  return n / ((performance.now() - start) / 1000);
}

async function pipelined(self: Process, echo: string, seconds: number): Promise<number> {
  const me = portIdOfPid(self.pid);
  const done = watchdog(seconds);
  let sent = 0;
  let got = 0;
  const start = performance.now();
  const end = start + seconds * 1000;
  while (sent < WINDOW) self.send(echo, [me, sent++]);
  while (performance.now() < end) {
    await self.receive();
    got++;
    self.send(echo, [me, sent++]);
  }
  const elapsed = (performance.now() - start) / 1000;
  const counted = got; // the answers received within the time; the rest are drained, not counted
  while (got < sent) {
    await self.receive();
    got++;
  }
  done();
  return counted / elapsed;
}

/** Courier↔Courier: a warm-up, then PASSES × (round trips, pipelined); the medians. */
async function measureCourier(framing: Framing): Promise<Rates> {
  const port = await freePort();
  const child = await startEcho(framing, port);
  const node = new Node({ name: `bench-client-${framing}`, transports: [aemp({ secret: SECRET, framings: [framing], peers: { 'bench-echo': [`127.0.0.1:${port}`] } })] });
  await node.start();
  try {
    const echo = 'bench-echo#echo';
    await inProcess(node, (self) => rtt(self, echo, 0.3)); // warm-up (connection, JIT)
    const rtts: number[] = [];
    const pipes: number[] = [];
    for (let i = 0; i < PASSES; i++) {
      rtts.push(await inProcess(node, (self) => rtt(self, echo, SECONDS)));
      pipes.push(await inProcess(node, (self) => pipelined(self, echo, SECONDS)));
    }
    return { rtt: median(rtts), pipelined: median(pipes) };
  } finally {
    await node.stop();
    child.kill('SIGTERM');
  }
}

const PERL_DIR = fileURLToPath(new URL('./', import.meta.url));

/** Is AnyEvent::MP installed for the `perl` on PATH? Its version, or undefined. */
function perlAnyEventMp(): string | undefined {
  const r = spawnSync('perl', ['-MAnyEvent::MP', '-e', 'print "perl $^V, AnyEvent::MP $AnyEvent::MP::VERSION"'], { encoding: 'utf8', timeout: 30_000 });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

/** Perl↔Perl, live: the Perl echo node and the Perl client, the same passes and statistic as measureCourier. */
async function measurePerl(framing: Framing): Promise<Rates> {
  const port = await freePort();
  const seed = `127.0.0.1:${port}`;
  const echo = spawn('perl', [`${PERL_DIR}perl-echo.pl`, 'bench-perl-echo', seed, SECRET, framing], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    await new LineReader(echo.stdout, () => 'the Perl echo node').waitFor(/^READY/, 30_000);
    const client = spawn('perl', [`${PERL_DIR}perl-client.pl`, seed, 'bench-perl-echo', SECRET, framing, String(SECONDS), String(WINDOW), String(PASSES)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const lines = new LineReader(client.stdout, () => 'the Perl client');
    const got: Record<keyof Rates, number[]> = { rtt: [], pipelined: [] };
    for (;;) {
      const line = await lines.waitFor(/^(RESULT|DONE)/, (SECONDS * 2 + 30) * 1000);
      if (line === 'DONE') break;
      const [, kind, value] = line.split(' ') as [string, keyof Rates, string];
      got[kind].push(Number(value));
    }
    return { rtt: median(got.rtt), pipelined: median(got.pipelined) };
  } finally {
    echo.kill('SIGTERM');
  }
}

const fmt = (x: number): string => `${Math.round(x).toLocaleString('en-US')}/s`;
const ratio = (c: Rates, p: Rates): string => `${(c.rtt / p.rtt).toFixed(2)}× / ${(c.pipelined / p.pipelined).toFixed(2)}×`;

async function main(): Promise<void> {
  const perl = perlAnyEventMp();
  const rows: string[][] = [['pair', 'framing', 'round trips', 'pipelined msgs', perl ? 'Courier / Perl (rt / pipelined)' : 'reference']];
  for (const framing of ['json', 'cbor'] as const) {
    const c = await measureCourier(framing);
    if (perl) {
      const p = await measurePerl(framing);
      rows.push(['Courier↔Courier', framing, fmt(c.rtt), fmt(c.pipelined), ratio(c, p)]);
      rows.push(['Perl↔Perl (this run)', framing, fmt(p.rtt), fmt(p.pipelined), '']);
    } else {
      const p = PERL_ELSEWHERE[framing];
      rows.push(['Courier↔Courier', framing, fmt(c.rtt), fmt(c.pipelined), '']);
      rows.push(['Perl↔Perl', framing, 'not run here', 'not run here', `figure from another machine: ${fmt(p.rtt)} / ${fmt(p.pipelined)}`]);
    }
  }
  console.log(
    runInfo({
      courier: 'each Courier node: one event loop, its own process',
      runtimes: [perl ? `${perl} (run live)` : 'AnyEvent::MP not installed here (`perl -MAnyEvent::MP -e1` fails): Perl↔Perl not run'],
      statistic: `each figure the median of ${PASSES} passes of ${SECONDS} s after a warm-up${perl ? ', on both sides' : ''}`,
    }),
  );
  console.log('');
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] as string).length))) ?? [];
  for (const r of rows)
    console.log(
      r
        .map((c, i) => c.padEnd(widths[i] as number))
        .join('  ')
        .trimEnd(),
    );
  console.log(`(messages [reply, n], each echoed back; pipelined: ${WINDOW} in flight, the answers received within the time counted)`);
  if (!perl) console.log(`Perl↔Perl figures from another machine: ${PERL_ELSEWHERE_WHERE} — a reference, not a ratio.`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
