import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { childPids, compileErl, findErl, freePort, isAlive, requirePeer, startErl, uniqueName } from '@courier/testkit';

const tools = findErl();
const peer = requirePeer('erl', tools !== null, 'erl/erlc not found on PATH');

describe('startErl', () => {
  it('starts a distributed node, reads its output with deadlines, and stops it by pid leaving nothing behind', async (ctx) => {
    peer.require(ctx);
    const name = uniqueName('testkit');
    // EPMD-less (OTP 23+): no `epmd -daemon` is started, which would outlive the node.
    const args = ['-start_epmd', 'false', '-erl_epmd_port', String(await freePort())];
    const node = startErl({ name, args, eval: 'io:format("node ~s~n", [node()]), io:format("cookie ~s~n", [erlang:get_cookie()])' });
    try {
      expect(node.node).toBe(`${name}@127.0.0.1`);
      expect(await node.stdout.waitFor(/^node /, 30_000)).toBe(`node ${name}@127.0.0.1`);
      expect(await node.stdout.next(10_000)).toBe(`cookie ${node.cookie}`);
      await expect(node.stdout.next(200)).rejects.toThrow(/no any line within 200 ms/);
      expect(node.running).toBe(true);
      const helpers = childPids(node.pid);
      expect(helpers.length).toBeGreaterThan(0); // erl_child_setup
      const status = await node.stop();
      expect(status.code === 0 || status.signal !== null).toBe(true);
      expect(node.running).toBe(false);
      expect(isAlive(node.pid)).toBe(false);
      for (const p of helpers) expect(isAlive(p), `helper ${p}`).toBe(false);
    } finally {
      await node.stop();
    }
  }, 60_000);

  it('passes environment, stdin and code path; a waiting reader learns that erl exited', async (ctx) => {
    peer.require(ctx);
    const dir = mkdtempSync(join(tmpdir(), 'courier-testkit-'));
    try {
      const src = join(dir, 'echo_once.erl');
      writeFileSync(
        src,
        '-module(echo_once).\n-export([run/0]).\nrun() -> L = io:get_line(""), io:format("got ~s", [L]), io:format("env ~s~n", [os:getenv("COURIER_T")]), halt(3).\n',
      );
      const compiled = await compileErl([src], tools);
      const node = startErl({ codePath: [compiled.dir], eval: 'echo_once:run()', env: { COURIER_T: 'x1' } });
      node.write('hello\n');
      expect(await node.stdout.waitFor('got', 30_000)).toBe('got hello');
      expect(await node.stdout.next(10_000)).toBe('env x1');
      await expect(node.stdout.next(30_000)).rejects.toThrow(/ended/);
      expect((await node.exited).code).toBe(3);
      compiled.cleanup();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('compileErl reports compiler errors', async (ctx) => {
    peer.require(ctx);
    const dir = mkdtempSync(join(tmpdir(), 'courier-testkit-'));
    try {
      const src = join(dir, 'broken.erl');
      writeFileSync(src, '-module(broken).\nthis is not erlang\n');
      await expect(compileErl([src], tools)).rejects.toThrow(/erlc failed/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
