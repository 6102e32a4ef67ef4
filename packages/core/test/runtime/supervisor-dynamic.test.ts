import { describe, expect, it } from 'vitest';
import {
  SupervisorError,
  call,
  countChildren,
  noreply,
  reply,
  restartChild,
  startChild,
  startDynamicSupervisor,
  startServer,
  terminateChild,
  whichChildren,
  type ChildSpec,
  type GenServer,
  type Restart,
} from '@courier/core';
import { Tuple, atom, atoms, type Pid, type Term } from '@courier/term';
import { exitOf, inProcess, localNode } from './helpers.js';

/** A simple_one_for_one supervisor (DynamicSupervisor): children from one template with extra arguments. */

/** A server that holds the extra start argument it was given and crashes on `crash`. */
const holder: GenServer<Term, Term> = {
  init: (_self, arg) => arg,
  handleCall: (req, _from, s) => reply(req === atom('arg') ? s : atoms.undefined, s),
  handleCast: (msg, s) => {
    if (msg === atom('crash')) throw new Error('asked to crash');
    return noreply(s);
  },
};

const template = (restart: Restart = 'permanent'): ChildSpec => ({
  id: 'holder',
  restart,
  start: (sup, arg) => startServer(sup.node, holder, arg, { linkTo: sup }),
});

const code = (e: unknown): string | undefined => (e instanceof SupervisorError ? e.code : undefined);

describe('dynamic supervisor (simple_one_for_one)', () => {
  it('starts children with extra arguments, up to maxChildren; lists and counts them without ids', async () => {
    const node = localNode();
    const sup = await startDynamicSupervisor(node, template(), { maxChildren: 2 });
    await inProcess(node, async (self) => {
      expect(await countChildren(self, sup)).toEqual({ specs: 1, active: 0, supervisors: 0, workers: 0 });
      const a = (await startChild(self, sup, [atom('a')])) as Pid;
      const b = (await startChild(self, sup, [atom('b')])) as Pid;
      expect(await call(self, a, atom('arg'))).toBe(atom('a'));
      expect(await call(self, b, atom('arg'))).toBe(atom('b'));
      expect(code(await startChild(self, sup, [atom('c')]).catch((e: unknown) => e))).toBe('MAX_CHILDREN');
      const kids = await whichChildren(self, sup);
      expect(kids.map((k) => k.id)).toEqual([undefined, undefined]);
      expect(kids.map((k) => String(k.pid)).sort()).toEqual([String(a), String(b)].sort());
      expect(await countChildren(self, sup)).toEqual({ specs: 1, active: 2, supervisors: 0, workers: 2 });
    });
  });

  it('extra arguments that arrive as a STRING_EXT (a list of bytes, as [2] from erl) are a list all the same', async () => {
    const node = localNode();
    const sup = await startDynamicSupervisor(node, template());
    await inProcess(node, async (self) => {
      // What {start_child, [2]} decodes to when it comes from another node.
      const r = (await call(self, sup, new Tuple([atom('start_child'), '\u0002']))) as Tuple;
      expect(r.elements[0]).toBe(atoms.ok);
      expect(await call(self, r.elements[1] as Pid, atom('arg'))).toBe(2);
    });
  });

  it('terminateChild takes a pid; by id, restartChild and a spec are refused as OTP refuses them', async () => {
    const node = localNode();
    const sup = await startDynamicSupervisor(node, template());
    await inProcess(node, async (self) => {
      const a = (await startChild(self, sup, [1])) as Pid;
      expect(code(await terminateChild(self, sup, 'holder').catch((e: unknown) => e))).toBe('SIMPLE_ONE_FOR_ONE');
      expect(code(await restartChild(self, sup, 'holder').catch((e: unknown) => e))).toBe('SIMPLE_ONE_FOR_ONE');
      expect(code(await startChild(self, sup, template()).catch((e: unknown) => e))).toBe('BAD_SPEC');
      const gone = exitOf(node, a);
      await terminateChild(self, sup, a);
      expect(await gone).toBe(atoms.shutdown);
      expect(await whichChildren(self, sup)).toEqual([]);
      expect(code(await terminateChild(self, sup, a).catch((e: unknown) => e))).toBe('NOT_FOUND');
    });
  });

  it('a permanent child is restarted with the same arguments; a temporary one is not', async () => {
    const node = localNode();
    const perm = await startDynamicSupervisor(node, template('permanent'), { intensity: 5 });
    const temp = await startDynamicSupervisor(node, template('temporary'), { intensity: 5 });
    await inProcess(node, async (self) => {
      const p = (await startChild(self, perm, [atom('kept')])) as Pid;
      const t = (await startChild(self, temp, [atom('lost')])) as Pid;
      const pDone = exitOf(node, p);
      const tDone = exitOf(node, t);
      node.send(p, new Tuple([atom('$gen_cast'), atom('crash')]));
      node.send(t, new Tuple([atom('$gen_cast'), atom('crash')]));
      await Promise.all([pDone, tDone]);
      let kids = await whichChildren(self, perm);
      for (let i = 0; i < 100 && (kids.length !== 1 || kids[0]?.pid === p); i++) kids = await whichChildren(self, perm);
      const p2 = kids[0]?.pid as Pid;
      expect(p2).not.toBe(p);
      expect(await call(self, p2, atom('arg'))).toBe(atom('kept'));
      expect(await whichChildren(self, temp)).toEqual([]);
    });
  });

  it('shutting the supervisor down stops every child with shutdown', async () => {
    const node = localNode();
    let supPid: Pid | undefined;
    const kids: Pid[] = [];
    const parent = node.spawn(async (self) => {
      supPid = await startDynamicSupervisor(node, template(), {}, { linkTo: self });
      for (let i = 0; i < 5; i++) kids.push((await startChild(self, supPid, [i])) as Pid);
      await self.receive(atom('go'));
      self.exit(atoms.shutdown);
    });
    for (let i = 0; i < 200 && kids.length < 5; i++) await new Promise((r) => setTimeout(r, 2));
    const exits = kids.map((k) => exitOf(node, k));
    const supDone = exitOf(node, supPid as Pid);
    node.send(parent, atom('go'));
    expect(await Promise.all(exits)).toEqual(kids.map(() => atoms.shutdown));
    expect(await supDone).toBe(atoms.shutdown);
  });

  it('takes its requests from outside any process: the node stands in for the caller', async () => {
    const node = localNode();
    const sup = await startDynamicSupervisor(node, template('temporary'));
    const kid = (await startChild(node, sup, [atom('from_outside')])) as Pid;
    expect(await call(node, kid, atom('arg'))).toBe(atom('from_outside'));
    expect((await whichChildren(node, sup)).map((c) => c.pid)).toEqual([kid]);
    expect(await countChildren(node, sup)).toMatchObject({ active: 1 });
    await terminateChild(node, sup, kid);
    expect(await whichChildren(node, sup)).toEqual([]);
    // The short-lived callers are gone: only the supervisor is left.
    for (let i = 0; i < 50 && node.processes().length !== 1; i++) await new Promise((r) => setTimeout(r, 2));
    expect(node.processes()).toEqual([sup]);
    await node.stop();
  });
});
