import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Tuple, atom, formatErlang, listItems, type Term } from '@courier/term';
import { HandshakeError } from '@courier/core';
import { HostKeyError, SshRpcClient, SshRpcError, fingerprint } from '@courier/transport-ssh';
import { Scratch, blob, erlSsh, makeKey, startErlDaemon, type ErlDaemon, type Key } from './harness.js';

/**
 * Courier as an sshrpc client of Erlang/OTP's own ssh daemon (sshrpc_server.erl): both request
 * forms answered in their shape, errors, 1 MiB answers, pipelined ids answered out of order, the
 * other extensions, and the refusals (unknown host key, a key claiming another name).
 */
describe('Courier → Erlang ssh daemon (sshrpc@k2r.org)', () => {
  const s = new Scratch();
  const host = makeKey('erlang-host');
  const me = makeKey('courier@127.0.0.1');
  let d: ErlDaemon | undefined;
  let c: SshRpcClient | undefined;
  const client = (): SshRpcClient => c as SshRpcClient;
  /** OTP sends small-integer lists as STRING_EXT (a JS string): compare as lists. */
  const list = (t: Term): Term[] | undefined => listItems(t);
  const pins = () => ({ [`[127.0.0.1]:${d?.port}`]: fingerprint(blob(host)) });

  beforeAll(async () => {
    if (!erlSsh.available) return;
    d = await startErlDaemon(s, host, [me]);
    c = await SshRpcClient.connect({ host: '127.0.0.1', port: d.port, user: me.name, privateKey: me.privateKey, fingerprints: pins(), channels: 2 });
  }, 60_000);
  afterAll(async () => {
    c?.close();
    await d?.erl.stop();
    s.cleanup();
  });

  it('the code form {mfa, {M, F, A}} is answered {answer, {R, 0}}', async (ctx) => {
    erlSsh.require(ctx);
    expect(list(await client().mfa('lists', 'seq', [1, 5]))).toEqual([1, 2, 3, 4, 5]);
    const raw = await client().raw(new Tuple([atom('mfa'), new Tuple([atom('lists'), atom('reverse'), [[1, 2, 3]]])]));
    expect(formatErlang(raw)).toBe('{answer,{[3,2,1],0}}');
  });

  it('the slide form {mfa, M, F, A} is answered {answer, R}', async (ctx) => {
    erlSsh.require(ctx);
    expect(list(await client().mfa('lists', 'seq', [1, 3], 'flat'))).toEqual([1, 2, 3]);
    const raw = await client().raw(new Tuple([atom('mfa'), atom('lists'), atom('reverse'), [[1, 2, 3]]]));
    expect(formatErlang(raw)).toBe('{answer,[3,2,1]}');
  });

  it('errors: not allowed, a crash in either form, a request it does not know', async (ctx) => {
    erlSsh.require(ctx);
    await expect(client().mfa('os', 'cmd', ['id'])).rejects.toMatchObject({ code: 'NOT_ALLOWED' });
    await expect(client().call('os', 'cmd', ['id'])).rejects.toMatchObject({ code: 'NOT_ALLOWED' });
    const crash = await client()
      .mfa('lists', 'nth', [0, []])
      .catch((e: unknown) => e);
    expect(crash).toBeInstanceOf(SshRpcError);
    expect((crash as SshRpcError).code).toBe('BADRPC');
    expect(formatErlang((crash as SshRpcError).reason)).toMatch(/^\{'EXIT',\{function_clause,/);
    const flat = await client()
      .call('lists', 'nth', [0, []])
      .catch((e: unknown) => e);
    expect(formatErlang((flat as SshRpcError).reason)).toBe('{badrpc,{error,function_clause}}');
    expect(formatErlang(await client().raw(new Tuple([atom('hello')])))).toBe('{error,{bad_request,{hello}}}');
  });

  it('a 1 MiB answer arrives whole', async (ctx) => {
    erlSsh.require(ctx);
    const b = (await client().mfa('sshrpc_server', 'big', [1024 * 1024])) as Uint8Array;
    expect(b.length).toBe(1024 * 1024);
    expect(b.every((x) => x === 7)).toBe(true);
  });

  it('pipelined calls with ids are answered out of order, each to its caller', async (ctx) => {
    erlSsh.require(ctx);
    const order: string[] = [];
    const slow = client()
      .call('sshrpc_server', 'slow', [300, atom('slow')])
      .then((r) => order.push(String(r)));
    const fast = Array.from({ length: 50 }, (_, i) =>
      client()
        .call('sshrpc_server', 'slow', [0, i])
        .then((r) => (order.push(String(r)), r)),
    );
    expect(await Promise.all(fast)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    await slow;
    expect(order.at(-1)).toBe('slow');
  });

  it('cast, send and whoami (the login name is the identity)', async (ctx) => {
    erlSsh.require(ctx);
    client().send('sshrpc_sink', new Tuple([atom('hello'), 42]));
    await d?.erl.stdout.waitFor('SINK {hello,42}', 10_000);
    client().cast('sshrpc_server', 'slow', [0, 1]);
    expect(formatErlang(await client().whoami())).toBe(`[{user,<<"${me.name}">>}]`);
  });

  it('refuses an unknown host key, printing its fingerprint and the line that trusts it', async (ctx) => {
    erlSsh.require(ctx);
    const err = await SshRpcClient.connect({ host: '127.0.0.1', port: d?.port as number, user: me.name, privateKey: me.privateKey }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HostKeyError);
    expect((err as HostKeyError).code).toBe('UNKNOWN_HOST_KEY');
    expect((err as Error).message).toContain(fingerprint(blob(host)));
    expect((err as Error).message).toContain(`[127.0.0.1]:${d?.port} ${host.publicLine.split(' ').slice(0, 2).join(' ')}`);
    expect(list(await client().call('lists', 'seq', [1, 2]))).toEqual([1, 2]);
  });

  it("refuses a key that claims another node's name (the binding key_cb)", async (ctx) => {
    erlSsh.require(ctx);
    const err = await SshRpcClient.connect({ host: '127.0.0.1', port: d?.port as number, user: 'mallory@127.0.0.1', privateKey: me.privateKey, fingerprints: pins() }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(HandshakeError);
    expect((err as HandshakeError).code).toBe('NOT_ALLOWED');
    const stranger: Key = makeKey('stranger@127.0.0.1');
    const err2 = await SshRpcClient.connect({ host: '127.0.0.1', port: d?.port as number, user: stranger.name, privateKey: stranger.privateKey, fingerprints: pins() }).catch(
      (e: unknown) => e,
    );
    expect((err2 as HandshakeError).code).toBe('NOT_ALLOWED');
    expect(list(await client().call('lists', 'seq', [1, 2]))).toEqual([1, 2]);
  });
});
