import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { findErl, requirePeer } from '@courier/testkit';

/** Runs the demo as `npm start` does, as a child process, and reads what it printed. */
const root = fileURLToPath(new URL('../..', import.meta.url));
const erl = requirePeer('erl', findErl() !== null, 'erl/erlc not on PATH (install Debian erlang-base)');

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

function runDemo(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--conditions=source', '--import', 'tsx', 'examples/demo/main.ts', ...args],
      { cwd: root, timeout: 25_000, env: { ...process.env, LOG_LEVEL: 'info', ...env } },
      (err, stdout, stderr) => resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : null, stdout, stderr, ms: Date.now() - t0 }),
    );
  });
}

interface Rec {
  readonly level: number;
  readonly msg: string;
  readonly node?: string;
  readonly [k: string]: unknown;
}

const NODES = new Set(['demo@localhost', 'cluster', 'hub@127.0.0.1', 'alpha@127.0.0.1', 'delta@memory', 'gamma']);

describe('examples/demo', () => {
  let json: Run;
  let readable: Run;
  let recs: Rec[];

  beforeAll(async () => {
    // One after the other: both runs use the machine's few cores and the erl node.
    json = await runDemo(['--json']);
    readable = await runDemo([]);
    recs = json.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Rec);
  }, 60_000);

  it('exchanges messages, crashes pong, restarts it, resumes, and exits 0 (JSON log)', () => {
    expect(json.stderr).toBe('');
    expect(json.code).toBe(0);
    for (const r of recs) expect(NODES.has(r.node as string) || /^erl_demo_\d+@127\.0\.0\.1$/.test(r.node as string), `node of ${JSON.stringify(r)}`).toBe(true);
    const local = recs.filter((r) => r.node === 'demo@localhost');

    const at = (pred: (r: Rec) => boolean): number => local.findIndex(pred);
    const crashed = at((r) => r.msg === 'process crashed' && r['name'] === 'pong');
    const terminated = at((r) => r.msg === 'child terminated' && r['child'] === 'pong');
    const restarted = at((r) => r.msg === 'child restarted' && r['child'] === 'pong');
    expect(crashed).toBeGreaterThan(0);
    expect(local[crashed]?.level).toBe(50);
    expect((local[crashed]?.['err'] as { message: string }).message).toMatch(/simulated fault/);
    expect(terminated).toBeGreaterThan(crashed);
    expect(restarted).toBeGreaterThan(terminated);

    const pongs = local.map((r, i) => (r.msg === 'pong received' ? i : -1)).filter((i) => i >= 0);
    expect(pongs.filter((i) => i < crashed).length).toBeGreaterThanOrEqual(2);
    const after = pongs.filter((i) => i > restarted);
    expect(after.length).toBeGreaterThanOrEqual(2);
    // The restarted pong counts from one again: its state was rebuilt by init.
    expect(local[after[0] as number]?.['pongHandled']).toBe(1);

    const finished = recs.at(-1) as Rec;
    expect(finished.msg).toBe('demo finished');
    expect(finished).toMatchObject({ pongCrashes: 1, pongStarts: 2, pongsReceived: 10 });
  });

  it('runs a cluster on tcp, memory and aemp: a supervised service called across carriers, crashed and restarted', () => {
    const find = (pred: (r: Rec) => boolean) => recs.findIndex(pred);
    expect(find((r) => r.node === 'cluster' && /embedded EPMD on a free private port/.test(r.msg) && typeof r['epmdPort'] === 'number')).toBeGreaterThanOrEqual(0);
    expect(find((r) => r.msg === 'no EPMD was running: started an embedded one')).toBeGreaterThanOrEqual(0);
    const answered = recs.filter((r) => r.msg === 'service call answered');
    expect(answered.map((r) => [r.node, r['carrier'], r['result']])).toEqual([
      ['alpha@127.0.0.1', 'tcp', '{total,1}'],
      ['delta@memory', 'memory', '{total,11}'],
      // After the restart the service starts from zero again.
      ['alpha@127.0.0.1', 'tcp', '{total,100}'],
      ['delta@memory', 'memory', '{total,1100}'],
    ]);
    const crashed = find((r) => r.node === 'hub@127.0.0.1' && r.msg === 'process crashed' && r['name'] === 'counter');
    const restarted = find((r) => r.node === 'hub@127.0.0.1' && r.msg === 'child restarted' && r['child'] === 'counter');
    expect(crashed).toBeGreaterThan(0);
    expect(restarted).toBeGreaterThan(crashed);
    expect(recs.find((r) => r.msg === 'aemp port answered')?.['answer']).toBe('["shouted","HELLO FROM THE HUB"]');
    expect(find((r) => r.node === 'gamma' && r.msg === 'node up' && r['carrier'] === 'aemp')).toBeGreaterThanOrEqual(0);
    expect(find((r) => r.msg === 'cluster: skipped perl' && /Courier node speaking the Perl dialect/.test(r['why'] as string))).toBeGreaterThanOrEqual(0);
    expect(json.ms).toBeLessThan(15_000);
  });

  it('with erl on PATH, an Erlang node joins and its message crosses the bridge to an AEMP port and back', (ctx) => {
    erl.require(ctx);
    const finished = recs.at(-1) as Rec & { cluster: { erlang: string; skipped: string[] } };
    const crossed = recs.find((r) => r.msg === 'erlang message crossed to an AEMP port and back');
    expect(crossed?.['erlangReceived']).toBe('{<<"shouted">>,<<"HELLO FROM ERLANG">>}');
    expect(recs.find((r) => r.node === 'gamma' && r.msg === 'aemp port got a message' && r['text'] === 'hello from Erlang')).toBeDefined();
    expect(recs.find((r) => r.msg === 'rpc into erlang answered')?.['otpRelease']).toMatch(/^"\d+"$/);
    expect(finished.cluster.erlang).toBe('joined');
  });

  it('without erl on PATH, the demo says it skipped the Erlang node and still exits 0', async () => {
    // A PATH with no erl on it (node is started by its absolute path): the newcomer's machine.
    const run = await runDemo(['--json'], { PATH: mkdtempSync(join(tmpdir(), 'courier-no-erl-')) });
    expect(run.code).toBe(0);
    const lines = run.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Rec);
    expect(lines.find((r) => r.msg === 'cluster: skipped erlang')?.['why']).toMatch(/erl is not on PATH/);
    const finished = lines.at(-1) as Rec & { cluster: { erlang: string } };
    expect(finished.cluster.erlang).toBe('skipped');
  }, 30_000);

  it('prints readable lines by default and exits 0', () => {
    expect(readable.code).toBe(0);
    const out = readable.stdout;
    expect(out).toMatch(/INFO {2}demo@localhost {2}pong received {2}actor=ping n=1 pongHandled=1/);
    expect(out).toMatch(/ERROR demo@localhost {2}process crashed {2}name=pong err="Error: simulated fault/);
    expect(out).toMatch(/WARN {2}demo@localhost {2}child terminated .*child=pong/);
    expect(out).toMatch(/child restarted .*child=pong/);
    expect(out).toMatch(/INFO {2}delta@memory {2}service call answered {2}to=counter@hub@127\.0\.0\.1 carrier=memory/);
    expect(out).toMatch(/ERROR hub@127\.0\.0\.1 {2}process crashed {2}name=counter/);
    expect(out).toMatch(/demo finished .*pongCrashes=1/);
  });
});
