import { describe, expect, it } from 'vitest';
import { ErlMap, ImproperList, Tuple, atom, float, type Term } from '@courier/term';
import { _, ptuple } from '@courier/core';
import type { CarrierHarness } from '../harness.js';
import { el, puppet, recv, same } from '../util/actors.js';
import { connectedPair } from '../util/nodes.js';

/** A message exercising most of the term model. */
function richMessage(from: Term): Term {
  return new Tuple([
    atom('hello'),
    from,
    [1, -1, 2 ** 40, 2n ** 100n, 1.5, float(2), 'chars'],
    Buffer.from('binary\u0000bytes'),
    new ErlMap([
      [atom('k'), new Tuple([])],
      ['str', []],
    ]),
    new ImproperList([atom('alias')], atom('tail')),
    true,
  ]);
}

export function messagingCases(h: () => CarrierHarness, deadline: number): void {
  describe('messages across nodes', () => {
    it('sends to a remote pid; the term arrives equal', async () => {
      const { nodeA: a, nodeB: b } = await connectedPair(h(), deadline);
      const p = puppet(a);
      const q = puppet(b);
      const msg = richMessage(p.pid);
      p.send(q.pid, msg);
      const got = await recv(q, undefined, deadline, 'message by pid');
      expect(same(got, msg)).toBe(true);
      // The sender pid in the message identifies the remote process: reply by it.
      q.send(el(got, 1) as typeof p.pid, atom('reply'));
      await recv(p, atom('reply'), deadline, 'reply to the pid received');
    });

    it('sends to {Name, Node}, as a tuple and as { name, node }, from a process and from outside', async () => {
      const { nodeA: a, nodeB: b } = await connectedPair(h(), deadline);
      const p = puppet(a);
      const q = puppet(b, { name: 'registered_q' });
      p.send(new Tuple([atom('registered_q'), b.name]), atom('one'));
      p.send({ name: 'registered_q', node: b.name.name }, atom('two'));
      a.send({ name: atom('registered_q'), node: b.name }, atom('three'));
      for (const m of ['one', 'two', 'three']) expect(await recv(q, undefined, deadline, `message ${m}`)).toBe(atom(m));
      // A name nobody holds: dropped quietly on the far side, the connection stays.
      p.send({ name: 'nobody_here', node: b.name }, atom('lost'));
      p.send(q.pid, atom('after'));
      expect(await recv(q, undefined, deadline, 'message after a drop')).toBe(atom('after'));
    });

    it('sends to a remote alias', async () => {
      const { nodeA: a, nodeB: b } = await connectedPair(h(), deadline);
      const p = puppet(a);
      const q = puppet(b);
      const alias = p.alias();
      p.send(q.pid, new Tuple([atom('reply_to'), alias]));
      const req = await recv(q, ptuple(atom('reply_to'), _), deadline, 'request');
      q.send(el(req, 1) as typeof alias, atom('via_alias'));
      expect(await recv(p, undefined, deadline, 'message by alias')).toBe(atom('via_alias'));
    });

    it('delivers 10 000 messages from one sender in order', async () => {
      const { nodeA: a, nodeB: b } = await connectedPair(h(), deadline);
      const p = puppet(a);
      const q = puppet(b);
      const n = 10_000;
      for (let i = 0; i < n; i++) p.send(q.pid, new Tuple([atom('seq'), i]));
      for (let i = 0; i < n; i++) {
        const m = await recv(q, undefined, deadline, `message ${i}`);
        if (el(m, 1) !== i) expect.fail(`message ${i} arrived as ${String(el(m, 1))}`);
      }
      expect(q.mailbox.length).toBe(0);
    });

    it('keeps order per sender with two senders on each side, both ways', async () => {
      const { nodeA: a, nodeB: b } = await connectedPair(h(), deadline);
      const [p1, p2] = [puppet(a), puppet(a)];
      const [q1, q2] = [puppet(b), puppet(b)];
      const n = 500;
      for (let i = 0; i < n; i++) {
        p1.send(q1.pid, new Tuple([atom('p1'), i]));
        p2.send(q1.pid, new Tuple([atom('p2'), i]));
        q2.send(p1.pid, i);
      }
      const next = { p1: 0, p2: 0 };
      for (let i = 0; i < 2 * n; i++) {
        const m = (await recv(q1, undefined, deadline, 'interleaved')) as Tuple;
        const who = (el(m, 0) as { name: 'p1' | 'p2' }).name;
        expect(el(m, 1)).toBe(next[who]++);
      }
      for (let i = 0; i < n; i++) expect(await recv(p1, undefined, deadline, 'reverse')).toBe(i);
      expect(q2.mailbox.length + p2.mailbox.length).toBe(0);
    });

    it('carries a large message (4 MiB binary) intact', async () => {
      const { nodeA: a, nodeB: b } = await connectedPair(h(), deadline);
      const p = puppet(a);
      const q = puppet(b);
      const big = Buffer.alloc(4 * 1024 * 1024);
      for (let i = 0; i < big.length; i++) big[i] = (i * 7) & 0xff;
      p.send(q.pid, new Tuple([atom('big'), big]));
      p.send(q.pid, atom('small_after'));
      const got = await recv(q, undefined, deadline, 'large message');
      expect(Buffer.from(el(got, 1) as Uint8Array).equals(big)).toBe(true);
      expect(await recv(q, undefined, deadline, 'next message')).toBe(atom('small_after'));
    });
  });
}
