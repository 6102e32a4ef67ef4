import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  StartError,
  SupervisorError,
  countChildren,
  deleteChild,
  restartChild,
  startChild,
  startSupervisor,
  terminateChild,
  whichChildren,
  type ChildSpec,
  type Node,
  type Process,
} from '@courier/core';
import { Tuple, atom, atoms, formatErlang, type Pid, type Term } from '@courier/term';
import { exitOf, inProcess, localNode } from './helpers.js';

/**
 * Dynamic children of a static supervisor, failed starts and restart intensity, significant
 * children: supervisor.erl's documented semantics (OTP 25 supervisor(3)).
 */

/** A worker that crashes on `crash`, exits normally on `quit`; its exits are recorded in `exits`. */
function worker(id: string, extra: Partial<ChildSpec> = {}, exits?: Map<string, Term>): ChildSpec {
  return {
    id,
    start: (sup: Process) =>
      sup.spawnLink(async (self) => {
        self.register(atom(id));
        self.trapExit = exits !== undefined;
        for (;;) {
          const m = await self.receive();
          if (m === atom('crash')) throw new Error(`${id} crashed`);
          if (m === atom('quit')) return;
          if (m instanceof Tuple && m.elements[0] === atoms.EXIT) {
            exits?.set(id, m.elements[2]);
            self.exit(m.elements[2]);
          }
        }
      }),
    ...extra,
  };
}

async function until<T>(probe: () => T | undefined, what: string, ms = 2000): Promise<T> {
  const end = performance.now() + ms;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

const fresh = (node: Node, name: string, old?: Pid): Promise<Pid> =>
  until(() => {
    const p = node.whereis(atom(name));
    return p !== undefined && p !== old ? p : undefined;
  }, `${name} (re)started`);

const code = (e: unknown): string | undefined => (e instanceof SupervisorError ? e.code : undefined);

afterEach(() => {
  vi.restoreAllMocks();
});

describe('supervisor: children on demand', () => {
  it('startChild, whichChildren, countChildren, terminateChild, restartChild, deleteChild answer as supervisor.erl', async () => {
    const node = localNode();
    const sup = await startSupervisor(node, { intensity: 5 }, [worker('w1')]);
    await inProcess(node, async (self) => {
      const w2 = await startChild(self, sup, worker('w2'));
      expect(node.whereis(atom('w2'))).toBe(w2);
      // Newest first, as which_children lists them.
      expect((await whichChildren(self, sup)).map((c) => c.id)).toEqual(['w2', 'w1']);
      expect(await countChildren(self, sup)).toEqual({ specs: 2, active: 2, supervisors: 0, workers: 2 });
      expect(code(await startChild(self, sup, worker('w2')).catch((e: unknown) => e))).toBe('ALREADY_STARTED');
      expect(code(await restartChild(self, sup, 'w2').catch((e: unknown) => e))).toBe('RUNNING');
      expect(code(await deleteChild(self, sup, 'w2').catch((e: unknown) => e))).toBe('RUNNING');

      const gone = exitOf(node, w2 as Pid);
      await terminateChild(self, sup, 'w2');
      expect(await gone).toBe(atoms.shutdown);
      // The spec stays: the child is listed with no pid, and restart_child starts it again.
      const listed = await whichChildren(self, sup);
      expect(listed.find((c) => c.id === 'w2')?.pid).toBeUndefined();
      expect(await countChildren(self, sup)).toEqual({ specs: 2, active: 1, supervisors: 0, workers: 2 });
      expect(code(await startChild(self, sup, worker('w2')).catch((e: unknown) => e))).toBe('ALREADY_PRESENT');
      const again = await restartChild(self, sup, 'w2');
      expect(again).toBe(node.whereis(atom('w2')));
      await terminateChild(self, sup, 'w2');
      await deleteChild(self, sup, 'w2');
      expect((await whichChildren(self, sup)).map((c) => c.id)).toEqual(['w1']);
      expect(code(await deleteChild(self, sup, 'w2').catch((e: unknown) => e))).toBe('NOT_FOUND');
      expect(code(await terminateChild(self, sup, 'nope').catch((e: unknown) => e))).toBe('NOT_FOUND');
    });
  });

  it('a temporary child is forgotten once terminated; a start that throws answers START_FAILED', async () => {
    const node = localNode();
    const sup = await startSupervisor(node, {}, []);
    await inProcess(node, async (self) => {
      await startChild(self, sup, worker('tmp', { restart: 'temporary' }));
      await terminateChild(self, sup, 'tmp');
      expect(await whichChildren(self, sup)).toEqual([]);
      const bad: ChildSpec = {
        id: 'bad',
        start: () => {
          throw new Error('cannot start');
        },
      };
      const e = await startChild(self, sup, bad).catch((x: unknown) => x);
      expect(code(e)).toBe('START_FAILED');
      expect(formatErlang((e as SupervisorError).reason)).toContain('cannot start');
      expect(node.isAlive(sup)).toBe(true);
    });
  });

  it('a child that fails to start at init stops the ones started, in order, and start rejects with failed_to_start_child', async () => {
    const node = localNode();
    const exits = new Map<string, Term>();
    const failing: ChildSpec = {
      id: 'b',
      start: () => Promise.reject(new Error('no b')),
    };
    const e = await startSupervisor(node, {}, [worker('a', {}, exits), failing]).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(StartError);
    const reason = formatErlang((e as StartError).reason);
    expect(reason).toMatch(/^\{shutdown,\{failed_to_start_child,b,/);
    expect(exits.get('a')).toBe(atoms.shutdown);
  });
});

describe('supervisor: restart intensity', () => {
  it('a restart whose start throws counts toward the intensity, is retried, and ends in an orderly shutdown', async () => {
    const node = localNode();
    const exits = new Map<string, Term>();
    let starts = 0;
    const flaky: ChildSpec = {
      id: 'flaky',
      start: (sup) => {
        if (++starts > 1) throw new Error('start refused');
        return worker('flaky').start(sup);
      },
    };
    const sup = await startSupervisor(node, { intensity: 3, period: 60 }, [worker('other', {}, exits), flaky]);
    const supDone = exitOf(node, sup, 3000);
    node.send(atom('flaky'), atom('crash'));
    // The crash is restart 1, each failed start a further one; the 4th exceeds intensity 3.
    expect(await supDone).toBe(atoms.shutdown);
    expect(starts).toBe(4);
    expect(exits.get('other')).toBe(atoms.shutdown);
  });

  it('a failed restart is retried until it succeeds, within the intensity', async () => {
    const node = localNode();
    let starts = 0;
    const flaky: ChildSpec = {
      id: 'f2',
      start: (sup) => {
        starts++;
        if (starts === 2 || starts === 3) throw new Error('not yet');
        return worker('f2').start(sup);
      },
    };
    const sup = await startSupervisor(node, { intensity: 5, period: 60 }, [flaky]);
    const first = await fresh(node, 'f2');
    node.send(atom('f2'), atom('crash'));
    await fresh(node, 'f2', first);
    expect(starts).toBe(4);
    expect(node.isAlive(sup)).toBe(true);
  });

  it('restarts older than the period are forgotten', async () => {
    const node = localNode();
    const sup = await startSupervisor(node, { intensity: 1, period: 0.1 }, [worker('p1')]);
    let p = await fresh(node, 'p1');
    node.send(p, atom('crash'));
    p = await fresh(node, 'p1', p);
    await new Promise((r) => setTimeout(r, 150));
    node.send(p, atom('crash'));
    p = await fresh(node, 'p1', p);
    expect(node.isAlive(sup)).toBe(true);
    const done = exitOf(node, sup);
    node.send(p, atom('crash'));
    expect(await done).toBe(atoms.shutdown);
  });

  it('intensity is measured on a monotonic clock: a wall-clock jump does not forget restarts', async () => {
    const node = localNode();
    const sup = await startSupervisor(node, { intensity: 1, period: 5 }, [worker('m1')]);
    const done = exitOf(node, sup);
    let p = await fresh(node, 'm1');
    const wall = Date.now();
    vi.spyOn(Date, 'now').mockReturnValue(wall);
    node.send(p, atom('crash'));
    p = await fresh(node, 'm1', p);
    // The wall clock jumps an hour ahead (NTP, suspend): two crashes are still within 5 s.
    vi.spyOn(Date, 'now').mockReturnValue(wall + 3_600_000);
    node.send(p, atom('crash'));
    expect(await done).toBe(atoms.shutdown);
  });

  it('a supervisor whose parent exits stops its children and exits with the same reason', async () => {
    const node = localNode();
    const exits = new Map<string, Term>();
    let supPid: Pid | undefined;
    const parent = node.spawn(async (self) => {
      supPid = await startSupervisor(node, {}, [worker('c1', {}, exits)], { linkTo: self });
      await self.receive(atom('go'));
      self.exit(atom('parent_gone'));
    });
    const sup = await until(() => supPid, 'the supervisor');
    const done = exitOf(node, sup);
    node.send(parent, atom('go'));
    expect(await done).toBe(atom('parent_gone'));
    expect(exits.get('c1')).toBe(atoms.shutdown);
  });
});

describe('supervisor: significant children and auto_shutdown (OTP 24+)', () => {
  it('any_significant: a significant child ending normally shuts the supervisor down', async () => {
    const node = localNode();
    const exits = new Map<string, Term>();
    const sup = await startSupervisor(node, { autoShutdown: 'any_significant', intensity: 5 }, [
      worker('keep', {}, exits),
      worker('sig', { restart: 'transient', significant: true }),
    ]);
    const done = exitOf(node, sup);
    // An abnormal exit of a transient child is a restart, not an auto shutdown.
    const s1 = await fresh(node, 'sig');
    node.send(s1, atom('crash'));
    await fresh(node, 'sig', s1);
    expect(node.isAlive(sup)).toBe(true);
    node.send(atom('sig'), atom('quit'));
    expect(await done).toBe(atoms.shutdown);
    expect(exits.get('keep')).toBe(atoms.shutdown);
  });

  it('all_significant: the supervisor ends when the last significant child has ended', async () => {
    const node = localNode();
    const sup = await startSupervisor(node, { autoShutdown: 'all_significant' }, [
      worker('s1', { restart: 'temporary', significant: true }),
      worker('s2', { restart: 'temporary', significant: true }),
    ]);
    const done = exitOf(node, sup);
    const s1 = await fresh(node, 's1');
    const s1Done = exitOf(node, s1);
    node.send(s1, atom('quit'));
    await s1Done;
    await inProcess(node, async (self) => expect((await whichChildren(self, sup)).map((c) => c.id)).toEqual(['s2']));
    expect(node.isAlive(sup)).toBe(true);
    node.send(atom('s2'), atom('quit'));
    expect(await done).toBe(atoms.shutdown);
  });

  it('a terminated significant child does not shut the supervisor down; significant with permanent or never is refused', async () => {
    const node = localNode();
    const sup = await startSupervisor(node, { autoShutdown: 'any_significant' }, [worker('t', { restart: 'transient', significant: true })]);
    await inProcess(node, (self) => terminateChild(self, sup, 't'));
    expect(node.isAlive(sup)).toBe(true);
    await expect(startSupervisor(node, { autoShutdown: 'any_significant' }, [worker('x', { significant: true })])).rejects.toThrow(/bad_combination.*permanent/);
    await expect(startSupervisor(node, {}, [worker('y', { restart: 'transient', significant: true })])).rejects.toThrow(/bad_combination.*never/);
  });
});
