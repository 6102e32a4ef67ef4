/**
 * The SSH benchmark: sshrpc between Erlang/OTP's ssh and Courier, every direction, one run.
 * `node --conditions=source --import tsx bench/ssh/run.ts [--quick]`
 *
 * Rows: Erlang→Erlang (the reference: sshrpc_client.erl → sshrpc_server.erl), Courier→Erlang,
 * Erlang→Courier, Courier↔Courier; each daemon in its own process, clients in theirs.
 * Columns: sequential calls/s ({mfa,{lists,seq,[1,100]}}), pipelined calls/s with 16 and 64
 * {call,Id,…} in flight, 1 MiB answers in MiB/s. Every client gets the same warm-up (WARM) before it
 * measures; each figure is the median of ROUNDS rounds (5), on both sides.
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { LineReader, startErl } from '@courier/testkit';
import { SshRpcClient, fingerprint } from '@courier/transport-ssh';
import { Scratch, bare, blob, fixtures, makeKey, startErlDaemon } from '../../interop/ssh/harness.js';
import { median } from '../median.js';
import { COURIER_NODE_FLAGS, erlVersion, runInfo } from '../run-info.js';
import { big, pipe, seq } from './courier-client.js';

const quick = process.argv.includes('--quick');
const ROUNDS = quick ? 1 : 5;
const SEQ_N = quick ? 2000 : 10_000;
const PIPE_N = quick ? 5000 : 40_000;
const BIG_N = quick ? 20 : 60;
const CHANNELS = Number(process.env['COURIER_BENCH_SSH_CHANNELS'] ?? 4);
/** The warm-up every client gets before it measures: sequential calls, pipelined calls (64 in flight), 1 MiB answers. */
const WARM = { seq: 3000, pipe64: 20_000, big: 5 } as const;

type Row = { seq: number; pipe16: number; pipe64: number; big: number };

type Kind = keyof Row;
type Client = (kinds: readonly Kind[]) => Promise<Partial<Row>>;

/** The Erlang client as a fresh erl measuring `kinds` after the WARM warm-up (its start-up and warm-up are not measured). */
function erlangClient(s: Scratch, port: number, bigModule: string, tag: string): Client {
  return async (kinds) => {
    const e = startErl({
      codePath: [await fixtures()],
      eval: `sshrpc_client:bench_main(["${port}", "${s.path('client')}", "bench@127.0.0.1", "${bigModule}", "${kinds.join(',')}", "${SEQ_N}", "${PIPE_N}", "${BIG_N}", "${WARM.seq},${WARM.pipe64},${WARM.big}"]).`,
    });
    const got: Partial<Row> = {};
    for (;;) {
      const line = await e.stdout.waitFor(/^(BENCH|DONE)/, 600_000, `${tag} results`);
      if (line === 'DONE') break;
      const [, kind, value] = line.split(' ') as [string, Kind, string];
      got[kind] = Number(value);
    }
    await e.exited;
    return got;
  };
}

/** The Courier client over an open connection. */
function courierClient(c: SshRpcClient, bigModule: string): Client {
  return async (kinds) => {
    const got: Partial<Row> = {};
    for (const k of kinds) {
      if (k === 'seq') got.seq = await seq(c, SEQ_N);
      else if (k === 'pipe16') got.pipe16 = await pipe(c, 16, PIPE_N);
      else if (k === 'pipe64') got.pipe64 = await pipe(c, 64, PIPE_N);
      else got.big = await big(c, bigModule, BIG_N);
    }
    return got;
  };
}

/** Warm a Courier client's connection (and the JIT of both ends) as each Erlang client is warmed (WARM). */
async function warm(c: SshRpcClient, bigModule: string): Promise<void> {
  await seq(c, WARM.seq);
  await pipe(c, 64, WARM.pipe64);
  await big(c, bigModule, WARM.big);
}

const mid = (rounds: Row[]): Row => ({
  seq: median(rounds.map((r) => r.seq)),
  pipe16: median(rounds.map((r) => r.pipe16)),
  pipe64: median(rounds.map((r) => r.pipe64)),
  big: median(rounds.map((r) => r.big)),
});

async function main(): Promise<void> {
  const s = new Scratch();
  const erlHost = makeKey('erlang_daemon');
  const courierHost = makeKey('bench_daemon@127.0.0.1');
  const me = makeKey('bench@127.0.0.1');
  const erl = await startErlDaemon(s, erlHost, [me], 'erld');
  s.file('courier/host_key', courierHost.privateKey);
  s.file('courier/authorized_keys', me.publicLine);
  const daemon = spawn(
    process.execPath,
    [
      ...COURIER_NODE_FLAGS,
      '--conditions=source',
      '--import',
      'tsx',
      fileURLToPath(new URL('./courier-daemon.ts', import.meta.url)),
      s.path('courier/host_key'),
      s.path('courier/authorized_keys'),
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const ready = await new LineReader(daemon.stdout, () => 'the Courier daemon').waitFor(/^READY \d+/, 30_000);
  const cport = Number(ready.split(' ')[1]);
  s.file('client/id_ed25519', me.privateKey);
  s.file('client/id_ed25519.pub', me.publicLine);
  s.file('client/known_hosts', `[127.0.0.1]:${erl.port} ${bare(erlHost)}\n[127.0.0.1]:${cport} ${bare(courierHost)}`);
  const fingerprints = { [`[127.0.0.1]:${erl.port}`]: fingerprint(blob(erlHost)), [`[127.0.0.1]:${cport}`]: fingerprint(blob(courierHost)) };
  const connect = (port: number, channels: number) => SshRpcClient.connect({ host: '127.0.0.1', port, user: me.name, privateKey: me.privateKey, fingerprints, channels });
  // Rows take turns, round after round, so that load from elsewhere on the machine spreads over
  // all of them; sequential calls of every row are measured before the heavier columns.
  const names = ['Erlang → Erlang (reference)', 'Courier → Erlang', 'Erlang → Courier', 'Courier ↔ Courier, 1 channel', `Courier ↔ Courier, ${CHANNELS} channels`];
  const got: Row[][] = names.map(() => []);
  try {
    const ce = await connect(erl.port, 1);
    const cc = await connect(cport, 1);
    const ccn = await connect(cport, CHANNELS);
    await warm(ce, 'sshrpc_server');
    await warm(cc, 'bench');
    await warm(ccn, 'bench');
    const clients: Client[] = [
      erlangClient(s, erl.port, 'sshrpc_server', 'Erlang→Erlang'),
      courierClient(ce, 'sshrpc_server'),
      erlangClient(s, cport, 'bench', 'Erlang→Courier'),
      courierClient(cc, 'bench'),
      courierClient(ccn, 'bench'),
    ];
    for (let round = 1; round <= ROUNDS; round++) {
      process.stdout.write(`round ${round}/${ROUNDS} … `);
      const parts: Array<Partial<Row>> = clients.map(() => ({}));
      for (const kinds of [['seq'], ['pipe16', 'pipe64', 'big']] as const) {
        for (const [i, client] of clients.entries()) Object.assign(parts[i] as Partial<Row>, await client(kinds));
      }
      parts.forEach((p, i) => got[i]?.push(p as Row));
    }
    for (const c of [ce, cc, ccn]) c.close();
    process.stdout.write('done\n\n');
  } finally {
    daemon.kill('SIGTERM');
    await erl.erl.stop();
    s.cleanup();
  }
  print(names.map((n, i) => [n, mid(got[i] as Row[])]));
}

/** The version of the ssh2 package transport-ssh resolves. */
function ssh2Version(): string {
  const require = createRequire(new URL('../../packages/transport-ssh/package.json', import.meta.url));
  return (require('ssh2/package.json') as { version: string }).version;
}

function print(rows: Array<[string, Row]>): void {
  const n = (x: number) => Math.round(x).toLocaleString('en-US');
  console.log(
    runInfo({
      courier: 'the Courier daemon and clients: one event loop each, ssh2 ' + ssh2Version(),
      runtimes: [`${erlVersion('erl', ['ssh']) ?? 'Erlang/OTP (version unknown)'}: the Erlang daemon and each Erlang client in its own VM; loopback, ed25519 keys, no OpenSSH`],
      statistic: `each figure the median of ${ROUNDS} round(s), on both sides; every client warmed up first with ${WARM.seq} sequential calls, ${WARM.pipe64} pipelined (64 in flight) and ${WARM.big} × 1 MiB`,
    }),
  );
  console.log(`sizes: ${SEQ_N} sequential, ${PIPE_N} pipelined, ${BIG_N} × 1 MiB per round; call = lists:seq(1, 100); rows take turns within each round\n`);
  const table = [
    ['client → daemon', 'sequential calls/s', 'pipelined 16 calls/s', 'pipelined 64 calls/s', '1 MiB answers MiB/s'],
    ...rows.map(([k, r]) => [k, n(r.seq), n(r.pipe16), n(r.pipe64), r.big.toFixed(0)]),
  ];
  const w = (table[0] as string[]).map((_, i) => Math.max(...table.map((r) => (r[i] as string).length)));
  const line = (r: string[]) => `| ${r.map((c, i) => (i === 0 ? c.padEnd(w[i] as number) : c.padStart(w[i] as number))).join(' | ')} |`;
  console.log(line(table[0] as string[]));
  console.log(`|${w.map((x, i) => (i === 0 ? '-'.repeat(x + 2) : `${'-'.repeat(x + 1)}:`)).join('|')}|`);
  for (const r of table.slice(1)) console.log(line(r));
  const get = (k: string) => rows.find(([x]) => x.startsWith(k))?.[1] as Row;
  const ee = get('Erlang → Erlang');
  const ce = get('Courier → Erlang');
  const ccBest = Math.max(...rows.filter(([k]) => k.startsWith('Courier ↔')).map(([, r]) => Math.max(r.pipe16, r.pipe64)));
  const bigBest = Math.max(...rows.filter(([k]) => k.startsWith('Courier')).map(([, r]) => r.big));
  const mark = (ok: boolean) => (ok ? 'met' : 'MISSED');
  console.log('');
  console.log(`target Courier→Erlang sequential ≥ 1.0× Erlang→Erlang: ${(ce.seq / ee.seq).toFixed(2)}× ${mark(ce.seq >= ee.seq)}`);
  console.log(`target Courier↔Courier pipelined ≥ 50,000 calls/s: ${n(ccBest)} ${mark(ccBest >= 50_000)}`);
  console.log(`target 1 MiB answers ≥ 200 MiB/s (Courier clients): ${bigBest.toFixed(0)} MiB/s ${mark(bigBest >= 200)}`);
}

await main();
