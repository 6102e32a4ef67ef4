import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Pid, Tuple, atom, termEquals, type Term } from '@courier/term';
import { silentLogger, type DistOp, type Router } from '@courier/core';
import { ErlSession } from '../../src/session/erl-session.js';
import { COURIER_FLAGS } from '../../src/handshake/flags.js';
import { FakeCarrier } from './fake-carrier.js';

/**
 * A session over a carrier that reads in place (plain TCP with InPlaceReads): each read goes into
 * the session's readBuffer() — a fragment's data straight into its message's buffer — or into one
 * buffer the carrier reuses for every read. Nothing the session hands on may be a view of that
 * buffer: the test scribbles over it after every read and compares the messages at the end.
 */
const peer = atom('erl@127.0.0.1');
const to = new Pid(peer, 1, 0, 1);
const opts = { peer, flags: COURIER_FLAGS, hidden: true, carrierName: 'fake', log: silentLogger };

class InPlaceCarrier extends FakeCarrier {
  readonly readsInPlace = true;
}

async function wireOf(msgs: readonly Term[], fragmentSize: number): Promise<Uint8Array> {
  const carrier = new FakeCarrier();
  const s = new ErlSession(carrier, { route: () => undefined, nodeDown: () => undefined }, { ...opts, fragmentSize, busyLimit: 1 << 30 });
  for (const msg of msgs) s.send({ op: 'send', to, msg });
  await new Promise((r) => process.nextTick(r));
  return Buffer.concat(carrier.out);
}

function receive(bytes: Uint8Array, sizes: readonly number[]): { got: Term[]; inPlace: number } {
  const got: Term[] = [];
  const router: Router = { route: (op: DistOp) => void got.push((op as { msg: Term }).msg), nodeDown: () => undefined };
  const s = new ErlSession(new InPlaceCarrier(), router, opts);
  const own = new Uint8Array(64 * 1024);
  let inPlace = 0;
  for (let p = 0, i = 0; p < bytes.length; i++) {
    const asked = s.readBuffer();
    if (asked !== undefined && asked.length > 4096) inPlace++;
    const target = asked ?? own;
    const k = Math.min(target.length, bytes.length - p, sizes[i % sizes.length] as number);
    target.set(bytes.subarray(p, p + k));
    s.onData(target.subarray(0, k));
    own.fill(0xee);
    p += k;
  }
  s.close();
  return { got, inPlace };
}

const bin = (n: number, seed: number) => {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (seed + i * 13) & 0xff;
  return b;
};

const msgArb: fc.Arbitrary<Term> = fc.oneof(
  fc.tuple(fc.integer({ min: 0, max: 200_000 }), fc.nat(255)).map(([n, s]) => bin(n, s)),
  fc.tuple(fc.integer({ min: 0, max: 5000 }), fc.integer({ min: 0, max: 90_000 })).map(([a, b]) => new Tuple([bin(a, 1), atom('mid'), bin(b, 2)])),
  fc.constantFrom<Term>(atom('small'), 42, new Tuple([atom('ok'), bin(40, 3)])),
);

describe('ErlSession over a carrier that reads in place', () => {
  it('every message arrives whole and in order, none a view of the reused read buffer (fast-check)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(msgArb, { minLength: 1, maxLength: 10 }),
        fc.constantFrom(64 * 1024, 1024, 70_000, 1 << 30),
        fc.array(fc.integer({ min: 1, max: 70_000 }), { minLength: 1, maxLength: 6 }),
        async (msgs, fragmentSize, sizes) => {
          const { got } = receive(await wireOf(msgs, fragmentSize), sizes);
          expect(got.length).toBe(msgs.length);
          msgs.forEach((m, i) => expect(termEquals(got[i], m)).toBe(true));
        },
      ),
      { numRuns: process.env.CI === 'true' ? 200 : 80 },
    );
  });

  it('a 1 MiB binary in 64 KiB fragments is read in place, fragment by fragment', async () => {
    const big = bin(1 << 20, 7);
    const { got, inPlace } = receive(await wireOf([big, atom('after')], 64 * 1024), [1 << 20]);
    expect(termEquals(got[0], big)).toBe(true);
    expect(got[1]).toBe(atom('after'));
    // 17 fragments: all but the tail of the first read and the last, short one land in place.
    expect(inPlace).toBeGreaterThanOrEqual(15);
  });
});
