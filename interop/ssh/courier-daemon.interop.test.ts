import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatErlang } from '@courier/term';
import { Node } from '@courier/core';
import { captureLog } from '@courier/testkit';
import { AuthorizedKeys, sshRpc, type SshTransport } from '@courier/transport-ssh';
import { startEcho } from '../../examples/echo-node/echo-module.js';
import { Scratch, erlSsh, makeKey, runErlClient } from './harness.js';

/**
 * Erlang/OTP's ssh client (sshrpc_client.erl) calling a Courier node's daemon: both request
 * forms answered in their own shape, the extensions, errors; and the daemon refusing Erlang
 * clients with an unknown key or a key that claims another node's name, logged, while the
 * authorized client carries on.
 */
describe('Erlang ssh client → Courier daemon (sshrpc@k2r.org)', () => {
  const s = new Scratch();
  const host = makeKey('echo@127.0.0.1');
  const erlKey = makeKey('erlclient@127.0.0.1');
  const log = captureLog();
  let node: Node | undefined;
  let t: SshTransport | undefined;
  const port = (): number => t?.port as number;

  beforeAll(async () => {
    t = sshRpc({ hostKey: host.privateKey, authorizedKeys: AuthorizedKeys.parse(erlKey.publicLine), listen: { host: '127.0.0.1', port: 0 }, log: log.logger });
    node = new Node({ name: 'echo@127.0.0.1', transports: [t] });
    startEcho(node);
    await node.start();
  });
  afterAll(async () => {
    await node?.stop();
    s.cleanup();
  });

  it('answers both request forms in their own shape, ids, errors, whoami', async (ctx) => {
    erlSsh.require(ctx);
    const r = await runErlClient(s, port(), erlKey, erlKey.name, host, [
      '{mfa, {courier_echo, echo, [hello]}}',
      '{mfa, courier_echo, add, [1, 2]}',
      '{call, 7, courier_echo, add, [2, 3]}',
      '{mfa, {os, cmd, ["id"]}}',
      '{mfa, os, cmd, ["id"]}',
      '{mfa, courier_echo, crash, [boom]}',
      '{mfa, {courier_echo, crash, [boom]}}',
      '{whoami}',
      '{hello}',
      '{mfa, {courier_echo, echo, [<<"bin">>, 3.5, 1180591620717411303424, #{a => 1}]}}',
      '{mfa, {courier_echo, echo, [[<<"bin">>, 3.5, 1180591620717411303424, #{a => 1}]]}}',
    ]);
    expect(r.error).toBeUndefined();
    expect(r.answers.map(formatErlang)).toEqual([
      '{answer,{hello,0}}',
      '{answer,3}',
      '{reply,7,{answer,5}}',
      '{answer,{{exec_error,{not_allowed,{os,cmd,1}}},-1}}',
      '{error,{not_allowed,{os,cmd,1}}}',
      '{error,{badrpc,{error,boom}}}',
      "{answer,{{exec_badrpc,{'EXIT',{boom,[]}}},-1}}",
      `{answer,[{user,<<"${erlKey.name}">>},{node,'echo@127.0.0.1'}]}`,
      '{error,{bad_request,{hello}}}',
      // echo/4 is not exposed (echo/1 is): the default allow-list refuses it before running.
      '{answer,{{exec_error,{not_allowed,{courier_echo,echo,4}}},-1}}',
      '{answer,{[<<"bin">>,3.5,1180591620717411303424,#{a => 1}],0}}',
    ]);
  });

  it('refuses an Erlang client with an unknown key, logged; the authorized client carries on', async (ctx) => {
    erlSsh.require(ctx);
    const stranger = makeKey('stranger@127.0.0.1');
    const before = log.find('warn', 'not in the authorized keys').length;
    const r = await runErlClient(s, port(), stranger, stranger.name, host, ['{whoami}'], 'stranger');
    expect(r.error).toMatch(/CONNECT_ERROR/);
    expect(log.find('warn', 'not in the authorized keys').length).toBeGreaterThan(before);
    const ok = await runErlClient(s, port(), erlKey, erlKey.name, host, ['{mfa, courier_echo, echo, [still_here]}']);
    expect(ok.answers.map(formatErlang)).toEqual(['{answer,still_here}']);
  });

  it("refuses a key that claims another node's name (the user name is the identity), logged", async (ctx) => {
    erlSsh.require(ctx);
    const r = await runErlClient(s, port(), erlKey, 'mallory@127.0.0.1', host, ['{whoami}'], 'mallory');
    expect(r.error).toMatch(/CONNECT_ERROR/);
    const warned = log.find('warn', 'claims another node name');
    expect(warned.some((e) => e.fields['user'] === 'mallory@127.0.0.1' && e.fields['code'] === 'NAME_MISMATCH')).toBe(true);
  });

  it('an Erlang client refuses a Courier daemon whose host key it does not know', async (ctx) => {
    erlSsh.require(ctx);
    const r = await runErlClient(s, port(), erlKey, erlKey.name, undefined, ['{whoami}'], 'nohosts');
    expect(r.error).toMatch(/CONNECT_ERROR/);
  });
});
