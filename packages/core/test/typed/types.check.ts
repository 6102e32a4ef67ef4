import { expectTypeOf } from 'vitest';
import {
  Node,
  TIMEOUT,
  is,
  match,
  serverRef,
  spawnTyped,
  startTypedServer,
  typedAtom,
  typedRef,
  typedTuple,
  type ServerRef,
  type TAtom,
  type TTuple,
  type TypedProcess,
  type TypedRef,
} from '@courier/core';
import { Pid, atom } from '@courier/term';

/**
 * Type-level checks of the typed API: tsc checks this file (tsconfig.lint.json), so every
 * `expectTypeOf` must hold and every `@ts-expect-error` line must be an error for the project to
 * compile; types.test.ts also compiles it with the directives removed and checks that each such
 * line is then an error. Nothing here runs (runtime behaviour is in actor.test.ts).
 */
type Counter = { type: 'inc'; by: number } | { type: 'get'; replyTo: Pid } | { type: 'reset' };
interface Greeting {
  type: 'hello';
  name: string;
  tags?: string[];
}

declare const node: Node;
declare const self: TypedProcess<Counter>;

export const checks: Record<string, () => unknown> = {
  'a ref accepts its messages and refuses others': () => {
    const c = spawnTyped<Counter>(node, async (me) => {
      const m = await me.receive();
      expectTypeOf(m).toEqualTypeOf<Counter>();
    });
    expectTypeOf(c).toEqualTypeOf<TypedRef<Counter, Pid>>();
    expectTypeOf(c.pid).toEqualTypeOf<Pid>();
    c.send({ type: 'inc', by: 1 });
    c.send({ type: 'reset' });
    // @ts-expect-error a field of the wrong type
    c.send({ type: 'inc', by: '1' });
    // @ts-expect-error a tag the actor does not accept
    c.send({ type: 'dec', by: 1 });
    // @ts-expect-error a missing field
    c.send({ type: 'inc' });
    // @ts-expect-error a plain string is not a Counter
    self.send(c, 'inc');
    self.send(c, { type: 'get', replyTo: self.pid });
  },

  'interfaces are messages too; a ref that accepts more stands in for one that accepts less': () => {
    const g = spawnTyped<Greeting | Counter>(node, () => undefined);
    const onlyGreeting: TypedRef<Greeting> = g;
    onlyGreeting.send({ type: 'hello', name: 'x', tags: ['a'] });
    const h = spawnTyped<Greeting>(node, () => undefined);
    // @ts-expect-error a ref of Greeting cannot take Counter messages
    const wider: TypedRef<Greeting | Counter> = h;
    expectTypeOf(wider).not.toBeAny();
  },

  'message types with no Erlang form do not compile': () => {
    // @ts-expect-error a Date has no Erlang form
    spawnTyped<{ type: 'at'; when: Date }>(node, () => undefined);
    // @ts-expect-error nor has a function
    spawnTyped<{ type: 'cb'; f: () => void }>(node, () => undefined);
    // @ts-expect-error nor a Map
    spawnTyped<Map<string, number>>(node, () => undefined);
    // @ts-expect-error nor a symbol
    spawnTyped<{ s: symbol }>(node, () => undefined);
    // @ts-expect-error a TypedRef inside a message (send its pid)
    spawnTyped<{ replyTo: TypedRef<number> }>(node, () => undefined);
    spawnTyped<{ bytes: Uint8Array; n: bigint; opt?: string; nil: null; pid: Pid; ok: TAtom<'ok'> }>(node, () => undefined);
  },

  'selective receive narrows the union; match is exhaustive': async () => {
    const inc = await self.receive(is.type('inc'));
    expectTypeOf(inc).toEqualTypeOf<{ type: 'inc'; by: number }>();
    const maybe = await self.receive(is.type('reset'), 100);
    expectTypeOf(maybe).toEqualTypeOf<{ type: 'reset' } | typeof TIMEOUT>();
    const m = await self.receive();
    const n = match(m, { inc: (x) => x.by, get: () => 0, reset: () => -1 });
    expectTypeOf(n).toEqualTypeOf<number>();
    // @ts-expect-error the reset case is missing
    match(m, { inc: (x) => x.by, get: () => 0 });
    match(m, { inc: (x) => x.by, _: () => 0 });
    // @ts-expect-error get has no field by
    match(m, { inc: (x) => x.by, get: (x) => void x.by, reset: () => 0 });
  },

  'typed servers: call and cast are checked, the reply is typed': async () => {
    const kv = await startTypedServer<{ get: string } | { put: [string, number] }, number | null, { clear: true }, Map<string, number>>(
      node,
      { init: () => new Map(), handleCall: (_r, s) => ({ reply: null, state: s }) },
      undefined,
    );
    expectTypeOf(kv).toEqualTypeOf<ServerRef<{ get: string } | { put: [string, number] }, number | null, { clear: true }, Pid>>();
    // The pid of a server just started is there; a ref made from a name may have none.
    expectTypeOf(kv.pid).toEqualTypeOf<Pid>();
    expectTypeOf(serverRef<string, string>(node, atom('kv')).pid).toEqualTypeOf<Pid | undefined>();
    // @ts-expect-error a started server's ref is still checked against the requests it takes
    const wider: ServerRef<{ get: string } | { del: string }, number | null> = kv;
    expectTypeOf(wider).not.toBeAny();
    const v = await kv.call({ get: 'a' }, { timeoutMs: 100 });
    expectTypeOf(v).toEqualTypeOf<number | null>();
    kv.cast({ clear: true });
    // @ts-expect-error not a request of this server
    await kv.call({ del: 'a' });
    // @ts-expect-error a cast is not a call
    await kv.call({ clear: true });
    // @ts-expect-error the wrong option name
    await kv.call({ get: 'a' }, { timeout: 100 });
    // @ts-expect-error the reply is not a string
    const s: string = await self.call(kv, { get: 'a' });
    expectTypeOf(s).toBeString();
  },

  'a server whose reply type has no Erlang form does not compile': () => {
    // @ts-expect-error Reply = Date
    void startTypedServer<string, Date, never, null>(node, { init: () => null }, undefined);
  },

  'Erlang replies: {ok, V} as a typed tuple, checked by guards': async () => {
    type Reply = TTuple<[TAtom<'ok'>, number]> | TTuple<[TAtom<'error'>, TAtom]>;
    const erl = serverRef<TTuple<[TAtom<'get'>, string]>, Reply>(node, { name: 'kv', node: 'erl@host' });
    const r = await erl.call(typedTuple(typedAtom('get'), 'k'));
    if (is.tuple(is.atom('ok'), is.number)(r)) expectTypeOf(r.elements[1]).toEqualTypeOf<number>();
    // @ts-expect-error {get, K} wants a binary key, not a number
    await erl.call(typedTuple(typedAtom('get'), 1));
    // @ts-expect-error an untyped atom is not TAtom<'get'>
    await erl.call(typedTuple(atom('get'), 'k'));
    const ok = is.tuple(is.atom('ok'), is.array(is.string));
    const x: unknown = r;
    if (ok(x)) expectTypeOf(x.elements[1]).toMatchTypeOf<string[]>();
    // @ts-expect-error a typed ref to an Erlang process checks its message type too
    typedRef<{ at: Date }>(node, atom('echo'));
    const raw = typedRef<TTuple<[TAtom<'ping'>, Pid]>>(node, atom('echo'));
    raw.send(typedTuple(typedAtom('ping'), self.pid));
  },
};
