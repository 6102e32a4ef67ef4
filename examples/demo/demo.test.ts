import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';

/** Runs the demo as `npm start` does, as a child process, and reads what it printed. */
const root = fileURLToPath(new URL('../..', import.meta.url));

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function runDemo(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--conditions=source', '--import', 'tsx', 'examples/demo/main.ts', ...args],
      { cwd: root, timeout: 25_000, env: { ...process.env, LOG_LEVEL: 'info' } },
      (err, stdout, stderr) => resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : null, stdout, stderr }),
    );
  });
}

interface Rec {
  readonly level: number;
  readonly msg: string;
  readonly node?: string;
  readonly [k: string]: unknown;
}

describe('examples/demo', () => {
  let json: Run;
  let readable: Run;

  beforeAll(async () => {
    [json, readable] = await Promise.all([runDemo('--json'), runDemo()]);
  });

  it('exchanges messages, crashes pong, restarts it, resumes, and exits 0 (JSON log)', () => {
    expect(json.stderr).toBe('');
    expect(json.code).toBe(0);
    const recs = json.stdout.trim().split('\n').map((l) => JSON.parse(l) as Rec);
    for (const r of recs) expect(r.node).toBe('demo@localhost');

    const at = (pred: (r: Rec) => boolean): number => recs.findIndex(pred);
    const crashed = at((r) => r.msg === 'process crashed' && r['name'] === 'pong');
    const terminated = at((r) => r.msg === 'child terminated' && r['child'] === 'pong');
    const restarted = at((r) => r.msg === 'child restarted' && r['child'] === 'pong');
    expect(crashed).toBeGreaterThan(0);
    expect(recs[crashed]?.level).toBe(50);
    expect((recs[crashed]?.['err'] as { message: string }).message).toMatch(/simulated fault/);
    expect(terminated).toBeGreaterThan(crashed);
    expect(restarted).toBeGreaterThan(terminated);

    const pongs = recs.map((r, i) => (r.msg === 'pong received' ? i : -1)).filter((i) => i >= 0);
    expect(pongs.filter((i) => i < crashed).length).toBeGreaterThanOrEqual(2);
    const after = pongs.filter((i) => i > restarted);
    expect(after.length).toBeGreaterThanOrEqual(2);
    // The restarted pong counts from one again: its state was rebuilt by init.
    expect(recs[after[0] as number]?.['pongHandled']).toBe(1);

    const finished = recs.at(-1) as Rec;
    expect(finished.msg).toBe('demo finished');
    expect(finished).toMatchObject({ pongCrashes: 1, pongStarts: 2, pongsReceived: 10 });
  });

  it('prints readable lines by default and exits 0', () => {
    expect(readable.code).toBe(0);
    const out = readable.stdout;
    expect(out).toMatch(/INFO {2}demo@localhost {2}pong received {2}actor=ping n=1 pongHandled=1/);
    expect(out).toMatch(/ERROR demo@localhost {2}process crashed {2}name=pong err="Error: simulated fault/);
    expect(out).toMatch(/WARN {2}demo@localhost {2}child terminated .*child=pong/);
    expect(out).toMatch(/child restarted .*child=pong/);
    expect(out).toMatch(/demo finished .*pongCrashes=1/);
  });
});
