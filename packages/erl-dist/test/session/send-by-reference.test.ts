import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Pid, Tuple, atom, termEquals, type Term } from '@courier/term';
import { silentLogger, type DistOp, type Router } from '@courier/core';
import { ErlSession } from '../../src/session/erl-session.js';
import { COURIER_FLAGS } from '../../src/handshake/flags.js';
import { FakeCarrier, writtenMessages } from './fake-carrier.js';

const peer = atom('erl@127.0.0.1');
const to = new Pid(peer, 1, 0, 1);
const senders = [new Pid(atom('me@127.0.0.1'), 2, 0, 1), new Pid(atom('me@127.0.0.1'), 3, 0, 1)];
const tick = () => new Promise((r) => process.nextTick(r));

function session(o: { fragmentSize: number; sendByReferenceMin: number; busyLimit?: number }) {
  const carrier = new FakeCarrier(true);
  const router: Router = { route: () => undefined, nodeDown: () => undefined };
  const s = new ErlSession(carrier, router, { peer, flags: COURIER_FLAGS, hidden: true, carrierName: 'fake', log: silentLogger, ...o });
  return { s, carrier };
}

/** Every message written, whole (fragments reassembled), with its sender, in the order its last byte went out. */
function messages(carrier: FakeCarrier): Array<[Term, Term]> {
  // SEND_SENDER {22, From, To}, then the message
  return writtenMessages(carrier).map((m) => [(m.control as Tuple).elements[1], m.payload]);
}

const send = (from: Pid, msg: Term): DistOp => ({ op: 'send', from, to, msg });

const msgArb: fc.Arbitrary<Term> = fc.oneof(
  fc.integer({ min: 0, max: 6000 }).map((n) => new Uint8Array(n).fill(n & 0xff)),
  fc.tuple(fc.integer({ min: 0, max: 3000 }), fc.integer({ min: 0, max: 3000 })).map(([a, b]) => new Tuple([new Uint8Array(a).fill(1), atom('mid'), new Uint8Array(b).fill(2)])),
  fc.constantFrom<Term>(atom('small'), 42),
);

describe('ErlSession: large binaries sent by reference (writev, no copy)', () => {
  it('every message arrives whole and in order per sender, fragments cut across binaries and buffer views (fast-check)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 1 }), msgArb), { minLength: 1, maxLength: 12 }),
        fc.integer({ min: 16, max: 2048 }),
        fc.integer({ min: 1, max: 4000 }),
        fc.boolean(),
        async (msgs, fragmentSize, sendByReferenceMin, full) => {
          const { s, carrier } = session({ fragmentSize, sendByReferenceMin });
          carrier.full = full;
          for (const [who, m] of msgs) s.send(send(senders[who] as Pid, m));
          await tick();
          // One fragment goes out per drain once the carrier says full: 16-byte fragments of a few KiB
          // of binaries are thousands of drains (a cap of 2,000 once cut a 10-message case short).
          for (let i = 0; i < 1_000_000 && s.queuedBytes > 0; i++) s.onDrain();
          expect(s.queuedBytes).toBe(0);
          const got = messages(carrier);
          expect(got).toHaveLength(msgs.length);
          for (const who of [0, 1]) {
            const sent = msgs.filter(([w]) => w === who).map(([, m]) => m);
            const came = got.filter(([f]) => termEquals(f, senders[who] as Pid)).map(([, m]) => m);
            expect(came.length).toBe(sent.length);
            sent.forEach((m, i) => expect(termEquals(came[i], m)).toBe(true));
          }
        },
      ),
      { numRuns: process.env.CI === 'true' ? 400 : 150 },
    );
  });

  it('a binary from the threshold up goes to the carrier as the very array; smaller ones are copied', async () => {
    const { s, carrier } = session({ fragmentSize: 1 << 30, sendByReferenceMin: 1024 });
    const big = new Uint8Array(4096).fill(9);
    const small = new Uint8Array(1023).fill(8);
    s.send(send(senders[0] as Pid, big));
    s.send(send(senders[0] as Pid, small));
    await tick();
    expect(carrier.out).toContain(big);
    expect(carrier.out).not.toContain(small);
    expect(messages(carrier).map(([, m]) => (m as Uint8Array).length)).toEqual([4096, 1023]);
  });

  it('fragments are views: a referenced binary is cut without copying, and the fragment count is right', () => {
    const { s, carrier } = session({ fragmentSize: 1000, sendByReferenceMin: 100 });
    const big = new Uint8Array(2500).fill(5);
    s.send(send(senders[0] as Pid, big));
    // Every chunk after a fragment header of the binary is a view of `big` itself.
    const views = carrier.out.filter((c) => c.buffer === big.buffer);
    expect(views.length).toBeGreaterThanOrEqual(3);
    expect(views.reduce((n, v) => n + v.length, 0)).toBe(2500);
    expect(termEquals((messages(carrier)[0] as [Term, Term])[1], big)).toBe(true);
  });

  it('the busy limit counts referenced bytes (waiting in the encoder and in the lanes)', () => {
    const { s, carrier } = session({ fragmentSize: 1 << 30, sendByReferenceMin: 1024, busyLimit: 64 * 1024 });
    carrier.full = true;
    expect(s.send(send(senders[0] as Pid, new Uint8Array(100 * 1024)))).toBe(false);
    expect(s.queuedBytes).toBeGreaterThanOrEqual(100 * 1024);
    expect(s.busy).toBe(true);
    const f = session({ fragmentSize: 4096, sendByReferenceMin: 1024, busyLimit: 64 * 1024 });
    f.carrier.full = true;
    expect(f.s.send(send(senders[0] as Pid, new Uint8Array(100 * 1024)))).toBe(false);
    expect(f.s.queuedBytes).toBeGreaterThan(90 * 1024);
    for (let i = 0; i < 30; i++) f.s.onDrain();
    expect(f.s.queuedBytes).toBe(0);
  });

  it('a message that cannot be encoded after a referenced binary leaves nothing behind', async () => {
    const { s, carrier } = session({ fragmentSize: 1 << 30, sendByReferenceMin: 16 });
    s.send(send(senders[0] as Pid, new Uint8Array(32).fill(1)));
    expect(() => s.send(send(senders[0] as Pid, [new Uint8Array(64), Symbol('x') as unknown as Term]))).toThrow(/badarg/);
    s.send(send(senders[0] as Pid, new Uint8Array(48).fill(3)));
    await tick();
    expect(messages(carrier).map(([, m]) => (m as Uint8Array).length)).toEqual([32, 48]);
  });
});
