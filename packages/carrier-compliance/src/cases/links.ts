import { describe, expect, it } from 'vitest';
import { Pid, atom, atoms } from '@courier/term';
import { ptuple, type Node, type ProcessExit } from '@courier/core';
import type { CarrierHarness } from '../harness.js';
import { Recorder } from '../util/deadline.js';
import { die, downFor, el, exitFrom, hasNow, puppet, recv, victim } from '../util/actors.js';
import { connectedPair } from '../util/nodes.js';

export function exits(node: Node): Recorder<ProcessExit> {
  return new Recorder<ProcessExit>({ subscribe: (fn) => node.exits$.subscribe(fn) });
}

export const exitOf = (pid: Pid) => (e: ProcessExit) => e.pid === pid;

export function linkCases(h: () => CarrierHarness, deadline: number): void {
  describe('links across nodes', () => {
    it('a remote crash reaches a trapping linked process as {EXIT, Pid, Reason}', async () => {
      const { nodeA: a, nodeB: b } = await connectedPair(h(), deadline);
      const p = puppet(a, { trapExit: true });
      const q = victim(b);
      p.link(q);
      p.send(q, die(atom('boom')));
      const m = await recv(p, exitFrom(q), deadline, 'EXIT from the remote process');
      expect(el(m, 2)).toBe(atom('boom'));
    });

    it('a remote crash kills an untrapping linked process with the same reason', async () => {
      const { nodeA: a, nodeB: b } = await connectedPair(h(), deadline);
      const xa = exits(a);
      const p = puppet(a);
      const q = victim(b);
      p.link(q);
      p.send(q, die(atom('boom')));
      const e = await xa.next(exitOf(p.pid), deadline, 'the linked process exits');
      expect(e.reason).toBe(atom('boom'));
    });

    it('a local crash reaches the remote linked process (both directions of the link)', async () => {
      const { nodeA: a, nodeB: b } = await connectedPair(h(), deadline);
      const q = puppet(b, { trapExit: true });
      const p = victim(a);
      q.link(p);
      q.send(p, die(atom('local_boom')));
      const m = await recv(q, exitFrom(p), deadline, 'EXIT on the other node');
      expect(el(m, 2)).toBe(atom('local_boom'));
    });

    it('a remote normal exit does not kill an untrapping linked process, and reaches a trapping one', async () => {
      const { nodeA: a, nodeB: b } = await connectedPair(h(), deadline);
      const xa = exits(a);
      const plain = puppet(a);
      const trapping = puppet(a, { trapExit: true });
      const q = victim(b);
      plain.link(q);
      trapping.link(q);
      plain.send(q, die(atoms.normal));
      const m = await recv(trapping, exitFrom(q), deadline, 'EXIT normal');
      expect(el(m, 2)).toBe(atoms.normal);
      // Everything b sends after q's exit arrives after its exit signals: a barrier.
      const witness = puppet(b);
      witness.send(plain.pid, atom('after'));
      await recv(plain, atom('after'), deadline, 'message after the exit');
      expect(plain.alive).toBe(true);
      expect(xa.count(exitOf(plain.pid))).toBe(0);
    });

    it('linking to a remote pid that is gone gives {EXIT, Pid, noproc}', async () => {
      const { nodeA: a, nodeB: b } = await connectedPair(h(), deadline);
      const p = puppet(a, { trapExit: true });
      const q = victim(b);
      const ref = p.monitor(q);
      p.send(q, die(atoms.normal));
      await recv(p, downFor(ref), deadline, 'the process is gone');
      p.link(q);
      const m = await recv(p, exitFrom(q), deadline, 'EXIT noproc');
      expect(el(m, 2)).toBe(atoms.noproc);
    });

    it('unlink: a crash after unlinking sends no exit signal', async () => {
      const { nodeA: a, nodeB: b } = await connectedPair(h(), deadline);
      const p = puppet(a, { trapExit: true });
      const q = victim(b);
      const watcher = puppet(b);
      p.link(q);
      p.unlink(q);
      const wref = watcher.monitor(q);
      p.send(q, die(atom('boom')));
      await recv(watcher, downFor(wref), deadline, 'q is gone on its own node');
      watcher.send(p.pid, atom('after'));
      await recv(p, atom('after'), deadline, 'barrier message');
      expect(await hasNow(p, ptuple(atoms.EXIT, q, atom('boom')))).toBe(false);
    });
  });
}
