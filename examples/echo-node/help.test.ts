import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The echo node's command line: `--help`, and a misspelt flag answered with a line and the usage, not a stack trace. */
const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));
const REPO = fileURLToPath(new URL('../../', import.meta.url));
const run = (args: string[]) => spawnSync(process.execPath, ['--conditions=source', '--import', 'tsx', MAIN, ...args], { cwd: REPO, encoding: 'utf8', timeout: 45_000 });

describe('echo-node command line', () => {
  it('--help: every flag, examples; exit 0', () => {
    const r = run(['--help']);
    expect(r.status).toBe(0);
    for (const flag of ['--name', '--sname', '--cookie', '--visible', '--carrier', '--tls-optfile', '--tls-cert', '--ssh-bind', '--aemp-nodeid', '--ws', '--observer']) {
      expect(r.stdout, flag).toContain(flag);
    }
    expect(r.stdout).toMatch(/^examples:\n {2}npm run -s echo-node -- /m);
  }, 60_000);

  it('a misspelt flag: one line naming it and the usage; exit 2, no stack trace', () => {
    const r = run(['--nmae', 'a@127.0.0.1']);
    expect(r.status).toBe(2);
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines[0]).toBe('echo-node: unknown option --nmae');
    expect(lines[1]).toMatch(/^usage: npm run -s echo-node -- --name NAME@HOST/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.stdout).toBe('');
  }, 60_000);
});
