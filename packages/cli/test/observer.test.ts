import { describe, expect, it } from 'vitest';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { uniqueName } from '@courier/testkit';
import { parseObserver } from '../src/cli.js';

/** `courier node --observer HOST:PORT`: the live observer and /metrics on the running node. */
const BIN = fileURLToPath(new URL('../bin/courier.mjs', import.meta.url));
const run = promisify(execFile);

/** `courier node` with a throwaway configuration and `args`; resolves at its OBSERVER line. */
async function startNode(args: string[], env: Record<string, string> = {}): Promise<{ child: ChildProcess; url: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'courier-obs-'));
  const name = `${uniqueName('obs')}@127.0.0.1`;
  const config = join(dir, 'node.yaml');
  writeFileSync(config, JSON.stringify({ node: { name, cookie: 'c' }, carriers: [{ kind: 'tcp', epmd: false }] }));
  const child = spawn(process.execPath, [BIN, 'node', '--config', config, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  child.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    let errText = '';
    const timer = setTimeout(() => reject(new Error(`no OBSERVER line: ${out} ${errText}`)), 20_000);
    child.stderr?.on('data', (d: Buffer) => (errText += d.toString()));
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /^OBSERVER (\S+)$/m.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1] as string);
      }
    });
    child.once('exit', (code) => reject(new Error(`courier node exited ${code}: ${errText}`)));
  }).catch(async (e: unknown) => {
    await stopNode(child);
    throw e;
  });
  return { child, url: url.endsWith('/') ? url : `${url}/` };
}

async function stopNode(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
}

describe('courier node --observer', () => {
  it('parses HOST:PORT, PORT and [v6]:PORT, and refuses the rest', () => {
    expect(parseObserver('127.0.0.1:9000')).toEqual({ host: '127.0.0.1', port: 9000 });
    expect(parseObserver('9000')).toEqual({ host: '127.0.0.1', port: 9000 });
    expect(parseObserver('[::1]:0')).toEqual({ host: '::1', port: 0 });
    for (const bad of ['x', 'h:', 'h:70000', 'h:1.5']) expect(() => parseObserver(bad)).toThrow(/--observer wants HOST:PORT/);
  });

  it('a bad --observer is a usage error (exit 2) before any node starts', async () => {
    const r = await run(process.execPath, [BIN, 'node', '--name', 'x@127.0.0.1', '--cookie', 'c', '--observer', 'nowhere:port']).then(
      () => ({ code: 0, stderr: '' }),
      (e: { code: number; stderr: string }) => e,
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--observer wants HOST:PORT/);
  });

  it('--observer beyond loopback without a token is a usage error (exit 2) before any node starts, saying what to do', async () => {
    const env = { ...process.env };
    delete env['COURIER_OBSERVER_TOKEN'];
    const r = await run(process.execPath, [BIN, 'node', '--name', `${uniqueName('obsw')}@127.0.0.1`, '--cookie', 'c', '--observer', '0.0.0.0:0'], { env, timeout: 20_000 }).then(
      (x) => ({ code: 0, stdout: x.stdout, stderr: x.stderr }),
      (e: { code: number; stdout: string; stderr: string }) => e,
    );
    expect(r.code).toBe(2);
    expect(r.stdout).not.toMatch(/READY/);
    expect(r.stderr).toMatch(/beyond loopback, without an access token/);
    expect(r.stderr).toMatch(/--observer-token or COURIER_OBSERVER_TOKEN/);
  });

  it('with COURIER_OBSERVER_TOKEN and --observer-metrics-token, the page and /metrics need the token', async () => {
    const token = 'cli-observer-token-0123456789';
    const { child, url } = await startNode(['--observer', '127.0.0.1:0', '--observer-metrics-token'], { COURIER_OBSERVER_TOKEN: token });
    try {
      for (const path of ['', 'metrics']) {
        expect((await fetch(`${url}${path}`)).status, path).toBe(401);
        expect((await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${token}` } })).status, path).toBe(200);
      }
    } finally {
      await stopNode(child);
    }
  }, 30_000);

  it('serves the observer page and /metrics once READY', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'courier-obs-'));
    const name = `${uniqueName('obs')}@127.0.0.1`;
    const config = join(dir, 'node.yaml');
    writeFileSync(config, JSON.stringify({ node: { name, cookie: 'c' }, carriers: [{ kind: 'tcp', epmd: false }] }));
    const child = spawn(process.execPath, [BIN, 'node', '--config', config, '--observer', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        let errText = '';
        const timer = setTimeout(() => reject(new Error(`no OBSERVER line: ${out} ${errText}`)), 20_000);
        child.stderr.on('data', (d: Buffer) => (errText += d.toString()));
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          const m = /^OBSERVER (\S+)$/m.exec(out);
          if (m) {
            clearTimeout(timer);
            expect(out).toMatch(new RegExp(`^READY ${name}$`, 'm'));
            resolve(m[1] as string);
          }
        });
        child.once('exit', (code) => reject(new Error(`courier node exited ${code}: ${errText}`)));
      });
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/?$/);
      const base = url.endsWith('/') ? url : `${url}/`;
      const page = await fetch(base);
      expect(page.status).toBe(200);
      expect(await page.text()).toMatch(/<html|<!doctype/i);
      const metrics = await (await fetch(`${base}metrics`)).text();
      expect(metrics).toMatch(/^# TYPE \S+ \S+$/m);
      expect(metrics).toMatch(/process/);
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => (child.exitCode !== null ? r(undefined) : child.once('exit', r)));
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
});
