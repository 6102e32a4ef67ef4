import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Pid, Tuple, atom, atoms, encode, termEquals, type Term } from '@courier/term';
import { UsageError, silentLogger, type DistOp, type Router } from '@courier/core';
import { ErlSession } from '../../src/session/erl-session.js';
import { COURIER_FLAGS } from '../../src/handshake/flags.js';
import { FakeCarrier, writtenMessages } from './fake-carrier.js';

const peer = atom('erl@127.0.0.1');
const to = new Pid(peer, 1, 0, 1);
const from = new Pid(atom('me@127.0.0.1'), 2, 0, 1);

function session(opts: { busyLimit?: number; warns?: unknown[] } = {}) {
  const carrier = new FakeCarrier();
  const router: Router = { route: () => undefined, nodeDown: () => undefined };
  const warns = opts.warns ?? [];
  const log = { ...silentLogger, warn: (o: unknown) => warns.push(o), child: () => log };
  const s = new ErlSession(carrier, router, { peer, flags: COURIER_FLAGS, hidden: true, carrierName: 'fake', log, busyLimit: opts.busyLimit, fragmentSize: 1 << 30 });
  return { s, carrier, warns };
}

/** The payloads (messages) of every frame written so far (the control term of one without), decoded. */
async function frames(carrier: FakeCarrier): Promise<Term[]> {
  await new Promise((r) => process.nextTick(r));
  return writtenMessages(carrier).map((m) => m.payload ?? m.control);
}

const send = (msg: Term): DistOp => ({ op: 'send', from, to, msg });

describe('ErlSession.send: a term with no Erlang form', () => {
  const bad: Array<[string, unknown]> = [
    ['NaN', NaN],
    ['Infinity', -Infinity],
    ['a function', () => 1],
    ['a Date', new Date()],
    ['a Symbol', Symbol('x')],
    ['a Map', new Map()],
  ];
  it.each(bad)('%s is refused with BADARG and leaves no byte behind; the next message is intact', async (_name, value) => {
    const { s, carrier } = session();
    s.send(send(atom('before')));
    const nested = new Tuple([atom('ok'), [1, 2, { deep: value as Term }]]);
    expect(() => s.send(send(nested))).toThrow(UsageError);
    try {
      s.send(send(nested));
    } catch (e) {
      expect((e as UsageError).code).toBe('BADARG');
    }
    s.send(send(atom('after')));
    expect(await frames(carrier)).toEqual([atom('before'), atom('after')]);
  });

  it('a cyclic structure is refused too', async () => {
    const { s, carrier } = session();
    const cyclic: Term[] = [];
    cyclic.push(cyclic);
    expect(() => s.send(send(cyclic))).toThrow(/badarg/);
    s.send(send(atom('after')));
    expect(await frames(carrier)).toEqual([atom('after')]);
  });

  it('an exit reason with no Erlang form goes out replaced (the link still breaks), logged at warn', async () => {
    const warns: unknown[] = [];
    const { s, carrier } = session({ warns });
    s.send({ op: 'exit', from, to, reason: NaN });
    s.send(send(atom('after')));
    const [reason, msg] = await frames(carrier);
    expect(reason).toBeInstanceOf(Tuple);
    expect((reason as Tuple).elements[0]).toBe(atoms.error);
    expect(Buffer.from((reason as Tuple).elements[1] as Uint8Array).toString()).toMatch(/^unencodable exit reason: /);
    expect(msg).toBe(atom('after'));
    expect(warns).toHaveLength(1);
  });

  it('property: any JS value either encodes or throws BADARG, and the next message arrives intact', async () => {
    const { s, carrier } = session();
    let sent = 0;
    fc.assert(
      fc.property(fc.anything({ withMap: true, withSet: true, withDate: true, withTypedArray: true, withBigInt: true, withNullPrototype: true, withSparseArray: true }), (v) => {
        try {
          s.send(send(v as Term));
          sent++;
        } catch (e) {
          expect(e).toBeInstanceOf(UsageError);
          expect((e as UsageError).code).toBe('BADARG');
        }
        s.send(send(atom('next')));
        sent++;
      }),
      { numRuns: 300 },
    );
    const all = await frames(carrier);
    expect(all).toHaveLength(sent);
    expect(all.filter((m) => m === atom('next'))).toHaveLength(300);
  });
});

describe('ErlSession backpressure (dist_buf_busy_limit)', () => {
  const big = new Uint8Array(300 * 1024);

  it('is busy at the limit, overloaded at twice it, and wakes waiters on drain', async () => {
    const { s, carrier } = session({ busyLimit: 512 * 1024 });
    carrier.full = true;
    expect(s.send(send(big))).toBe(true);
    expect(s.busy).toBe(false);
    expect(s.send(send(big))).toBe(false);
    expect(s.busy).toBe(true);
    let drained = false;
    void s.whenDrained().then(() => (drained = true));
    s.send(send(big));
    s.send(send(big));
    expect(s.overloaded).toBe(true);
    await new Promise((r) => setTimeout(r, 5));
    expect(drained).toBe(false);
    carrier.full = false;
    s.onDrain();
    await new Promise((r) => setTimeout(r, 0));
    expect(drained).toBe(true);
    expect(s.busy).toBe(false);
  });

  it('one message larger than twice the limit still goes, and so does the next; refusal comes a limit later', () => {
    const { s, carrier } = session({ busyLimit: 256 * 1024 });
    carrier.full = true;
    expect(s.send(send(new Uint8Array(1024 * 1024)))).toBe(false);
    expect(s.overloaded).toBe(false);
    s.send(send(atom('small_after')));
    expect(s.overloaded).toBe(false);
    s.send(send(big));
    expect(s.overloaded).toBe(true);
  });

  it('a closing connection releases its waiters', async () => {
    const { s, carrier } = session({ busyLimit: 1024 });
    carrier.full = true;
    s.send(send(big));
    const w = s.whenDrained();
    s.close();
    await expect(w).resolves.toBeUndefined();
  });
});

describe('ErlSession output: large messages in fragments, interleaved (OTP 22+)', () => {
  const other = new Pid(atom('me@127.0.0.1'), 3, 0, 1);
  const big = new Uint8Array(10 * 1024).fill(7);

  function fragmenting() {
    const carrier = new FakeCarrier();
    const router: Router = { route: () => undefined, nodeDown: () => undefined };
    const s = new ErlSession(carrier, router, { peer, flags: COURIER_FLAGS, hidden: true, carrierName: 'fake', log: silentLogger, fragmentSize: 1024 });
    return { s, carrier };
  }

  /** Every message written so far, whole (fragments reassembled), in the order its last byte went out. */
  function messages(carrier: FakeCarrier): Term[] {
    return writtenMessages(carrier).map((m) => m.payload ?? m.control);
  }
  const tick = () => new Promise((r) => process.nextTick(r));

  it('a small message of another process passes a large one still going out; nothing is lost', async () => {
    const { s, carrier } = fragmenting();
    carrier.full = true; // every write fills the carrier: one fragment per drain
    s.send(send(big));
    s.send({ op: 'send', from: other, to, msg: atom('small') });
    await tick();
    for (let i = 0; i < 20; i++) s.onDrain();
    const got = messages(carrier);
    expect(got[0]).toBe(atom('small'));
    expect(got[1]).toEqual(big);
    expect(got).toHaveLength(2);
  });

  it('what a process sends after its large message waits behind it (per-pair order), and a graceful close writes everything', async () => {
    const { s, carrier } = fragmenting();
    carrier.full = true;
    s.send(send(big));
    s.send(send(atom('after_big')));
    s.send({ op: 'link', from, to });
    s.send({ op: 'send', from: other, to, msg: atom('other') });
    await tick();
    expect(messages(carrier)).toEqual([atom('other')]);
    s.close();
    const got = messages(carrier);
    expect(got.slice(1, 3)).toEqual([big, atom('after_big')]);
    // Then the LINK control message {1, From, To}, also behind the large message.
    expect(got[3]).toEqual(new Tuple([1, from, to]));
    expect(got).toHaveLength(4);
  });

  it('lanes of two large messages take turns, fragment by fragment', () => {
    const { s, carrier } = fragmenting();
    carrier.full = true;
    s.send(send(big));
    s.send({ op: 'send', from: other, to, msg: new Uint8Array(3 * 1024).fill(1) });
    for (let i = 0; i < 20; i++) s.onDrain();
    // The 3-fragment message of `other` completes long before the 10-fragment one started first.
    const got = messages(carrier);
    expect((got[0] as Uint8Array).length).toBe(3 * 1024);
    expect(got[1]).toEqual(big);
  });

  it('counts the lanes toward the busy limit, and wakes a parked sender as fragments go out', async () => {
    const carrier = new FakeCarrier();
    const router: Router = { route: () => undefined, nodeDown: () => undefined };
    const s = new ErlSession(carrier, router, { peer, flags: COURIER_FLAGS, hidden: true, carrierName: 'fake', log: silentLogger, fragmentSize: 1024, busyLimit: 4096 });
    carrier.full = true;
    expect(s.send(send(big))).toBe(false);
    expect(s.queuedBytes).toBeGreaterThan(8 * 1024);
    let woke = false;
    void s.whenDrained().then(() => (woke = true));
    for (let i = 0; i < 5; i++) s.onDrain();
    await tick();
    expect(woke).toBe(false);
    for (let i = 0; i < 3; i++) s.onDrain();
    await tick();
    expect(woke).toBe(true);
    expect(s.queuedBytes).toBeLessThan(4096);
  });
});

describe('ErlSession input: each message copied once from the socket chunks, binaries unpinned', () => {
  /** Wire bytes of `msgs` sent by a session with `fragmentSize`, as one buffer. */
  async function wire(msgs: Term[], fragmentSize: number): Promise<Buffer> {
    const carrier = new FakeCarrier();
    const router: Router = { route: () => undefined, nodeDown: () => undefined };
    const s = new ErlSession(carrier, router, { peer, flags: COURIER_FLAGS, hidden: true, carrierName: 'fake', log: silentLogger, fragmentSize, busyLimit: 1 << 30 });
    for (const m of msgs) s.send({ op: 'send', from, to, msg: m });
    await new Promise((r) => process.nextTick(r));
    return Buffer.concat(carrier.out);
  }

  function receiver() {
    const got: Term[] = [];
    const warns: unknown[] = [];
    const log = { ...silentLogger, warn: (o: unknown) => warns.push(o), error: (o: unknown) => warns.push(o), child: () => log };
    const router: Router = { route: (op: DistOp) => void got.push((op as { msg: Term }).msg), nodeDown: () => undefined };
    const s = new ErlSession(new FakeCarrier(), router, { peer, flags: COURIER_FLAGS, hidden: true, carrierName: 'fake', log });
    return { s, got, warns };
  }

  const big = Uint8Array.from({ length: 5000 }, (_, i) => i & 0xff);
  const small = Uint8Array.of(1, 2, 3);
  const msgs: Term[] = [new Tuple([atom('big'), big, small]), small, new Tuple([atom('x'), 42]), big];

  it('any chunking (fast-check): every message whole and in order; binaries are views of no socket chunk', async () => {
    const bytes = await wire(msgs, 1024);
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 1, max: bytes.length - 1 }), { maxLength: 60 }), (cuts) => {
        const at = [0, ...cuts.sort((a, b) => a - b), bytes.length];
        const chunks = at.slice(1).map((end, i) => Buffer.from(bytes.subarray(at[i], end)));
        const { s, got, warns } = receiver();
        for (const c of chunks) s.onData(c);
        expect(warns).toEqual([]);
        expect(got).toHaveLength(msgs.length);
        for (let i = 0; i < msgs.length; i++) expect(termEquals(got[i], msgs[i])).toBe(true);
        const socket = new Set(chunks.map((c) => c.buffer));
        const first = got[0] as Tuple;
        for (const b of [first.elements[1], first.elements[2], got[1], got[3]] as Uint8Array[]) expect(socket.has(b.buffer as ArrayBuffer)).toBe(false);
        // The large binary is a view of its message's own buffer (made from FragId × fragment size).
        expect((first.elements[1] as Uint8Array).buffer.byteLength).toBeLessThan(2 * 5100);
      }),
      { numRuns: 60 },
    );
  });

  it('a first fragment whose atom cache refs run past the head is parsed from the whole frame', () => {
    // 40 new atoms of 200 characters in the first fragment's header: more than FRAGMENT_HEAD bytes.
    const names = Array.from({ length: 40 }, (_, i) => atom(`${String(i).padStart(3, '0')}${'a'.repeat(197)}`));
    // Build by hand: 131,69, SeqId, FragId 2, N refs (all new, short lengths), then data.
    const n = names.length;
    const flags = new Uint8Array((n >> 1) + 1);
    for (let i = 0; i < n; i++) flags[i >> 1]! |= 8 << ((i & 1) * 4);
    const refs = names.flatMap((a, i) => [i, a.name.length, ...Buffer.from(a.name)]);
    const term = encode(new Tuple([2, atom(''), to]));
    const payload = encode(new Tuple(names.slice(0, 3))).subarray(1);
    const data = Buffer.concat([term.subarray(1), payload]);
    const u64 = (x: bigint) => {
      const b = Buffer.alloc(8);
      b.writeBigUInt64BE(x);
      return b;
    };
    const frame1 = Buffer.concat([Buffer.from([131, 69]), u64(1n), u64(2n), Buffer.from([n]), flags, Buffer.from(refs), data.subarray(0, 10)]);
    const frame2 = Buffer.concat([Buffer.from([131, 70]), u64(1n), u64(1n), data.subarray(10)]);
    const len = (b: Buffer) => {
      const l = Buffer.alloc(4);
      l.writeUInt32BE(b.length);
      return l;
    };
    const stream = Buffer.concat([len(frame1), frame1, len(frame2), frame2]);
    const { s: r, got, warns } = receiver();
    // Cut inside the first fragment's refs, past FRAGMENT_HEAD.
    r.onData(Buffer.from(stream.subarray(0, 5000)));
    r.onData(Buffer.from(stream.subarray(5000)));
    expect(warns).toEqual([]);
    expect(got).toHaveLength(1);
    expect(termEquals(got[0], new Tuple(names.slice(0, 3)))).toBe(true);
  });
});
