import { afterAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { uniqueName } from '@courier/testkit';
import { REPO } from './repo-configs.js';

/** `courier node --config FILE`, the real process: a configuration it does not understand stops it before anything starts. */
const CLI = fileURLToPath(new URL('../../src/cli.ts', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'courier-cli-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs `courier ARGS` as the command does (tsx, the `source` condition). Resolves when it exits,
 * or with `code: null` once it prints READY (then it is stopped): a node that starts is an answer too.
 */
function courier(args: string[]): Promise<Run> {
  // A cookie in the environment: were the file's `cokie` ignored, the node would start with it.
  const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', CLI, ...args], {
    cwd: REPO,
    env: { ...process.env, COURIER_COOKIE: 'from-the-environment' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`courier ${args.join(' ')}: neither exited nor READY within 45 s\n${stdout}${stderr}`));
    }, 45_000);
    child.stdout.on('data', () => {
      if (/^READY /m.test(stdout)) {
        clearTimeout(timer);
        child.once('exit', () => resolve({ code: null, stdout, stderr }));
        child.kill('SIGTERM');
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
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
