import { describe, expect, it } from 'vitest';
import { Registry, type Process, type RegistryChange } from '@courier/core';
import { Tuple, atom, type Pid, type Term } from '@courier/term';
import { exitOf, inProcess, localNode } from './helpers.js';

/** Elixir's Registry semantics: unique and duplicate keys, lookup, dispatch, cleanup on exit, listeners. */

/** A process that runs `setup` then waits for `stop` (or crashes on `crash`), handing back its Process. */
function holder(node: ReturnType<typeof localNode>, setup: (self: Process) => void): Promise<Process> {
  return new Promise((resolve) => {
    node.spawn(async (self) => {
      setup(self);
      resolve(self);
      const m = await self.receive();
      if (m === atom('crash')) throw new Error('crash');
    });
  });
}

describe('Registry', () => {
  it('unique keys: one process per key; whereis, values, updateValue; the entry goes when the process exits', async () => {
    const node = localNode();
    const reg = new Registry<Term>(node, { keys: 'unique', name: 'names' });
    const a = await holder(node, (self) => expect(reg.register(self, 'worker:1', 10)).toEqual({ ok: true }));
    await inProcess(node, (self) => {
      expect(reg.register(self, 'worker:1', 20)).toEqual({ ok: false, alreadyRegistered: a.pid });
      expect(reg.updateValue(self, 'worker:1', (v) => (v as number) + 1)).toBeUndefined();
      return Promise.resolve();
    });
    expect(reg.lookup('worker:1')).toEqual([[a.pid, 10]]);
    expect(reg.whereis('worker:1')).toBe(a.pid);
    expect(reg.updateValue(a, 'worker:1', (v) => (v as number) + 1)).toEqual([11, 10]);
    expect(reg.values('worker:1', a.pid)).toEqual([11]);
    expect(reg.keysOf(a.pid)).toEqual(['worker:1']);
    const done = exitOf(node, a.pid);
    node.send(a.pid, atom('crash'));
    await done;
    expect(reg.lookup('worker:1')).toEqual([]);
    expect(reg.keysOf(a.pid)).toEqual([]);
    expect(reg.count()).toBe(0);
    // The key is free again.
    expect(await inProcess(node, (self) => Promise.resolve(reg.register(self, 'worker:1', 1)))).toEqual({ ok: true });
  });

  it('duplicate keys as pub/sub: every subscriber gets a published message; unregisterMatch and exits remove subscriptions', async () => {
    const node = localNode();
    const reg = new Registry<Term>(node, { keys: 'duplicate' });
    const topic = new Tuple([atom('topic'), 'prices']);
    const got = new Map<string, Term[]>();
    const subscriber = (id: string, tag: Term): Promise<Pid> =>
      new Promise((resolve) =>
        node.spawn(async (self) => {
          reg.register(self, topic, tag);
          reg.register(self, topic, atom('twice'));
          resolve(self.pid);
          for (;;) {
            const m = await self.receive();
            if (m === atom('stop')) return;
            if (m === atom('unsub_twice')) reg.unregisterMatch(self, topic, (v) => v === atom('twice'));
            else got.set(id, [...(got.get(id) ?? []), m]);
          }
        }),
      );
    const s1 = await subscriber('s1', atom('fast'));
    const s2 = await subscriber('s2', atom('slow'));
    expect(reg.countMatch(topic)).toBe(4);
    expect(reg.match(topic, (v) => v === atom('slow'))).toEqual([[s2, atom('slow')]]);
    node.send(s1, atom('unsub_twice'));
    await inProcess(node, async (self) => {
      while (reg.countMatch(topic) !== 3) await self.yield();
      expect(reg.publish(self, topic, 1)).toBe(3);
    });
    const seen: Pid[] = [];
    reg.dispatch(topic, (entries) => entries.forEach(([pid]) => seen.push(pid)));
    expect(seen).toEqual([s1, s2, s2]);
    const s2Done = exitOf(node, s2);
    node.send(s2, atom('stop'));
    await s2Done;
    expect(reg.lookup(topic)).toEqual([[s1, atom('fast')]]);
    await inProcess(node, async (self) => {
      while ((got.get('s1')?.length ?? 0) < 1) await self.yield();
    });
    expect(got.get('s1')).toEqual([1]);
    expect(got.get('s2')).toEqual([1, 1]);
  });

  it('listeners get {register, Name, Key, Pid, Value} and {unregister, Name, Key, Pid}; changes$ reports the same', async () => {
    const node = localNode();
    const inbox: Term[] = [];
    let listener: Pid | undefined;
    const listening = new Promise<void>((r) =>
      node.spawn(async (self) => {
        listener = self.pid;
        r();
        for (;;) inbox.push(await self.receive());
      }),
    );
    await listening;
    const reg = new Registry<Term>(node, { keys: 'unique', name: 'watched', listeners: [listener as Pid] });
    const changes: RegistryChange<Term>[] = [];
    reg.changes$.subscribe((c) => changes.push(c));
    const p = await holder(node, (self) => reg.register(self, atom('k'), 'v'));
    const done = exitOf(node, p.pid);
    node.send(p.pid, atom('stop'));
    await done;
    while (inbox.length < 2) await new Promise((r) => setTimeout(r, 1));
    expect(inbox).toEqual([new Tuple([atom('register'), atom('watched'), atom('k'), p.pid, 'v']), new Tuple([atom('unregister'), atom('watched'), atom('k'), p.pid])]);
    expect(changes.map((c) => c.type)).toEqual(['register', 'unregister']);
    reg.close();
  });
});
