import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { freePort, randomCookie, uniqueName } from '@courier/testkit';
import { get, openPage } from '../../packages/observer/test/client.js';
import { startEchoNode, type EchoNodeProcess } from './echo-node-process.js';

/**
 * Who may use the observer of the echo node PROCESS (`--observer`, docs/observer.md): it refuses
 * to listen beyond loopback without a token, and with one (from COURIER_OBSERVER_TOKEN, so not on
 * its command line) and `--observer-metrics-token` it asks every request for it; a foreign Origin
 * or Host is refused and logged on its stderr; its page may not kill the echo process.
 */
const root = fileURLToPath(new URL('../../', import.meta.url));
const TOKEN = randomCookie() + randomCookie();
const auth = { authorization: `Bearer ${TOKEN}` };

let node: EchoNodeProcess | undefined;
let port = 0;

beforeAll(async () => {
  port = await freePort();
  node = await startEchoNode(
    [
      '--name',
      `${uniqueName('obs_access')}@127.0.0.1`,
      '--cookie',
      randomCookie(),
      '--port',
      String(await freePort()),
      '--observer',
      `127.0.0.1:${port}`,
      '--observer-metrics-token',
    ],
    { ERL_EPMD_PORT: String(await freePort()), COURIER_OBSERVER_TOKEN: TOKEN },
  );
  // READY comes before the observer listens.
  for (const end = Date.now() + 20_000; Date.now() < end; await new Promise((r) => setTimeout(r, 100))) {
    if ((await get(port, '/metrics', auth).catch(() => undefined))?.status === 200) return;
  }
  throw new Error(`the echo node's observer did not answer on ${port}: ${node.stderrTail(2000)}`);
}, 60_000);

afterAll(async () => {
  await node?.stop();
});

describe('the echo node process: observer access', () => {
  it('refuses to start an observer on 0.0.0.0 without a token: exit 2 before READY, saying what to do', async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: 'warn', ERL_EPMD_PORT: String(await freePort()) };
    delete env['COURIER_OBSERVER_TOKEN'];
    const args = [
      '--conditions=source',
      '--import',
      'tsx',
      'examples/echo-node/main.ts',
      '--name',
      `${uniqueName('obs_wide')}@127.0.0.1`,
      '--cookie',
      'c',
      '--observer',
      `0.0.0.0:${await freePort()}`,
    ];
    const child = spawn(process.execPath, args, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    // Were it to start anyway, it is stopped rather than left running.
    const stray = setTimeout(() => child.kill('SIGKILL'), 20_000);
    const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    clearTimeout(stray);
    expect(code, err).toBe(2);
    expect(out).not.toMatch(/READY/);
    expect(err).toMatch(/listen on 0\.0\.0\.0, beyond loopback, without an access token/);
    expect(err).toMatch(/--observer-token or COURIER_OBSERVER_TOKEN/);
  }, 30_000);

  it('with a token, HTTP and WebSocket requests without it or with a wrong one are refused (401), /metrics included; with it they are accepted', async () => {
    for (const path of ['/', '/observer.js', '/metrics']) {
      expect((await get(port, path)).status, path).toBe(401);
      expect((await get(port, path, { authorization: `Bearer ${TOKEN}x` })).status, path).toBe(401);
      expect((await get(port, path, auth)).status, path).toBe(200);
    }
    expect((await openPage(port)).status).toBe(401);
    expect((await openPage(port, { authorization: `Bearer x${TOKEN}` })).status).toBe(401);
    const ok = await openPage(port, auth);
    expect(ok.status).toBe(101);
    ok.ws?.close();
    // The token came from the environment: not on the command line, where `ps` shows it.
    expect(readFileSync(`/proc/${node?.pid}/cmdline`, 'utf8')).not.toContain(TOKEN);
  });

  it('a WebSocket upgrade with a foreign Origin or a Host that is not the bound address is refused (403), token or not, and logged', async () => {
    expect((await openPage(port, { ...auth, origin: 'http://evil.example' })).status).toBe(403);
    expect((await openPage(port, { ...auth, host: `evil.example:${port}` })).status).toBe(403);
    expect((await get(port, '/', { ...auth, host: `evil.example:${port}` })).status).toBe(403);
    const n = node as EchoNodeProcess;
    for (const end = Date.now() + 3000; !/FOREIGN_HOST[^\n]*observer: request refused/.test(n.stderrTail(20_000)) && Date.now() < end;) await new Promise((r) => setTimeout(r, 50));
    const log = n.stderrTail(20_000);
    expect(log).toMatch(/"code":"FOREIGN_ORIGIN"[^\n]*"origin":"http:\/\/evil\.example"[^\n]*"msg":"observer: page refused"/);
    expect(log).toMatch(/"code":"FOREIGN_HOST"[^\n]*"msg":"observer: page refused"/);
    expect(log).toMatch(/"code":"FOREIGN_HOST"[^\n]*"msg":"observer: request refused"/);
    expect(log).not.toContain(TOKEN);
  });

  it('its page may not kill the echo process (read-only): the page is told, the process lives on', async () => {
    const page = await openPage(port, auth);
    const ws = page.ws as NonNullable<typeof page.ws>;
    type Seen = { type: string; name?: string; processes?: Array<{ pid: string; name: string | null }> };
    const seen: Seen[] = [];
    ws.on('message', (d) => seen.push(JSON.parse((d as Buffer).toString()) as Seen));
    const echoPid = (m: Seen | undefined): string | undefined => m?.processes?.find((p) => p.name === 'echo')?.pid;
    // The sample sent with the hello has the echo process.
    while (!seen.some((m) => m.type === 'sample')) await new Promise((r) => setTimeout(r, 20));
    const before = echoPid(seen.find((m) => m.type === 'sample'));
    expect(before).toMatch(/^<.+>$/);
    ws.send(JSON.stringify({ op: 'kill', name: 'echo' }));
    // Then a sample taken after the refusal (samples come every second).
    const after = (): Seen | undefined => seen.slice(seen.findIndex((m) => m.type === 'refused') + 1).find((m) => m.type === 'sample');
    const until = Date.now() + 5000;
    while (!seen.some((m) => m.type === 'refused') || after() === undefined) {
      if (Date.now() > until) throw new Error(`got ${JSON.stringify(seen.map((m) => m.type))}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    ws.close();
    expect(seen.find((m) => m.type === 'refused')).toMatchObject({ type: 'refused', op: 'kill', name: 'echo' });
    expect(echoPid(after())).toBe(before);
  });
});
