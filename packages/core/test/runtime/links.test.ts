import { describe, expect, it } from 'vitest';
import { ExceptionReason, TIMEOUT, UsageError, _, ptuple } from '@courier/core';
import { Tuple, atom, atoms, tuple, type Pid, type Term } from '@courier/term';
import { exitOf, inProcess, localNode } from './helpers.js';

const forever = (self: { receive: () => Promise<Term> }) => self.receive();

describe('links and exit signals', () => {
  it('a crash propagates over a link to a process that does not trap exits', async () => {
    const node = localNode();
    let b!: Pid;
    const a = node.spawn(async (self) => {
      b = self.spawnLink(() => Promise.reject(new Error('boom')));
      await forever(self);
    });
    const reason = await exitOf(node, a);
    expect(reason).toBeInstanceOf(ExceptionReason);
    expect(Buffer.from((reason as Tuple).elements[1] as Uint8Array).toString()).toBe('Error: boom');
    expect(node.isAlive(b)).toBe(false);
  });

  it('normal exit is not propagated; trapped exits become EXIT messages', async () => {
    const node = localNode();
    const msg = await inProcess(node, async (self) => {
      self.trapExit = true;
      const child = self.spawnLink(async () => {});
      const m = await self.receive();
      return [child, m] as const;
    });
    expect(msg[1]).toEqual(tuple(atoms.EXIT, msg[0], atoms.normal));

    const survivor = await inProcess(node, async (self) => {
      self.spawnLink(async () => {});
      return self.receive(undefined, 50);
    });
    expect(survivor).toBe(TIMEOUT);
  });

  it('kill via exit/2 is untrappable and becomes killed for links', async () => {
    const node = localNode();
    const r = await inProcess(node, async (self) => {
      self.trapExit = true;
      const victim = self.spawnLink(async (v) => {
        v.trapExit = true;
        await forever(v);
      });
      self.exit(victim, atoms.kill);
      return self.receive();
    });
    expect((r as Tuple).elements[2]).toBe(atoms.killed);
  });

  it('exit/2 with normal is ignored unless sent to oneself; other reasons kill', async () => {
    const node = localNode();
    const target = node.spawn(forever);
    node.exitSignal(undefined, target, atoms.normal);
    await new Promise((r) => setTimeout(r, 10));
    expect(node.isAlive(target)).toBe(true);
    const done = exitOf(node, target);
    node.exitSignal(undefined, target, atom('stop'));
    expect(await done).toBe(atom('stop'));

    const selfNormal = node.spawn(async (self) => {
      self.exit(self.pid, atoms.normal);
      await forever(self);
    });
    expect(await exitOf(node, selfNormal)).toBe(atoms.normal);
  });

  it('trapping process gets {EXIT, From, Reason} for exit/2', async () => {
    const node = localNode();
    const r = await inProcess(node, async (self) => {
      self.trapExit = true;
      node.exitSignal(undefined, self.pid, atom('hello'));
      return self.receive();
    });
    expect((r as Tuple).elements[0]).toBe(atoms.EXIT);
    expect((r as Tuple).elements[2]).toBe(atom('hello'));
  });

  it('linking to a dead process delivers noproc', async () => {
    const node = localNode();
    const dead = node.spawn(async () => {});
    await exitOf(node, dead);
    const r = await inProcess(node, async (self) => {
      self.trapExit = true;
      self.link(dead);
      return self.receive();
    });
    expect(r).toEqual(tuple(atoms.EXIT, dead, atoms.noproc));
  });

  it('unlink stops propagation', async () => {
    const node = localNode();
    const r = await inProcess(node, async (self) => {
      const child = self.spawnLink(async (c) => {
        await c.receive();
        throw new Error('late');
      });
      self.unlink(child);
      self.send(child, 'go');
      return self.receive(undefined, 50);
    });
    expect(r).toBe(TIMEOUT);
  });

  it('a long chain of links dies without deep recursion', async () => {
    const node = localNode();
    const n = 20_000;
    const first = node.spawn(forever);
    let prev = first;
    const pids: Pid[] = [first];
    for (let i = 0; i < n; i++) {
      const p = node.spawn(forever);
      node.lookup(p)!.link(prev);
      pids.push(p);
      prev = p;
    }
    await new Promise((r) => setTimeout(r, 5));
    const last = exitOf(node, prev, 5000);
    node.exitSignal(undefined, first, atom('cascade'));
    expect(await last).toBe(atom('cascade'));
    expect(pids.every((p) => !node.isAlive(p))).toBe(true);
  });

  it('exit(reason) ends the calling process with that reason', async () => {
    const node = localNode();
    const p = node.spawn((self) => {
      self.exit(tuple(atoms.shutdown, atom('bye')));
    });
    expect(await exitOf(node, p)).toEqual(tuple(atoms.shutdown, atom('bye')));
  });
});

describe('monitors', () => {
  it('DOWN carries ref, pid and reason', async () => {
    const node = localNode();
    const r = await inProcess(node, async (self) => {
      const [pid, ref] = self.spawnMonitor((c) => c.exit(atom('bye')));
      const m = await self.receive(ptuple(atoms.DOWN, ref, _, _, _));
      return [pid, ref, m] as const;
    });
    expect(r[2]).toEqual(tuple(atoms.DOWN, r[1], atoms.process, r[0], atom('bye')));
  });

  it('monitoring a dead pid gives noproc; by name gives {Name, Node}', async () => {
    const node = localNode();
    const dead = node.spawn(async () => {});
    await exitOf(node, dead);
    const r = await inProcess(node, async (self) => {
      const ref = self.monitor(dead);
      const m1 = await self.receive();
      const ref2 = self.monitor(atom('nobody_here'));
      const m2 = await self.receive();
      return [ref, m1, ref2, m2] as const;
    });
    expect(r[1]).toEqual(tuple(atoms.DOWN, r[0], atoms.process, dead, atoms.noproc));
    expect(r[3]).toEqual(tuple(atoms.DOWN, r[2], atoms.process, tuple(atom('nobody_here'), node.name), atoms.noproc));
  });

  it('monitor by registered name reports {Name, Node}', async () => {
    const node = localNode();
    const named = node.spawn(
      async (self) => {
        await self.receive();
        self.exit(atom('done'));
      },
      { name: atom('svc') },
    );
    const r = await inProcess(node, async (self) => {
      const ref = self.monitor(atom('svc'));
      self.send(atom('svc'), 'stop');
      return [ref, await self.receive()] as const;
    });
    expect(r[1]).toEqual(tuple(atoms.DOWN, r[0], atoms.process, tuple(atom('svc'), node.name), atom('done')));
    expect(node.whereis(atom('svc'))).toBeUndefined();
    void named;
  });

  it('demonitor with flush removes a DOWN already queued', async () => {
    const node = localNode();
    const r = await inProcess(node, async (self) => {
      const [pid, ref] = self.spawnMonitor(async () => {});
      await new Promise((res) => setTimeout(res, 10));
      expect(self.mailbox.length).toBe(1);
      self.demonitor(ref, { flush: true });
      void pid;
      return self.receive(undefined, 20);
    });
    expect(r).toBe(TIMEOUT);
  });

  it('demonitor before the exit means no DOWN', async () => {
    const node = localNode();
    const r = await inProcess(node, async (self) => {
      const target = self.spawn(async (t) => {
        await t.receive();
      });
      const ref = self.monitor(target);
      expect(self.demonitor(ref)).toBe(true);
      self.send(target, 'go');
      return self.receive(undefined, 30);
    });
    expect(r).toBe(TIMEOUT);
  });
});

describe('names and timers', () => {
  it('register, whereis, send by name, unregister on exit, errors', async () => {
    const node = localNode();
    const p = node.spawn(async (self) => {
      const m = await self.receive();
      self.exit(m);
    });
    node.register(atom('echo'), p);
    expect(node.whereis(atom('echo'))).toBe(p);
    expect(() => node.register(atom('echo'), p)).toThrow(UsageError);
    const done = exitOf(node, p);
    node.send(atom('echo'), atom('x'));
    expect(await done).toBe(atom('x'));
    expect(node.whereis(atom('echo'))).toBeUndefined();
    expect(() => node.send(atom('echo'), 1)).toThrow(/badarg/);
    expect(() => node.send(tuple(atom('echo'), node.name), 1)).not.toThrow();
  });

  it('sendAfter delivers; cancelTimer returns the time left or false', async () => {
    const node = localNode();
    const r = await inProcess(node, async (self) => {
      self.sendAfter(10, self.pid, 'tick');
      const t2 = self.sendAfter(10_000, self.pid, 'never');
      const left = self.cancelTimer(t2);
      const m = await self.receive();
      return [m, left, self.cancelTimer(t2)] as const;
    });
    expect(r[0]).toBe('tick');
    expect(r[1]).toBeGreaterThan(9000);
    expect(r[2]).toBe(false);
  });

  it('aliases deliver while active', async () => {
    const node = localNode();
    const r = await inProcess(node, async (self) => {
      const a = self.alias();
      node.send(a, 'via alias');
      const m = await self.receive();
      self.unalias(a);
      node.send(a, 'dropped');
      return [m, await self.receive(undefined, 20)] as const;
    });
    expect(r).toEqual(['via alias', TIMEOUT]);
  });

  it('a process killed while awaiting stops at its next runtime call', async () => {
    const node = localNode();
    let after = false;
    const p = node.spawn(async (self) => {
      await new Promise((r) => setTimeout(r, 30));
      after = true;
      self.send(self.pid, 'x');
    });
    const done = exitOf(node, p);
    await new Promise((r) => setTimeout(r, 5));
    node.exitSignal(undefined, p, atoms.kill);
    expect(await done).toBe(atoms.killed);
    await new Promise((r) => setTimeout(r, 50));
    expect(after).toBe(true);
    expect(node.processes()).not.toContainEqual(p);
  });

  it('spawn with a name registers before the body runs', async () => {
    const node = localNode();
    const r = await inProcess(node, async (self) => {
      const pid = self.spawn(
        async (c) => {
          const m = await c.receive();
          c.send(m as Pid, atom('pong'));
        },
        { name: atom('pinger') },
      );
      self.send(atom('pinger'), self.pid);
      return [pid, await self.receive()] as const;
    });
    expect(r[1]).toBe(atom('pong'));
  });
});
