import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { rpcCall, type Node } from '@courier/core';
import { atom, tuple } from '@courier/term';
import { randomCookie, uniqueName, type ErlNode } from '@courier/testkit';
import { startEcho } from '@courier/cli';
import { courierNode, erlNode, erlPeer, inProcess, startEpmd, type Epmd } from './harness.js';

/** The `courier` command end to end, against a real `erl` and Courier nodes. */
const BIN = fileURLToPath(new URL('../../packages/cli/bin/courier.mjs', import.meta.url));
const run = promisify(execFile);

let epmd: Epmd;
let cookie: string;
let e: ErlNode;
let c: Node;

async function courier(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, [BIN, ...args], { env: { ...process.env, ERL_EPMD_PORT: String(epmd.port), ...env }, timeout: 30_000 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const x = err as { code: number; stdout: string; stderr: string };
    return { code: x.code, stdout: x.stdout, stderr: x.stderr };
  }
}

beforeAll(async () => {
  if (!erlPeer.available) return;
  epmd = await startEpmd();
  cookie = randomCookie();
  e = await erlNode(epmd, cookie);
  c = await courierNode(epmd, cookie);
  startEcho(c);
}, 60_000);

afterAll(async () => {
  await c?.stop();
  await e?.stop();
  await epmd?.stop();
});

describe('courier CLI', () => {
  it('names, ping (pong / pang) and exit codes', async (ctx) => {
    erlPeer.require(ctx);
    const names = await courier(['names']);
    expect(names.code).toBe(0);
    expect(names.stdout).toContain(`name ${(e.node as string).split('@')[0]} at port`);
    const pong = await courier(['ping', e.node as string, '--cookie', cookie]);
    expect([pong.code, pong.stdout.trim()]).toEqual([0, 'pong']);
    const toCourier = await courier(['ping', c.name.name], { COURIER_COOKIE: cookie });
    expect([toCourier.code, toCourier.stdout.trim()]).toEqual([0, 'pong']);
    const pang = await courier(['ping', `${uniqueName('nobody')}@127.0.0.1`, '--cookie', cookie]);
    expect([pang.code, pang.stdout.trim()]).toEqual([3, 'pang']); // not registered: could not be reached (docs/cli.md's exit codes)
    const wrong = await courier(['ping', e.node as string, '--cookie', 'wrong']);
    expect([wrong.code, wrong.stdout.trim()]).toEqual([1, 'pang']); // reachable, and it said no
    const usage = await courier(['frobnicate']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('usage');
  });

  it('call: results and errors printed in Erlang syntax', async (ctx) => {
    erlPeer.require(ctx);
    const rev = await courier(['call', e.node as string, 'lists', 'reverse', '[[a, <<"b">>, #{k => 1}]]', '--cookie', cookie]);
    expect([rev.code, rev.stdout.trim()]).toEqual([0, '[#{k => 1},<<"b">>,a]']);
    const boom = await courier(['call', e.node as string, 'erlang', 'error', '[boom]', '--cookie', cookie]);
    expect(boom.code).toBe(1);
    // Erlang's stack trace comes along, as rpc:call shows it.
    expect(boom.stdout.trim()).toMatch(/^\{badrpc,\{'EXIT',\{boom,\[\{erlang,error,\[boom\]/);
    const crash = await courier(['call', c.name.name, 'courier_echo', 'crash', '[oops]', '--cookie', cookie]);
    expect([crash.code, crash.stdout.trim()]).toEqual([1, "{badrpc,{'EXIT',{oops,[]}}}"]);
    const bad = await courier(['call', e.node as string, 'lists', 'reverse', '[1,', '--cookie', cookie]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/unexpected end of input/);
  });

  it('send: a term typed in Erlang syntax reaches a registered Erlang process', async (ctx) => {
    erlPeer.require(ctx);
    const name = uniqueName('coll');
    await inProcess(c, (self) => rpcCall(self, atom(e.node as string), atom('courier_peer'), atom('start_collector'), [atom(name)]));
    const sent = await courier(['send', `{${name}, '${e.node as string}'}`, '{m, 1}', '--cookie', cookie]);
    expect([sent.code, sent.stdout.trim()]).toEqual([0, 'ok']);
    const got = await inProcess(c, (self) => rpcCall(self, atom(e.node as string), atom('courier_peer'), atom('collect'), [atom(name), 5000]));
    expect(got).toEqual(tuple(1, true));
  });

  it('node: READY, reachable from erl, stops cleanly on SIGTERM', async (ctx) => {
    erlPeer.require(ctx);
    const name = `${uniqueName('clinode')}@127.0.0.1`;
    const child = spawn(process.execPath, [BIN, 'node', '--name', name, '--cookie', cookie], {
      env: { ...process.env, ERL_EPMD_PORT: String(epmd.port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const ready = await new Promise<string>((resolve, reject) => {
      let buf = '';
      child.stdout.setEncoding('utf8');
      child.stdout.on('data', (d: string) => {
        buf += d;
        const line = buf.split('\n').find((l) => l.startsWith('READY'));
        if (line) resolve(line);
      });
      child.once('exit', (code) => reject(new Error(`courier node exited ${code}`)));
    });
    expect(ready).toBe(`READY ${name}`);
    const r = await inProcess(c, (self) =>
      rpcCall(self, atom(e.node as string), atom('courier_peer'), atom('rpc'), [atom(name), atom('courier_echo'), atom('add'), [20, 22], 5000]),
    );
    expect(r).toBe(42);
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
