import { describe, expect, it } from 'vitest';
import { Tuple, atom, atoms } from '@courier/term';
import { _, ptuple } from '@courier/core';
import type { CarrierHarness } from '../harness.js';
import { die, downFor, el, hasNow, puppet, recv, same, victim } from '../util/actors.js';
import { connectedPair } from '../util/nodes.js';

export function monitorCases(h: () => CarrierHarness, deadline: number): void {
  describe('monitors across nodes', () => {
    it('a remote crash gives {DOWN, Ref, process, Pid, Reason}', async () => {
      const { nodeA: a, nodeB: b } = await connectedPair(h(), deadline);
      const p = puppet(a);
      const q = victim(b);
      const ref = p.monitor(q);
      p.send(q, die(new Tuple([atom('shutdown'), atom('custom')])));
      const m = await recv(p, downFor(ref), deadline, 'DOWN');
      expect(el(m, 3)).toBe(q);
      expect(same(el(m, 4), new Tuple([atom('shutdown'), atom('custom')]))).toBe(true);
    });

    it('a normal remote exit gives DOWN with normal; a monitor fires once', async () => {
      const { nodeA: a, nodeB: b } = await connectedPair(h(), deadline);
      const p = puppet(a);
      const q = victim(b);
      const [r1, r2] = [p.monitor(q), p.monitor(q)];
      p.send(q, die(atoms.normal));
      expect(el(await recv(p, downFor(r1), deadline, 'first DOWN'), 4)).toBe(atoms.normal);
      expect(el(await recv(p, downFor(r2), deadline, 'second DOWN'), 4)).toBe(atoms.normal);
      puppet(b).send(p.pid, atom('after'));
      await recv(p, atom('after'), deadline, 'barrier');
      expect(p.mailbox.length).toBe(0);
    });

    it('monitoring a remote pid that is gone gives DOWN noproc', async () => {
      const { nodeA: a, nodeB: b } = await connectedPair(h(), deadline);
      const p = puppet(a);
      const q = victim(b);
      const first = p.monitor(q);
      p.send(q, die(atoms.normal));
      await recv(p, downFor(first), deadline, 'the process is gone');
      const ref = p.monitor(q);
      const m = await recv(p, downFor(ref), deadline, 'DOWN noproc');
      expect(el(m, 3)).toBe(q);
      expect(el(m, 4)).toBe(atoms.noproc);
    });

    it('monitors {Name, Node}: DOWN names {Name, Node}; an unregistered name gives noproc', async () => {
      const { nodeA: a, nodeB: b } = await connectedPair(h(), deadline);
      const p = puppet(a);
      const q = victim(b, { name: 'named_victim' });
      const ref = p.monitor({ name: 'named_victim', node: b.name });
      p.send(q, die(atom('by_name')));
      const m = await recv(p, downFor(ref), deadline, 'DOWN by name');
      expect(same(el(m, 3), new Tuple([atom('named_victim'), b.name]))).toBe(true);
      expect(el(m, 4)).toBe(atom('by_name'));
      const none = p.monitor(new Tuple([atom('nobody_here'), b.name]));
      const n = await recv(p, downFor(none), deadline, 'DOWN for an unregistered name');
      expect(same(el(n, 3), new Tuple([atom('nobody_here'), b.name]))).toBe(true);
      expect(el(n, 4)).toBe(atoms.noproc);
    });

    it('demonitor: no DOWN arrives after the monitored process dies', async () => {
      const { nodeA: a, nodeB: b } = await connectedPair(h(), deadline);
      const p = puppet(a);
      const q = victim(b);
      const watcher = puppet(b);
      const kept = p.monitor(q);
      const dropped = p.monitor(q);
      expect(p.demonitor(dropped)).toBe(true);
      expect(p.demonitor(dropped)).toBe(false);
      const wref = watcher.monitor(q);
      p.send(q, die(atom('boom')));
      await recv(watcher, downFor(wref), deadline, 'q is gone on its own node');
      watcher.send(p.pid, atom('after'));
      await recv(p, atom('after'), deadline, 'barrier');
      expect(await hasNow(p, downFor(kept))).toBe(true);
      expect(await hasNow(p, downFor(dropped))).toBe(false);
      expect(await hasNow(p, ptuple(atoms.DOWN, _, _, _, _))).toBe(false);
    });
  });
}
