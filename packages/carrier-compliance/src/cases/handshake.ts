import { describe, expect, it } from 'vitest';
import { atom } from '@courier/term';
import { HandshakeError, type Handshake, type HandshakeAction, type HandshakeArbiter, type HandshakeResult } from '@courier/core';
import type { CarrierHarness } from '../harness.js';

type Status = ReturnType<HandshakeArbiter['acceptPending']>;

interface Side {
  done?: HandshakeResult;
  fail?: HandshakeError;
  /** Deliveries received (one per batch of writes from the other side). */
  deliveries: number;
  /** The delivery that brought `done`. */
  doneAt?: number;
  /** Bytes of that delivery not fed because `done` came first (a driver hands them to the session). */
  unfed?: Uint8Array;
}

const A = atom('hs_a@localhost');
const B = atom('hs_b@localhost');

function arbiter(status: Status): HandshakeArbiter & { asked: string[] } {
  const asked: string[] = [];
  return { asked, acceptPending: (peer) => (asked.push(peer.name), status) };
}

function concat(parts: Uint8Array[]): Uint8Array {
  return Buffer.concat(parts);
}

/**
 * Run both roles against each other without I/O. Each batch of writes is one delivery, split
 * into pieces of `size` bytes (0: whole). `extra(side, delivery)` may append bytes to a delivery.
 */
function pump(
  initiator: Handshake,
  acceptor: Handshake,
  size: number,
  extra: (side: 'initiator' | 'acceptor', delivery: number) => Uint8Array | undefined = () => undefined,
): { initiator: Side; acceptor: Side } {
  const sides = { initiator: { deliveries: 0 } as Side, acceptor: { deliveries: 0 } as Side };
  const hs = { initiator, acceptor };
  const queue: Array<{ to: 'initiator' | 'acceptor'; bytes: Uint8Array }> = [];
  const collect = (from: 'initiator' | 'acceptor', actions: HandshakeAction[], delivery: number): void => {
    const writes: Uint8Array[] = [];
    for (const a of actions) {
      if (a.type === 'write') writes.push(a.bytes);
      else if (a.type === 'done') {
        expect(sides[from].done, `${from} finished twice`).toBeUndefined();
        sides[from].done = a.result;
        sides[from].doneAt = delivery;
      } else if (a.type === 'fail') sides[from].fail = a.error;
    }
    if (writes.length > 0) queue.push({ to: from === 'initiator' ? 'acceptor' : 'initiator', bytes: concat(writes) });
  };
  collect('initiator', initiator.start(), 0);
  collect('acceptor', acceptor.start(), 0);
  for (let steps = 0; queue.length > 0; steps++) {
    if (steps > 100) throw new Error('the handshake does not converge');
    const { to, bytes } = queue.shift() as { to: 'initiator' | 'acceptor'; bytes: Uint8Array };
    const side = sides[to];
    if (side.done !== undefined || side.fail !== undefined) continue;
    const delivery = ++side.deliveries;
    const more = extra(to, delivery);
    const all = more === undefined ? bytes : concat([bytes, more]);
    const n = size === 0 ? all.length : size;
    for (let at = 0; at < all.length; at += n) {
      collect(to, hs[to].receive(all.subarray(at, Math.min(at + n, all.length))), delivery);
      if (side.done !== undefined) side.unfed = all.subarray(Math.min(at + n, all.length));
      if (side.done !== undefined || side.fail !== undefined) break;
    }
  }
  return sides;
}

export function handshakeCases(h: () => CarrierHarness): void {
  const pair = (status: Status = 'ok', acceptorCookie = 'secret') =>
    h().handshakePair({ initiator: A, acceptor: B, initiatorCookie: 'secret', acceptorCookie, arbiter: arbiter(status) });

  describe('handshake (sans-IO)', () => {
    for (const size of [1, 2, 3, 7, 0]) {
      it(`completes on both sides when bytes arrive ${size === 0 ? 'whole' : `${size} at a time`}`, () => {
        const { initiator, acceptor } = pump(pair().initiator, pair().acceptor, size);
        expect(initiator.fail).toBeUndefined();
        expect(acceptor.fail).toBeUndefined();
        expect(initiator.done?.peer).toBe(B);
        expect(acceptor.done?.peer).toBe(A);
        expect(initiator.done?.flags).toBe(acceptor.done?.flags);
        expect(initiator.done?.hidden ?? false).toBe(acceptor.done?.hidden ?? false);
        expect(initiator.done?.tail.length).toBe(0);
        expect(acceptor.done?.tail.length).toBe(0);
      });
    }

    for (const size of [0, 1, 2, 5]) {
      it(`hands bytes glued to the last handshake message to the session (${size === 0 ? 'one chunk' : `pieces of ${size}`})`, () => {
        const clean = pump(pair().initiator, pair().acceptor, 0);
        const last = { initiator: clean.initiator.doneAt, acceptor: clean.acceptor.doneAt };
        const glued = { initiator: Buffer.from([0, 0, 0, 3, 131, 106, 7]), acceptor: Buffer.from('first frame') };
        const r = pump(pair().initiator, pair().acceptor, size, (side, d) => (d === last[side] ? glued[side] : undefined));
        for (const side of ['initiator', 'acceptor'] as const) {
          const done = r[side].done;
          expect(done, `${side} finished`).toBeDefined();
          // The tail, then what the driver still holds: exactly the glued bytes, none lost or doubled.
          const seen = Buffer.concat([done?.tail ?? new Uint8Array(0), r[side].unfed ?? new Uint8Array(0)]);
          expect(seen.equals(glued[side]), side).toBe(true);
          if (size === 0) expect(Buffer.from(done?.tail ?? []).equals(glued[side])).toBe(true);
        }
      });
    }

    it('refuses a peer with another cookie: BAD_COOKIE, and neither side finishes', () => {
      const { initiator, acceptor } = pump(pair('ok').initiator, pair('ok', 'other').acceptor, 0);
      expect(acceptor.fail).toBeInstanceOf(HandshakeError);
      expect(acceptor.fail?.code).toBe('BAD_COOKIE');
      expect(acceptor.done).toBeUndefined();
      expect(initiator.done).toBeUndefined();
    });

    it('answers nok: the initiator fails with NOK and nothing finishes', () => {
      const { initiator, acceptor } = pump(pair().initiator, pair('nok').acceptor, 0);
      expect(initiator.fail?.code).toBe('NOK');
      expect(initiator.done).toBeUndefined();
      expect(acceptor.done).toBeUndefined();
    });

    it('answers not_allowed: the initiator fails with NOT_ALLOWED', () => {
      const { initiator, acceptor } = pump(pair().initiator, pair('not_allowed').acceptor, 0);
      expect(initiator.fail?.code).toBe('NOT_ALLOWED');
      expect(acceptor.done).toBeUndefined();
    });

    for (const status of ['ok_simultaneous', 'alive'] as const) {
      it(`answers ${status}: the initiator goes on and both finish`, () => {
        const arb = arbiter(status);
        const acceptor = h().handshakePair({ initiator: A, acceptor: B, initiatorCookie: 'secret', acceptorCookie: 'secret', arbiter: arb }).acceptor;
        const r = pump(pair().initiator, acceptor, 0);
        expect(arb.asked).toEqual([A.name]);
        expect(r.initiator.done?.peer).toBe(B);
        expect(r.acceptor.done?.peer).toBe(A);
      });
    }

    it('fails (never throws) on garbage, in either role', () => {
      // Whatever the length prefix (2 or 4 bytes), 0xff… either declares an impossible size or
      // frames a message with an unknown tag; a handshake must refuse it rather than wait or throw.
      const garbage = Buffer.alloc(70_000, 0xff);
      const { initiator, acceptor } = pair();
      initiator.start();
      const ia = initiator.receive(garbage);
      acceptor.start();
      const aa = [...acceptor.receive(garbage.subarray(0, 5)), ...acceptor.receive(garbage.subarray(5))];
      expect(ia.some((a) => a.type === 'fail' && a.error instanceof HandshakeError)).toBe(true);
      expect(aa.some((a) => a.type === 'fail' && a.error instanceof HandshakeError)).toBe(true);
      expect(ia.some((a) => a.type === 'done') || aa.some((a) => a.type === 'done')).toBe(false);
    });
  });
}
