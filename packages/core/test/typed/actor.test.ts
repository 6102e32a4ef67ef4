import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  TIMEOUT,
  actor,
  call,
  cast,
  is,
  isTypedProcess,
  match,
  noreply,
  reply,
  serverRef,
  spawnTyped,
  startServer,
  startTypedServer,
  stopped,
  typedRef,
  type Node,
  type TypedRef,
  type Value,
} from '@courier/core';
import { Encoder, ErlMap, Pid, Tuple, atom, atoms } from '@courier/term';
import { exitOf, inProcess, localNode } from '../runtime/helpers.js';

type Counter = { type: 'inc'; by: number } | { type: 'get'; replyTo: Pid } | { type: 'stop' };

/** A counter actor: its replies are plain numbers sent to a typed ref of the asker. */
function counter(node: Node): TypedRef<Counter> {
  return spawnTyped<Counter>(
    node,
    actor(0, (n, msg, self) =>
      match(msg, {
        inc: (m) => n + m.by,
        get: (m) => {
          self.send(typedRef<number>(self.node, m.replyTo), n);
          return n;
        },
        stop: () => stopped,
      }),
    ),
  );
}

const formatTimeout = (r: unknown): string => (r === TIMEOUT ? 'timeout' : 'a message');

afterEach(() => {
  vi.restoreAllMocks();
});

describe('typed actors on one node', () => {
  it('send, actor state, match and a typed reply', async () => {
    const node = localNode();
    const c = counter(node);
    c.send({ type: 'inc', by: 2 });
    c.send({ type: 'inc', by: 40 });
    const got = await inProcess(node, async (self) => {
      c.send({ type: 'get', replyTo: self.pid });
      return self.receive();
    });
    expect(got).toBe(42);
    c.send({ type: 'stop' });
    expect(await exitOf(node, c.pid as Pid)).toBe(atom('normal'));
  });

  it('local typed → typed messages are not mapped or encoded: the receiver gets the very object sent', async () => {
    const node = localNode();
    const writeTerm = vi.spyOn(Encoder.prototype, 'writeTerm');
    type Msg = { type: 'data'; payload: { list: number[]; when: string } };
    const seen: Msg[] = [];
    const sink = spawnTyped<Msg>(node, async (self) => {
      seen.push(await self.receive(), await self.receive());
    });
    const msg: Msg = { type: 'data', payload: { list: [1, 2], when: 'now' } };
    // Even a value the mapping refuses passes untouched between typed processes (it is never mapped).
    const odd = { type: 'data', payload: { list: [1], when: 'x', f: () => 1 } } as Msg;
    spawnTyped<never>(node, (self) => {
      self.send(sink, msg);
      sink.send(odd);
    });
    await exitOf(node, sink.pid);
    expect(seen[0]).toBe(msg);
    expect(seen[1]).toBe(odd);
    expect(writeTerm).not.toHaveBeenCalled();
    expect(isTypedProcess(node, sink.pid)).toBe(false); // gone
  });

  it('a typed send to a term-level process carries the mapped term (strings as binaries, objects as maps)', async () => {
    const node = localNode();
    const got = await inProcess(node, async (self) => {
      typedRef<{ name: string; tags: string[] }>(node, self.pid).send({ name: 'x', tags: ['a'] });
      return self.receive();
    });
    expect(String(got)).toBe('#{<<"name">> => <<"x">>,<<"tags">> => [<<"a">>]}');
  });

  it('a bad value to a term-level process is refused at the send with UsageError BADARG', async () => {
    const node = localNode();
    await inProcess(node, (self) => {
      const r = typedRef<Record<string, Value>>(node, self.pid);
      expect(() => r.send({ at: new Date() as unknown as Value })).toThrow(expect.objectContaining({ name: 'UsageError', code: 'BADARG' }) as Error);
      expect(self.tryReceive()).toBe(TIMEOUT);
      return Promise.resolve();
    });
  });

  it('a term-level sender reaches a typed actor: its term is read with the mapping', async () => {
    const node = localNode();
    let got: unknown;
    const t = spawnTyped<{ name: string } | Tuple>(node, async (self) => {
      got = await self.receive();
    });
    node.send(t.pid, new Tuple([atom('hello'), new TextEncoder().encode('wörld')]));
    await exitOf(node, t.pid);
    expect(got).toBeInstanceOf(Tuple);
    expect((got as Tuple).elements).toEqual([atom('hello'), 'wörld']);
  });

  it('selective receive with a guard narrows and leaves other messages queued; a timeout gives TIMEOUT', async () => {
    const node = localNode();
    const order: string[] = [];
    const t = spawnTyped<Counter>(node, async (self) => {
      const g = await self.receive(is.type('get'));
      order.push(g.type);
      order.push((await self.receive()).type);
      order.push(formatTimeout(await self.receive(is.type('stop'), 20)));
    });
    t.send({ type: 'inc', by: 1 });
    t.send({ type: 'get', replyTo: t.pid });
    await exitOf(node, t.pid);
    expect(order).toEqual(['get', 'inc', 'timeout']);
  });

  it('a name registered by spawnTyped is typed too', () => {
    const node = localNode();
    spawnTyped<string>(node, (self) => self.receive(), { name: 'named' });
    expect(isTypedProcess(node, atom('named'))).toBe(true);
    expect(isTypedProcess(node, { name: 'named', node: node.name })).toBe(true);
    expect(isTypedProcess(node, atom('nobody'))).toBe(false);
  });
});

type KvCall = { type: 'get'; key: string } | { type: 'put'; key: string; value: number } | { type: 'later' };
type KvCast = { type: 'clear' };

function startKv(node: Node, name?: string) {
  return startTypedServer<KvCall, number | null, KvCast, Map<string, number>>(
    node,
    {
      init: () => new Map<string, number>(),
      handleCall(req, state, from) {
        if (req.type === 'get') return { reply: state.get(req.key) ?? null, state };
        if (req.type === 'put') {
          state.set(req.key, req.value);
          return { reply: req.value, state };
        }
        setTimeout(() => from.reply(-1), 5);
        return { noreply: true, state };
      },
      handleCast: (_msg, state) => (state.clear(), state),
    },
    undefined,
    { name },
  );
}

describe('typed servers', () => {
  it('call with a typed reply, cast, deferred reply; outside and inside a process', async () => {
    const node = localNode();
    const kv = await startKv(node);
    expect(await kv.call({ type: 'put', key: 'a', value: 1 })).toBe(1);
    expect(await kv.call({ type: 'get', key: 'a' })).toBe(1);
    expect(await kv.call({ type: 'later' })).toBe(-1);
    kv.cast({ type: 'clear' });
    const inside = await inProcess(node, (self) => kv.call({ type: 'get', key: 'a' }, { from: self }));
    expect(inside).toBe(null);
  });

  it('a local typed call passes the request and reply unmapped', async () => {
    const node = localNode();
    const writeTerm = vi.spyOn(Encoder.prototype, 'writeTerm');
    const req = { type: 'echo' as const, big: { nested: [1, 2, 3] } };
    const srv = await startTypedServer<typeof req, typeof req, never, null>(node, { init: () => null, handleCall: (r, s) => ({ reply: r, state: s }) }, undefined);
    expect(await srv.call(req)).toBe(req);
    expect(writeTerm).not.toHaveBeenCalled();
  });

  it('a term-level gen_server call reaches a typed server and gets a mapped reply', async () => {
    const node = localNode();
    await startKv(node, 'kv');
    const b = (s: string): Uint8Array => new TextEncoder().encode(s);
    const r = await inProcess(node, async (self) => {
      const put = new ErlMap([
        [b('type'), b('put')],
        [b('key'), b('k')],
        [b('value'), 7],
      ]);
      const get = (key: string): ErlMap =>
        new ErlMap([
          [b('type'), b('get')],
          [b('key'), b(key)],
        ]);
      return [await call(self, atom('kv'), put), await call(self, atom('kv'), get('k')), await call(self, atom('kv'), get('none'))];
    });
    // null goes back as the atom undefined.
    expect(r).toEqual([7, 7, atoms.undefined]);
  });

  it('typed call timeouts throw CallError TIMEOUT; a dead server NOPROC', async () => {
    const node = localNode();
    const slow = await startTypedServer<'slow', 'never', never, null>(node, { init: () => null, handleCall: (_r, s) => ({ noreply: true, state: s }) }, undefined);
    await expect(slow.call('slow', { timeoutMs: 20 })).rejects.toMatchObject({ name: 'CallError', code: 'TIMEOUT' });
    const gone = serverRef<string, string>(node, atom('nobody_here'));
    await expect(gone.call('x', { timeoutMs: 200 })).rejects.toMatchObject({ code: 'NOPROC' });
  });

  it('a typed ref to a term-level gen_server maps the request and reads the reply', async () => {
    const node = localNode();
    const pid = await startServer<null, null>(
      node,
      {
        init: () => null,
        handleCall: (req, _from, s) => reply(new Tuple([atom('ok'), req]), s),
        handleCast: (_m, s) => noreply(s),
      },
      null,
    );
    const ref = serverRef<{ q: string }, Tuple>(node, pid);
    const r = await ref.call({ q: 'x' });
    expect(String(r)).toBe('{ok,#{q => "x"}}');
    cast(node, pid, 1);
  });
});
