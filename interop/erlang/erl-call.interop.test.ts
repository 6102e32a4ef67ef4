import { execFile } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Node } from '@courier/core';
import { randomCookie } from '@courier/testkit';
import { startEcho } from '../../examples/echo-node/echo-module.js';
import { courierNode, ertsTool, erlPeer, startEpmd, type Epmd } from './harness.js';

/**
 * `erl_call` (OTP's C node, erl_interface's ei_rpc) against a Courier node: it looks the node up
 * in EPMD, connects as a hidden node and sends `{self(), {call, M, F, A, user}}` to `rex`.
 */
let epmd: Epmd;
let cookie: string;
let c: Node;

beforeAll(async () => {
  if (!erlPeer.available) return;
  epmd = await startEpmd();
  cookie = randomCookie();
  c = await courierNode(epmd, cookie);
  startEcho(c);
});
afterAll(async () => {
  await c?.stop();
  await epmd?.stop();
});

/** Run erl_call against the Courier node; resolve with its exit code and output. */
function erlCall(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const bin = ertsTool('erl_call');
  if (bin === null) throw new Error('erl_call not found in the erl installation');
  return new Promise((resolve) => {
    execFile(bin, ['-n', c.name.name, '-c', cookie, ...args], { env: { ...process.env, ERL_EPMD_PORT: String(epmd.port) }, timeout: 15_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? -1) : 0, stdout, stderr }),
    );
  });
}

describe('erl_call against a Courier node', () => {
  it("-a 'courier_echo echo [hello]' prints hello", async (ctx) => {
    erlPeer.require(ctx);
    // erl_call prints the result with ei_print_term, without a newline.
    expect(await erlCall(['-a', 'courier_echo echo [hello]'])).toEqual({ code: 0, stdout: 'hello', stderr: '' });
  });

  it('other argument and result types: a sum past 64 bits, strings, tuples, lists', async (ctx) => {
    erlPeer.require(ctx);
    // erl_call parses arguments into 64-bit integers at most; the sum comes back as a bignum.
    expect((await erlCall(['-a', 'courier_echo add [9223372036854775807, 9223372036854775807]'])).stdout).toBe('18446744073709551614');
    expect((await erlCall(['-a', 'courier_echo echo [{a, "str", [x, 1.5]}]'])).stdout).toBe('{a, "str", [x, 1.500000]}'); // ei prints floats with %f
  });

  it("-a 'courier_echo crash [bad]' prints the badrpc tuple", async (ctx) => {
    erlPeer.require(ctx);
    const r = await erlCall(['-a', 'courier_echo crash [bad]']);
    expect(r.code).toBe(0);
    // A real erl node prints {badrpc, {'EXIT', {bad, [{erlang, error, [bad], []}]}}}: same shape, its own stack.
    expect(r.stdout).toMatch(/^\{badrpc, \{'EXIT', \{bad, \[.*\]\}\}\}$/s);
  });

  it('an unknown function prints the badrpc undef tuple', async (ctx) => {
    erlPeer.require(ctx);
    const r = await erlCall(['-a', 'courier_echo nope []']);
    expect(r.stdout).toMatch(/^\{badrpc, \{'EXIT', \{undef, \[\{courier_echo, nope, \[\], \[\]\}/);
  });

  it('a wrong cookie is refused', async (ctx) => {
    erlPeer.require(ctx);
    const bin = ertsTool('erl_call') as string;
    const r = await new Promise<{ failed: boolean; stdout: string }>((resolve) =>
      execFile(
        bin,
        ['-n', c.name.name, '-c', 'wrong', '-a', 'courier_echo echo [x]'],
        { env: { ...process.env, ERL_EPMD_PORT: String(epmd.port) }, timeout: 15_000 },
        (err, stdout) => resolve({ failed: err !== null, stdout }),
      ),
    );
    expect(r).toEqual({ failed: true, stdout: '' });
  });
});
