import { describe, expect, it } from 'vitest';
import { ProcessGone } from '@courier/core';
import { Tuple, atom, atoms, type Term } from '@courier/term';
import { exitOf, inProcess, localNode } from './helpers.js';

/** Resolves with what `register` is given, or fails after `ms`. */
function settle<T>(ms = 2000): { promise: Promise<T>; done: (v: T) => void } {
  let done!: (v: T) => void;
  const promise = new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`not settled within ${ms} ms`)), ms);
    done = (v) => {
      clearTimeout(t);
      resolve(v);
    };
  });
  return { promise, done };
}

describe('a killed process: its pending await rejects and its finally blocks run', () => {
  it('kill while waiting in receive: the receive rejects with ProcessGone(killed), finally runs', async () => {
    const node = localNode();
    const seen = settle<{ err: unknown; finallyRan: boolean }>();
    let finallyRan = false;
    const pid = node.spawn(async (self) => {
      try {
        await self.receive();
      } catch (err) {
        seen.done({ err, finallyRan });
        throw err;
      } finally {
        finallyRan = true;
      }
    });
    await inProcess(node, () => Promise.resolve());
    const gone = exitOf(node, pid);
    node.exitSignal(undefined, pid, atoms.kill);
    expect(await gone).toBe(atoms.killed);
    const { err } = await seen.promise;
    expect(err).toBeInstanceOf(ProcessGone);
    expect((err as ProcessGone).reason).toBe(atoms.killed);
    expect(finallyRan).toBe(true);
  });

  it('an untrappable exit reaches a process sleeping (any length) or waiting with a timeout', async () => {
    const node = localNode();
    const cleaned: string[] = [];
    const all = settle<void>();
    const body = (what: string, wait: (self: import('@courier/core').Process) => Promise<unknown>) =>
      node.spawn(
        async (self) => {
          try {
            await wait(self);
          } finally {
            cleaned.push(what);
            if (cleaned.length === 3) all.done();
          }
        },
        { trapExit: true },
      );
    const pids = [
      body('sleep', (self) => self.sleep(60_000)),
      body('long sleep', (self) => self.sleep(2 ** 31 + 1)),
      body('receive after', (self) => self.receive(atom('never'), 60_000)),
    ];
    await inProcess(node, () => Promise.resolve());
    // trap_exit does not help against kill sent by exit/2.
    for (const p of pids) node.exitSignal(undefined, p, atoms.kill);
    await all.promise;
    expect(cleaned.sort()).toEqual(['long sleep', 'receive after', 'sleep']);
  });

  it('a link crash (not trapped) ends a waiting receive too, and the partners see the reason at once', async () => {
    const node = localNode();
    const cleaned = settle<Term>();
    const watcher = await inProcess(node, async (self) => {
      const victim = self.spawn(async (v) => {
        try {
          await v.receive();
        } finally {
          cleaned.done(v.exitReason);
        }
      });
      const mref = self.monitor(victim);
      const crasher = self.spawn(async (c) => {
        c.link(victim);
        await c.receive(atom('go'));
        c.exit(atom('boom'));
      });
      self.send(crasher, atom('go'));
      return self.receiveRef(mref, (m) => m instanceof Tuple && m.elements[1] === mref, 2000);
    });
    expect((watcher as Tuple).elements[4]).toBe(atom('boom'));
    expect(await cleaned.promise).toBe(atom('boom'));
  });

  it('code between two awaits is not interrupted: the kill takes effect at the next process operation', async () => {
    const node = localNode();
    const steps: string[] = [];
    const ended = settle<unknown>();
    node.spawn(async (self) => {
      self.exit(self.pid, atoms.kill); // the process is dead from here on, for everyone else
      steps.push('sync code still runs');
      try {
        await self.receive(undefined, 0);
      } catch (err) {
        ended.done(err);
      }
    });
    expect(await ended.promise).toBeInstanceOf(ProcessGone);
    expect(steps).toEqual(['sync code still runs']);
  });

  it('a pending receive of a process killed while nobody awaits it is no unhandled rejection', async () => {
    const node = localNode();
    const pid = node.spawn(async (self) => {
      void self.receive(atom('never'), 60_000); // dropped, never awaited
      await self.sleep(60_000);
    });
    await inProcess(node, () => Promise.resolve());
    const gone = exitOf(node, pid);
    node.exitSignal(undefined, pid, atoms.kill);
    expect(await gone).toBe(atoms.killed);
    // vitest fails the run on an unhandled rejection; give it a turn to surface.
    await new Promise((r) => setTimeout(r, 20));
  });
});
