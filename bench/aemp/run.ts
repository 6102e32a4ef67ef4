import { freePort } from '@courier/testkit';
/**
 * `npm run bench:aemp`: Courier↔Courier over AEMP (AnyEvent::MP 2.x protocol), json and cbor
 * framing: sequential round trips/s and pipelined messages/s (each echoed back), beside the
 * Perl↔Perl reference measured on this class of machine (docs: ../shared/specs/aemp.md §10).
 * Each pair is two OS processes on 127.0.0.1: the echo node (examples/echo-node, `--carrier
 * aemp`) and this process, which sends `[replyPortId, n]` to `<echo>#echo`. Not a test.
 * `--quick` runs shorter.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Node, type Process } from '@courier/core';
import { aemp, portIdOfPid, type Framing } from '@courier/transport-aemp';

const quick = process.argv.includes('--quick');
const SECONDS = quick ? 1.5 : 4;
const WINDOW = 2_000;
const SECRET = 'bench-secret';
/** Perl AnyEvent::MP 2.02 ↔ Perl echo, 2 vCPU, loopback (shared/specs/aemp.md §10). */
const PERL: Record<Framing, { rtt: number; pipelined: number }> = {
  cbor: { rtt: 35_400, pipelined: 135_000 },
  json: { rtt: 34_600, pipelined: 146_000 },
};

async function startEcho(framing: Framing, port: number): Promise<ChildProcess> {
  const main = fileURLToPath(new URL('../../examples/echo-node/main.ts', import.meta.url));
  const args = [
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
  while (got < sent) {
    await self.receive();
    got++;
  }
  done();
  return got / elapsed;
}

async function measure(framing: Framing): Promise<{ rtt: number; pipelined: number }> {
  const port = await freePort();
  const child = await startEcho(framing, port);
  const node = new Node({ name: `bench-client-${framing}`, transports: [aemp({ secret: SECRET, framings: [framing], peers: { 'bench-echo': [`127.0.0.1:${port}`] } })] });
  await node.start();
  try {
    const echo = 'bench-echo#echo';
    await inProcess(node, (self) => rtt(self, echo, 0.3)); // warm-up (connection, JIT)
    const r = await inProcess(node, (self) => rtt(self, echo, SECONDS));
    const p = await inProcess(node, (self) => pipelined(self, echo, SECONDS));
    return { rtt: r, pipelined: p };
  } finally {
    await node.stop();
    child.kill('SIGTERM');
  }
}

const fmt = (x: number): string => `${Math.round(x).toLocaleString('en-US')}/s`;

async function main(): Promise<void> {
  const rows: string[][] = [['pair', 'framing', 'round trips', 'pipelined msgs', 'vs Perl↔Perl (rt / pipelined)']];
  for (const framing of ['json', 'cbor'] as const) {
    const m = await measure(framing);
    const perl = PERL[framing];
    rows.push(['Courier↔Courier', framing, fmt(m.rtt), fmt(m.pipelined), `${(m.rtt / perl.rtt).toFixed(2)}× / ${(m.pipelined / perl.pipelined).toFixed(2)}×`]);
    rows.push(['Perl↔Perl (reference)', framing, fmt(perl.rtt), fmt(perl.pipelined), '1.00× / 1.00×']);
  }
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] as string).length))) ?? [];
  for (const r of rows) console.log(r.map((c, i) => c.padEnd(widths[i] as number)).join('  '));
  console.log(`(${SECONDS} s per measurement; pipelined: ${WINDOW} in flight; each message echoed back; target ≥ 5× Perl↔Perl)`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
