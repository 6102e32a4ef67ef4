import { describe, expect, it } from 'vitest';
import { atom, type Atom } from '@courier/term';
import { HandshakeError, type Node, type Transport } from '@courier/core';
import type { CarrierHarness } from '../harness.js';
import { rejection, within } from '../util/deadline.js';
import { recordingLogger } from '../util/log.js';
import { puppet, recv } from '../util/actors.js';
import { COOKIE, connectedPair, events, isDown, isUp, nodeName } from '../util/nodes.js';

/** A message from `from` to a process on `to` arrives: the connection works. */
async function roundTrip(from: Node, to: Node, deadline: number): Promise<void> {
  const p = puppet(from);
  const q = puppet(to);
  p.send(q.pid, atom('ping'));
  await recv(q, atom('ping'), deadline, `${from.name.name} → ${to.name.name}`);
  q.send(p.pid, atom('pong'));
  await recv(p, atom('pong'), deadline, `${to.name.name} → ${from.name.name}`);
}

/** One connection attempt through the node's pipeline over `transport`, to see its typed error. */
function attempt(node: Node, transport: Transport, peer: Atom): Promise<unknown> {
  return Promise.resolve().then(() => node.pipeline.dial(peer, transport.dialer(peer)));
}

export function connectCases(h: () => CarrierHarness, deadline: number, handshakeTimeoutMs: number, refused = 'BAD_COOKIE'): void {
  describe('connections', () => {
    it(`a wrong cookie fails the handshake with HandshakeError ${refused}, logged; the node carries on`, async () => {
      const log = recordingLogger();
      const [A, B, C] = ['a', 'b', 'c'].map(nodeName) as [string, string, string];
      const [a, b, c] = (await h().makeNodes([A, B, C], { cookie: COOKIE, cookies: { [C]: 'not-the-cookie' }, log })) as [Node, Node, Node];
      for (const [from, to] of [
        [a, c],
        [c, a],
      ] as const) {
        const err = await rejection(attempt(from, h().transportOf(from), to.name), deadline, `${from.name.name} → ${to.name.name}`);
        expect(err).toBeInstanceOf(HandshakeError);
        expect((err as HandshakeError).code).toBe(refused);
        const warned = log.records.some((r) => r.level === 'warn' && r.fields['node'] === to.name.name && r.fields['code'] === refused);
        expect(warned, `${to.name.name} logged ${refused} at warn`).toBe(true);
        expect(JSON.stringify(log.records, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))).not.toContain('not-the-cookie');
        expect(await within(from.connect(to.name), deadline, 'connect through the node')).toBe(false);
      }
      expect(a.nodes()).toEqual([]);
      expect(c.nodes()).toEqual([]);
      expect(await within(a.connect(B), deadline, 'a → b')).toBe(true);
      await roundTrip(a, b, deadline);
    });

    it('a peer that never answers fails the handshake with HandshakeError TIMEOUT; other connections go on meanwhile', async () => {
      const [A, B, G] = ['a', 'b', 'ghost'].map(nodeName) as [string, string, string];
      const [a, b] = (await h().makeNodes([A, B], { cookie: COOKIE, handshakeTimeoutMs })) as [Node, Node];
      await h().silentPeer(G);
      const started = Date.now();
      const hung = rejection(attempt(a, h().transportOf(a), atom(G)), handshakeTimeoutMs + deadline, 'connect to the silent peer');
      expect(await within(a.connect(B), deadline, 'a → b while the other attempt hangs')).toBe(true);
      await roundTrip(a, b, deadline);
      const err = await hung;
      expect(err).toBeInstanceOf(HandshakeError);
      expect((err as HandshakeError).code).toBe('TIMEOUT');
      expect(Date.now() - started).toBeGreaterThanOrEqual(handshakeTimeoutMs - 20);
      expect(await within(a.connect(G), handshakeTimeoutMs + deadline, 'connect through the node')).toBe(false);
      expect(a.nodes()).toEqual([b.name]);
      await roundTrip(b, a, deadline);
    });

    for (let round = 0; round < 4; round++) {
      it(`simultaneous connect leaves exactly one connection, each side sees the other up once (round ${round + 1})`, async () => {
        const names = [`sim${round}a`, `sim${round}b`].map(nodeName);
        const [a, b] = (await h().makeNodes(round % 2 === 0 ? names : [...names].reverse(), { cookie: COOKIE })) as [Node, Node];
        const ea = events(a);
        const eb = events(b);
        const [upA, upB] = await within(Promise.all([a.connect(b.name), b.connect(a.name)]), deadline, 'both connects');
        expect([upA, upB]).toEqual([true, true]);
        await roundTrip(a, b, deadline);
        await roundTrip(b, a, deadline);
        expect(a.nodes()).toEqual([b.name]);
        expect(b.nodes()).toEqual([a.name]);
        expect(ea.count(isUp(b))).toBe(1);
        expect(eb.count(isUp(a))).toBe(1);
        expect(ea.count(isDown(b))).toBe(0);
        expect(eb.count(isDown(a))).toBe(0);
        const open = h().openConnections?.();
        if (open !== undefined) expect(open).toBe(1);
      });
    }

    for (const first of ['acceptor', 'initiator'] as const) {
      it(`a frame glued to the last handshake message reaches the session (sent by the ${first} on nodeup)`, async () => {
        const [A, B] = ['a', 'b'].map(nodeName) as [string, string];
        const [a, b] = (await h().makeNodes([A, B], { cookie: COOKIE })) as [Node, Node];
        const [sender, receiver] = first === 'acceptor' ? [b, a] : [a, b];
        const inbox = puppet(receiver, { name: 'inbox' });
        const sub = sender.events$.subscribe((e) => {
          if (e.type === 'nodeup') sender.send({ name: 'inbox', node: receiver.name }, atom('first'));
        });
        expect(await within(a.connect(B), deadline, 'connect')).toBe(true);
        await recv(inbox, atom('first'), deadline, 'the first frame');
        sub.unsubscribe();
      });
    }

    it('nodes() lists the peer on both sides, and not after a disconnect', async () => {
      const { nodeA: a, nodeB: b, eventsB: eb } = await connectedPair(h(), deadline);
      expect(a.nodes()).toEqual([b.name]);
      expect(b.nodes()).toEqual([a.name]);
      expect(a.disconnect(b.name)).toBe(true);
      expect(a.nodes()).toEqual([]);
      await eb.next(isDown(a), deadline, 'nodedown at b');
      expect(b.nodes()).toEqual([]);
      const again: Atom = b.name;
      expect(await within(a.connect(again), deadline, 'reconnect')).toBe(true);
      await roundTrip(b, a, deadline);
    });
  });
}
