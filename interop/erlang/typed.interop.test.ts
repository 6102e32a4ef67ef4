import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { is, rpcCall, serverRef, spawnTyped, startTypedServer, typedAtom, typedRef, typedTuple, type Node, type Process, type TAtom, type TTuple, type Value } from '@courier/core';
import { ErlMap, ImproperList, Tuple, atom, formatErlang, type Term } from '@courier/term';
import { compileErl, randomCookie, type ErlNode } from '@courier/testkit';
import { courierNode, erlNode, erlPeer, inProcess, startEpmd, tools, type Epmd } from './harness.js';

/**
 * Typed actors against a real OTP 25 node: what a typed actor sends arrives as the terms
 * docs/typed.md lists (compared with `=:=` in Erlang, courier_typed.erl), what Erlang sends a
 * typed actor is read with the same mapping, an Erlang gen_server's `{ok, V}` reply is typed, and
 * Erlang `gen_server:call`s a typed Courier server.
 */
let epmd: Epmd;
let e: ErlNode;
let c: Node;
const bin = (s: string): Uint8Array => new TextEncoder().encode(s);

beforeAll(async () => {
  if (!erlPeer.available) return;
  epmd = await startEpmd();
  const cookie = randomCookie();
  const fx = await compileErl([fileURLToPath(new URL('./fixtures/courier_typed.erl', import.meta.url))], tools);
  e = await erlNode(epmd, cookie, { args: ['-pa', fx.dir] });
  c = await courierNode(epmd, cookie);
}, 40_000);

afterAll(async () => {
  await c?.stop();
  await e?.stop();
  await epmd?.stop();
});

/** erpc:call courier_typed:F(Args) on the erl node. */
function erl(f: string, args: Term[]): Promise<Term> {
  return inProcess(c, (self: Process) => rpcCall(self, e.node as string, 'courier_typed', f, args, 10_000));
}

describe('typed actors and a real erl', () => {
  it('typed messages arrive as the documented terms (binary keys and atom keys)', async (ctx) => {
    erlPeer.require(ctx);
    await erl('start_keeper', [atom('typed_keeper')]);
    type Msg = Record<string, Value | undefined> | TTuple<[TAtom<'point'>, number, number]>;
    const keeper = typedRef<Msg>(c, { name: 'typed_keeper', node: e.node as string });
    keeper.send({
      name: 'héllo',
      n: 1,
      f: 1.5,
      big: 2n ** 70n,
      ok: true,
      nil: null,
      list: [1, 'a'],
      bytes: new Uint8Array([255, 0]),
      tag: atom('x'),
      nested: { k: [] },
      skipped: undefined,
    });
    keeper.send(typedTuple(typedAtom('point'), 1, 2.5));
    typedRef<{ name: string }>(c, { name: 'typed_keeper', node: e.node as string }, { keys: 'atom' }).send({ name: 'x' });
    const want =
      '[#{<<"name">> => <<"héllo"/utf8>>, <<"n">> => 1, <<"f">> => 1.5, <<"big">> => 1180591620717411303424, <<"ok">> => true,' +
      ' <<"nil">> => undefined, <<"list">> => [1, <<"a">>], <<"bytes">> => {bytes, <<255, 0>>}, <<"tag">> => x, <<"nested">> => #{<<"k">> => []}},' +
      ' {point, 1, 2.5}, #{name => <<"x">>}]';
    const r = await erl('kept_equals', [atom('typed_keeper'), bin(want), 5000]);
    expect(formatErlang(r)).toBe('true');
  });

  it('what erl sends a typed actor is read with the mapping', async (ctx) => {
    erlPeer.require(ctx);
    const got = new Promise<unknown>((resolve) => {
      spawnTyped<Tuple>(c, async (self) => resolve(await self.receive()), { name: 'typed_inbox' });
    });
    const text = '{hello, <<"wörld"/utf8>>, "abc", #{<<"k">> => [1.0, <<255>>, {bytes, <<"raw">>}]}, #{a => 1}, [a | b], null}';
    await erl('send_text', [new Tuple([atom('typed_inbox'), c.name]), bin(text)]);
    const t = (await got) as Tuple;
    const [hello, world, abc, obj, atomKeys, improper, nul] = t.elements;
    expect(hello).toBe(atom('hello'));
    expect(world).toBe('wörld');
    expect(abc).toEqual([97, 98, 99]);
    expect(obj).toEqual({ k: [1, new Uint8Array([255]), bin('raw')] });
    expect(atomKeys).toBeInstanceOf(ErlMap);
    expect(improper).toEqual(new ImproperList([atom('a')], atom('b')));
    expect(nul).toBe(atom('null'));
  });

  it("an Erlang gen_server's {ok, V} replies are typed", async (ctx) => {
    erlPeer.require(ctx);
    await erl('start_kv', [atom('typed_erl_kv')]);
    type Req = TTuple<[TAtom<'get'>, string]> | TTuple<[TAtom<'put'>, string, string | number]>;
    type Reply = TAtom<'ok'> | TTuple<[TAtom<'ok'>, string | number]> | TTuple<[TAtom<'error'>, TAtom<'not_found'>]>;
    const kv = serverRef<Req, Reply>(c, { name: 'typed_erl_kv', node: e.node as string });
    expect(await kv.call(typedTuple(typedAtom('put'), 'k', 'vä'))).toBe(atom('ok'));
    const found = await kv.call(typedTuple(typedAtom('get'), 'k'), { timeoutMs: 5000 });
    const okString = is.tuple(is.atom('ok'), is.string);
    expect(okString(found) && found.elements[1]).toBe('vä');
    const missing = await kv.call(typedTuple(typedAtom('get'), 'nope'));
    expect(is.tuple(is.atom('error'), is.atom('not_found'))(missing)).toBe(true);
    // A decoder turns the reply into what the caller wants, checked at run time.
    const decoded = serverRef<Req, string>(
      c,
      { name: 'typed_erl_kv', node: e.node as string },
      {
        decode: (v) => {
          if (okString(v)) return v.elements[1];
          throw new Error(`unexpected reply ${formatErlang(v as Term)}`);
        },
      },
    );
    expect(await decoded.call(typedTuple(typedAtom('get'), 'k'))).toBe('vä');
  });

  it('erl gen_server:calls a typed Courier server', async (ctx) => {
    erlPeer.require(ctx);
    type Call = { type: 'put'; key: string; value: number } | { type: 'get'; key: string };
    await startTypedServer<Call, number | null, never, Map<string, number>>(
      c,
      {
        init: () => new Map(),
        handleCall: (req, s) => (req.type === 'put' ? { reply: s.set(req.key, req.value).get(req.key) ?? null, state: s } : { reply: s.get(req.key) ?? null, state: s }),
      },
      undefined,
      { name: 'typed_kv' },
    );
    const dest = new Tuple([atom('typed_kv'), c.name]);
    const ask = (req: string, want: string): Promise<string> => erl('call_expect', [dest, bin(req), bin(want), 5000]).then((r) => formatErlang(r));
    expect(await ask('#{<<"type">> => <<"put">>, <<"key">> => <<"k">>, <<"value">> => 7}', '7')).toBe('true');
    expect(await ask('#{<<"type">> => <<"get">>, <<"key">> => <<"k">>}', '7')).toBe('true');
    expect(await ask('#{<<"type">> => <<"get">>, <<"key">> => <<"other">>}', 'undefined')).toBe('true');
  });
});
