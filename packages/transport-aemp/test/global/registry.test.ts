import { afterEach, describe, expect, it } from 'vitest';
import { atom } from '@courier/term';
import type { DbChange } from '@courier/transport-aemp';
import { portIdOfPid } from '@courier/transport-aemp';
import { Nodes, next, puppet, until } from '../nodes.js';

const nodes = new Nodes();
afterEach(() => nodes.stopAll());

/** Changes a db_mon listener saw, with a wait for the next one matching. */
function changes(): { seen: DbChange[]; listener: (c: DbChange) => void; wait: (pred: (c: DbChange) => boolean, what: string) => Promise<DbChange> } {
  const seen: DbChange[] = [];
  const waiters: Array<[(c: DbChange) => boolean, (c: DbChange) => void]> = [];
  return {
    seen,
    listener: (c) => {
      seen.push(c);
      for (const w of [...waiters]) if (w[0](c)) w[1](c);
    },
    wait: (pred, what) => {
      const hit = seen.find(pred);
      if (hit) return Promise.resolve(hit);
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`${what}: not within 3000 ms`)), 3000);
        waiters.push([pred, (c) => (clearTimeout(t), resolve(c))]);
      });
    },
  };
}

describe('global registry: a Courier seed and Courier slaves', () => {
  for (const framing of ['cbor', 'json'] as const) {
    it(`slaves register, query, subscribe and find each other through the seed (${framing})`, async () => {
      const seed = await nodes.make('seed', { global: true, framings: [framing], peers: {} });
      const opts = { seeds: [seed.addr], framings: [framing], peers: {} };
      const a = await nodes.make('slave-a', opts);
      const b = await nodes.make('slave-b', opts);
      await a.t.attached(3000);
      await b.t.attached(3000);
      expect([a.t.registry.master, b.t.registry.master]).toEqual(['seed', 'seed']);

      const mon = changes();
      const stop = b.t.registry.dbMon('workers', mon.listener);
      const worker = a.node.spawn(async (self) => {
        const m = (await self.receive()) as unknown[];
        self.send(m[0] as string, ['done', m[1] as string]);
      });
      a.t.registry.dbReg('workers', worker, 'v1');
      const id = portIdOfPid(worker);
      await mon.wait((c) => c.set.has(id), 'the registration reaches the subscriber');
      expect(await b.t.registry.dbKeys('workers')).toEqual([id]);
      expect(await b.t.registry.dbFamily('workers')).toEqual({ [id]: 'v1' });
      expect(await b.t.registry.dbValues('workers')).toEqual(['v1']);
      expect((await b.t.registry.find('slave-a'))?.[0]).toBe(a.addr);

      // b reaches a's worker by its port id alone: g_find at the seed, then a connection to a.
      const asker = puppet(b.node);
      asker.send(id, [portIdOfPid(asker.pid), 'job']);
      expect(await next(asker)).toEqual(['done', 'job']);
      expect(b.node.nodes().map(String).sort()).toEqual(['seed', 'slave-a']);

      // The registration goes when the process does.
      a.node.exitSignal(undefined, worker, atom('kill'));
      await mon.wait((c) => c.del.includes(id), 'the deletion reaches the subscriber');
      expect(await b.t.registry.dbKeys('workers')).toEqual([]);
      stop();
    });
  }

  it("a slave's registrations vanish with its connection to the seed", async () => {
    const seed = await nodes.make('seed2', { global: true, peers: {} });
    const a = await nodes.make('slave-c', { seeds: [seed.addr], peers: {} });
    await a.t.attached(3000);
    const mon = changes();
    seed.t.registry.dbMon('svc', mon.listener);
    a.t.registry.dbSet('svc', 'slave-c#x', 1);
    await mon.wait((c) => c.set.get('slave-c#x') === 1, 'set');
    await a.node.stop();
    await mon.wait((c) => c.del.includes('slave-c#x'), 'deleted on node-down');
    expect(await seed.t.registry.find('slave-c')).toBeNull();
  });

  it('re-attaches to another seed when the master goes, and both seeds share the database', async () => {
    const s1 = await nodes.make('seed-1', { global: true, peers: {} });
    const s2 = await nodes.make('seed-2', { global: true, seeds: [s1.addr], peers: {} });
    await s2.t.attached(3000);
    const a = await nodes.make('slave-d', { seeds: [s1.addr, s2.addr], peers: {} });
    await a.t.attached(3000);
    const first = a.t.registry.master;
    expect(['seed-1', 'seed-2']).toContain(first);
    a.t.registry.dbSet('fam', 'k', 'v');
    const other = first === 'seed-1' ? s2 : s1;
    const mon = changes();
    other.t.registry.dbMon('fam', mon.listener);
    await mon.wait((c) => c.set.get('k') === 'v', 'the other seed learns the entry from its peer seed');
    await (first === 'seed-1' ? s1 : s2).node.stop();
    await until(() => a.t.registry.master === other.node.name.name, 5000, 'the slave takes the other seed as master');
    // Its g_slave may reach the new master before or after that one sees the old one go.
    await until(
      async () => (await other.t.registry.dbKeys('fam')).includes('k') && !(await other.t.registry.find(first as string)),
      5000,
      'the entry stays, the old master is gone',
    );
    expect(await other.t.registry.dbKeys('fam')).toEqual(['k']);
  });
});
