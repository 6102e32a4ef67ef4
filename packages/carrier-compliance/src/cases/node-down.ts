import { describe, expect, it } from 'vitest';
import { Pid, Tuple, atom, atoms } from '@courier/term';
import { _, ptuple } from '@courier/core';
import type { CarrierHarness } from '../harness.js';
import { turns, within } from '../util/deadline.js';
import { downFor, el, exitFrom, hasNow, puppet, recv, same, victim } from '../util/actors.js';
import { connectedPair, isDown, isUp, nodeAtom } from '../util/nodes.js';
import { exitOf, exits } from './links.js';

const NOCONNECTION = atoms.noconnection;

export function nodeDownCases(h: () => CarrierHarness, deadline: number): void {
  describe('connection loss', () => {
    for (const how of ['the session is closed', 'the peer node stops'] as const) {
      it(`when ${how}: EXIT/DOWN noconnection, {nodedown, Node}, and a nodedown event`, async () => {
        const { nodeA: a, nodeB: b, eventsA: ea, eventsB: eb } = await connectedPair(h(), deadline);
        const xa = exits(a);
        const xb = exits(b);
        const trapping = puppet(a, { trapExit: true });
        const plain = puppet(a);
        const watcher = puppet(a);
        const nodeWatcher = puppet(a);
        const q = puppet(b);
        const q2 = victim(b);
        puppet(b, { name: 'gone_with_b' });
        trapping.link(q.pid);
        plain.link(q2);
        const ref = watcher.monitor(q.pid);
        const nameRef = watcher.monitor({ name: 'gone_with_b', node: b.name });
        nodeWatcher.monitorNode(b.name);
        // b has seen the link (it travels before this message): it will fire on its side too.
        trapping.send(q.pid, atom('sync'));
        await recv(q, atom('sync'), deadline, 'the link is set up on b');
        const victimOnB = puppet(b);
        victimOnB.link(trapping.pid);
        victimOnB.send(trapping.pid, atom('sync_back'));
        await recv(trapping, atom('sync_back'), deadline, 'b → a link set up');

        if (how === 'the session is closed') expect(a.disconnect(b.name)).toBe(true);
        else await within(b.stop(), deadline, 'b stops');

        const ex = await recv(trapping, exitFrom(q.pid), deadline, 'EXIT noconnection');
        expect(el(ex, 2)).toBe(NOCONNECTION);
        expect((await xa.next(exitOf(plain.pid), deadline, 'untrapped linked process exits')).reason).toBe(NOCONNECTION);
        const down = await recv(watcher, downFor(ref), deadline, 'DOWN noconnection');
        expect(el(down, 3)).toBe(q.pid);
        expect(el(down, 4)).toBe(NOCONNECTION);
        const named = await recv(watcher, downFor(nameRef), deadline, 'DOWN noconnection for {Name, Node}');
        expect(same(el(named, 3), new Tuple([atom('gone_with_b'), b.name]))).toBe(true);
        expect(el(named, 4)).toBe(NOCONNECTION);
        const nd = await recv(nodeWatcher, ptuple(atom('nodedown'), _), deadline, '{nodedown, Node}');
        expect(el(nd, 1)).toBe(b.name);
        await ea.next(isDown(b), deadline, 'nodedown event at a');
        expect(a.nodes()).toEqual([]);
        expect(ea.count(isDown(b))).toBe(1);
        if (how === 'the session is closed') {
          // b sees the loss too: its process linked to a's process dies with noconnection.
          await eb.next(isDown(a), deadline, 'nodedown event at b');
          expect((await xb.next(exitOf(victimOnB.pid), deadline, 'b side link fires')).reason).toBe(NOCONNECTION);
          expect(b.nodes()).toEqual([]);
          // And the nodes can talk again.
          const p = puppet(a);
          const r = puppet(b);
          p.send(r.pid, atom('again'));
          await recv(r, atom('again'), deadline, 'message after reconnecting');
        }
        expect(await hasNow(nodeWatcher, ptuple(atom('nodedown'), _))).toBe(false);
        expect(trapping.alive).toBe(true);
      });
    }

    it('a process linked to several processes across a lost connection dies once and does not redial', async () => {
      const { nodeA: a, nodeB: b, eventsA: ea, eventsB: eb } = await connectedPair(h(), deadline);
      const xa = exits(a);
      const plain = puppet(a);
      const [q1, q2, q3] = [puppet(b), puppet(b), puppet(b)];
      for (const q of [q1, q2, q3]) plain.link(q.pid);
      const ref = plain.monitor(q1.pid);
      plain.send(q3.pid, atom('sync'));
      await recv(q3, atom('sync'), deadline, 'links set up on b');
      expect(a.disconnect(b.name)).toBe(true);
      expect((await xa.next(exitOf(plain.pid), deadline, 'the linked process exits')).reason).toBe(NOCONNECTION);
      await eb.next(isDown(a), deadline, 'nodedown at b');
      void ref;
      // Links and monitors across the lost connection are gone with it: nothing is sent back.
      await turns(30);
      expect(a.nodes()).toEqual([]);
      expect(b.nodes()).toEqual([]);
      expect(ea.count(isUp(b))).toBe(1);
      expect(eb.count(isUp(a))).toBe(1);
      const open = h().openConnections?.();
      if (open !== undefined) expect(open).toBe(0);
      expect(xa.count(exitOf(plain.pid))).toBe(1);
    });

    it('a stopped node does not connect again', async () => {
      const { nodeA: a, nodeB: b, eventsA: ea } = await connectedPair(h(), deadline);
      const q = puppet(a, { name: 'still_here' });
      await within(b.stop(), deadline, 'b stops');
      await ea.next(isDown(b), deadline, 'nodedown at a');
      b.send({ name: 'still_here', node: a.name }, atom('from_the_dead'));
      expect(await within(b.connect(a.name), deadline, 'connect from a stopped node')).toBe(false);
      await turns(30);
      expect(ea.count(isUp(b))).toBe(1);
      expect(a.nodes()).toEqual([]);
      expect(await hasNow(q, atom('from_the_dead'))).toBe(false);
    });

    it('monitorNode on a node nobody runs gives one {nodedown, Node}', async () => {
      const { nodeA: a } = await connectedPair(h(), deadline);
      const p = puppet(a);
      const nowhere = nodeAtom('nowhere');
      p.monitorNode(nowhere);
      const nd = await recv(p, ptuple(atom('nodedown'), nowhere), deadline, '{nodedown, nowhere}');
      expect(el(nd, 1)).toBe(nowhere);
      p.send(p.pid, atom('after'));
      await recv(p, atom('after'), deadline, 'barrier');
      expect(await hasNow(p, ptuple(atom('nodedown'), _))).toBe(false);
    });

    it('a message to a node nobody runs is dropped; a link to a pid there fires noconnection', async () => {
      const { nodeA: a } = await connectedPair(h(), deadline);
      const p = puppet(a, { trapExit: true });
      const ghostPid = new Pid(nodeAtom('nowhere'), 42, 0, 1);
      p.send(ghostPid, atom('lost'));
      p.link(ghostPid);
      const ex = await recv(p, exitFrom(ghostPid), deadline, 'EXIT noconnection');
      expect(el(ex, 2)).toBe(NOCONNECTION);
    });
  });
}
