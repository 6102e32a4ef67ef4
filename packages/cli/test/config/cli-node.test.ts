import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { uniqueName } from '@courier/testkit';
import { REPO } from './repo-configs.js';
import { runCourier, type CliRun } from '../cli/run.js';

/** `courier node --config FILE`, the real process: a configuration it does not understand stops it before anything starts. */
const dir = mkdtempSync(join(tmpdir(), 'courier-cli-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** `courier ARGS` from the repository root; a node that starts (READY) is stopped and answers `code: null`. */
function courier(args: string[]): Promise<CliRun> {
  // A cookie in the environment: were the file's `cokie` ignored, the node would start with it.
  return runCourier(args, { cwd: REPO, env: { COURIER_COOKIE: 'from-the-environment' }, stopAtReady: true });
}

const config = (name: string, node: string): string => {
  const p = join(dir, name);
  writeFileSync(p, `node:\n  name: ${uniqueName('strict')}@127.0.0.1\n${node}carriers:\n  - { kind: tcp, epmd: false, listen: { host: 127.0.0.1, port: 0 } }\n`);
  return p;
};

describe('courier node --config with a key it does not know', () => {
  it('exits 2 naming the file and the key path, with the key it stands for; starts nothing', async () => {
    const file = config('node.yaml', '  cokie: secret\n');
    const r = await courier(['node', '--config', file]);
    expect(r.stdout).not.toMatch(/READY/);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`courier: node.cokie in ${file}: unknown key; did you mean cookie?\n`);
  }, 60_000);

  it('the same file spelt right starts the node (READY)', async () => {
    const r = await courier(['node', '--config', config('good.yaml', '  cookie: secret\n')]);
    expect(r.stdout).toMatch(/^READY strict/m);
    expect(r.stderr).not.toMatch(/unknown key/);
  }, 60_000);

  it('flags that the file replaces are refused next to it, not ignored', async () => {
    const file = config('flags.yaml', '  cookie: secret\n');
    const r = await courier(['node', '--config', file, '--cookie', 'other', '--port', '4000']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`courier: --cookie, --port would be ignored with --config ${file}: say it in the file instead (docs/configuration.md)\n`);
  }, 60_000);
});
