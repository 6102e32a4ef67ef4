import { describe, expect, it } from 'vitest';
import { startSupervisor, type ChildSpec, type Process } from '@courier/core';
import { atom, atoms, type Pid } from '@courier/term';
import { exitOf, localNode } from './helpers.js';

/** A worker that registers itself and crashes when told to. */
function worker(id: string): ChildSpec {
  return {
    id,
    start: (sup: Process) =>
      sup.spawnLink(async (self) => {
        self.register(atom(id));
        for (;;) {
          const m = await self.receive();
          if (m === atom('crash')) throw new Error(`${id} crashed`);
          if (m === atom('quit')) return;
        }
      }),
  };
}

async function restarted(node: ReturnType<typeof localNode>, name: string, old: Pid | undefined, ms = 2000): Promise<Pid> {
  const deadline = Date.now() + ms;
  for (;;) {
    const now = node.whereis(atom(name));
    if (now !== undefined && now !== old) return now;
    if (Date.now() > deadline) throw new Error(`${name} not restarted`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

describe('supervisor', () => {
  it('one_for_one restarts only the crashed child', async () => {
    const node = localNode();
    await startSupervisor(node, { strategy: 'one_for_one', intensity: 5 }, [worker('a1'), worker('b1')]);
    const a = await restarted(node, 'a1', undefined);
    const b = await restarted(node, 'b1', undefined);
    node.send(atom('a1'), atom('crash'));
    const a2 = await restarted(node, 'a1', a);
    expect(a2).not.toBe(a);
    expect(node.whereis(atom('b1'))).toBe(b);
  });

  it('one_for_all restarts every child', async () => {
    const node = localNode();
    await startSupervisor(node, { strategy: 'one_for_all', intensity: 5 }, [worker('a2'), worker('b2')]);
    const a = await restarted(node, 'a2', undefined);
    const b = await restarted(node, 'b2', undefined);
    node.send(atom('a2'), atom('crash'));
    await restarted(node, 'a2', a);
    await restarted(node, 'b2', b);
  });

  it('rest_for_one restarts the crashed child and the ones after it', async () => {
    const node = localNode();
    await startSupervisor(node, { strategy: 'rest_for_one', intensity: 5 }, [worker('a3'), worker('b3'), worker('c3')]);
    const [a, b, c] = await Promise.all(['a3', 'b3', 'c3'].map((n) => restarted(node, n, undefined)));
    node.send(atom('b3'), atom('crash'));
    await restarted(node, 'b3', b);
    await restarted(node, 'c3', c);
    expect(node.whereis(atom('a3'))).toBe(a);
  });

  it('transient children are not restarted after a normal exit; temporary never', async () => {
    const node = localNode();
    await startSupervisor(node, { intensity: 5 }, [
      { ...worker('t1'), restart: 'transient' },
      { ...worker('t2'), restart: 'temporary' },
    ]);
    const t1 = await restarted(node, 't1', undefined);
    await restarted(node, 't2', undefined);
    node.send(atom('t1'), atom('quit'));
    node.send(atom('t2'), atom('crash'));
    await exitOf(node, t1);
    await new Promise((r) => setTimeout(r, 30));
    expect(node.whereis(atom('t1'))).toBeUndefined();
    expect(node.whereis(atom('t2'))).toBeUndefined();
  });

  it('too many restarts in the period shut the supervisor down', async () => {
    const node = localNode();
    const sup = await startSupervisor(node, { intensity: 2, period: 5 }, [worker('r1')]);
    const supDone = exitOf(node, sup, 3000);
    let prev: Pid | undefined;
    for (let i = 0; i < 3; i++) {
      prev = await restarted(node, 'r1', prev);
      node.send(atom('r1'), atom('crash'));
    }
    expect(await supDone).toBe(atoms.shutdown);
    expect(node.whereis(atom('r1'))).toBeUndefined();
  });

  it('children are stopped when the supervisor is killed', async () => {
    const node = localNode();
    const sup = await startSupervisor(node, {}, [worker('k1')]);
    const k = await restarted(node, 'k1', undefined);
    const kDone = exitOf(node, k);
    node.exitSignal(undefined, sup, atoms.kill);
    expect(await kDone).toBe(atoms.killed);
  });
});
