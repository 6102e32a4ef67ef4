import { describe, expect, it } from 'vitest';
import { Pid, Tuple, atom, decodeTerm, encode, type Atom, type Term } from '@courier/term';
import type { DistOp, Router, Session } from '@courier/core';
import { recordingLogger, turns, within } from '@courier/carrier-compliance';
import { memoryCarrierPair, type MemoryCarrier } from '../../src/memory-carrier.js';
import { MemorySession } from '../../src/session/memory-session.js';
import { MemoryFlag } from '../../src/handshake/messages.js';

const PEER = atom('peer@host');
const from = new Pid(PEER, 1, 0, 1);
const to = new Pid(atom('me@host'), 2, 0, 1);

class FakeRouter implements Router {
  readonly ops: DistOp[] = [];
  readonly downs: Array<{ peer: Atom; reason: Term; session?: Session }> = [];
  route(op: DistOp): void {
    this.ops.push(op);
  }
  nodeDown(peer: Atom, reason: Term, session?: Session): void {
    this.downs.push({ peer, reason, session });
  }
}

function raw(body: Buffer): Buffer {
  const h = Buffer.alloc(4);
  h.writeUInt32BE(body.length);
  return Buffer.concat([h, body]);
}

/** <<Len:32, 131 Control, [131 Payload]>> */
function frame(control: Term, payload?: Term): Buffer {
  return raw(Buffer.concat([encode(control), ...(payload === undefined ? [] : [encode(payload)])]));
}

function setup(opts: { flags?: bigint; tail?: Uint8Array; tickMs?: number; highWaterMark?: number; maxFrameBytes?: number } = {}) {
  const [mine, theirs] = memoryCarrierPair({ highWaterMark: opts.highWaterMark });
  const router = new FakeRouter();
  const log = recordingLogger();
  const session = new MemorySession({
    carrier: mine,
    handshake: { peer: PEER, peerCreation: 1, flags: opts.flags ?? MemoryFlag.EXIT_PAYLOAD | MemoryFlag.SEND_SENDER, tail: opts.tail ?? new Uint8Array(0) },
    router,
    log,
    tickMs: opts.tickMs,
    maxFrameBytes: opts.maxFrameBytes,
  });
  const got: Buffer[] = [];
  let peerClosed = 0;
  theirs.setReceiver({ onData: (c) => got.push(Buffer.from(c)), onDrain: () => {}, onClose: () => peerClosed++ });
  return { session, router, log, mine, theirs: theirs as MemoryCarrier, got, peerClosed: () => peerClosed };
}

/** Control tuples (and payloads) of the frames in `bytes`. */
function frames(bytes: Buffer): Array<[Term, Term | undefined]> {
  const out: Array<[Term, Term | undefined]> = [];
  for (let at = 0; at < bytes.length; ) {
    const len = bytes.readUInt32BE(at);
    const f = bytes.subarray(at + 4, at + 4 + len);
    at += 4 + len;
    if (len === 0) continue;
    const c = decodeTerm(f, 1);
    out.push([c.term, c.end < f.length ? decodeTerm(f, c.end + 1).term : undefined]);
  }
  return out;
}

const first = (t: Term): Term => (t as Tuple).elements[0];

describe('MemorySession', () => {
  it('writes the frames of one tick in one write, with the negotiated control forms', async () => {
    const { session, mine, got } = setup({ flags: MemoryFlag.SEND_SENDER });
    session.start();
    let writes = 0;
    const w = mine.writev.bind(mine);
    mine.writev = (c) => (writes++, w(c));
    session.send({ op: 'send', from: to, to: from, msg: atom('m1') });
    session.send({ op: 'exit', from: to, to: from, reason: atom('boom') });
    await turns(2);
    expect(writes).toBe(1);
    const fs = frames(Buffer.concat(got));
    expect(fs.map(([c]) => first(c))).toEqual([22, 3]); // SEND_SENDER; EXIT without EXIT_PAYLOAD
    expect(fs[0]?.[1]).toBe(atom('m1'));
  });

  it('routes the tail first, then frames however they are split; ticks are skipped', async () => {
    const tail = frame(new Tuple([2, atom(''), to]), atom('from_tail'));
    const { session, router, theirs } = setup({ tail });
    session.start();
    const stream = Buffer.concat([Buffer.alloc(4), frame(new Tuple([1, from, to])), frame(new Tuple([24, from, to]), atom('r'))]);
    for (const byte of stream) theirs.write(Buffer.from([byte]));
    await turns(5);
    expect(router.ops.map((o) => o.op)).toEqual(['send', 'link', 'exit']);
    expect(router.ops[0]).toMatchObject({ msg: atom('from_tail') });
    expect(router.ops[2]).toMatchObject({ reason: atom('r') });
  });

  it('ignores an unknown control operation with a warning and carries on', async () => {
    const { session, router, theirs, log } = setup();
    session.start();
    theirs.write(Buffer.concat([frame(new Tuple([99, from])), frame(new Tuple([99, to])), frame(new Tuple([1, from, to]))]));
    await turns(3);
    expect(router.ops.map((o) => o.op)).toEqual(['link']);
    expect(log.records.filter((r) => r.level === 'warn' && r.msg === 'unknown control message ignored')).toHaveLength(1);
    expect(router.downs).toEqual([]);
  });

  const malformed: Array<[string, Buffer]> = [
    ['a frame without the version byte', Buffer.from([0, 0, 0, 2, 104, 0])],
    ['a truncated term', Buffer.from([0, 0, 0, 3, 131, 104, 2])],
    ['a malformed control tuple', frame(new Tuple([1, atom('x'), to]))],
    ['bytes after the payload', raw(Buffer.concat([encode(new Tuple([2, atom(''), to])), encode(atom('m')), Buffer.from([1, 2, 3])]))],
    ['a frame over the limit', Buffer.from([0, 1, 0, 0])],
  ];
  for (const [what, bytes] of malformed) {
    it(`closes on ${what}: warn, carrier aborted, nodeDown exactly once`, async () => {
      const { session, router, theirs, log, peerClosed } = setup({ maxFrameBytes: 1024 });
      session.start();
      theirs.write(Buffer.concat([bytes, frame(new Tuple([1, from, to]))]));
      await turns(4);
      expect(router.ops).toEqual([]);
      expect(router.downs).toHaveLength(1);
      expect(router.downs[0]).toMatchObject({ peer: PEER, reason: atom('protocol_error'), session });
      expect(log.records.some((r) => r.level === 'warn' && r.msg === 'bad frame from peer; closing')).toBe(true);
      expect(peerClosed()).toBe(1);
      expect(session.send({ op: 'link', from: to, to: from })).toBe(false);
      session.close();
      await turns(2);
      expect(router.downs).toHaveLength(1);
    });
  }

  it('reports busy while the carrier is full, and sends everything in order after the drain', async () => {
    const { session, theirs, got } = setup({ highWaterMark: 1024 });
    session.start();
    theirs.pause();
    let busy = false;
    let n = 0;
    while (!busy && n < 10_000) {
      busy = !session.send({ op: 'send', to: from, msg: n++ });
      await turns(1);
    }
    expect(busy).toBe(true);
    expect(session.busy).toBe(true);
    for (let i = 0; i < 100; i++) expect(session.send({ op: 'send', to: from, msg: n++ })).toBe(false);
    theirs.resume();
    await within(
      (async () => {
        while (frames(Buffer.concat(got)).length < n) await turns(1);
      })(),
      2000,
      'all frames after the drain',
    );
    expect(frames(Buffer.concat(got)).map(([, p]) => p)).toEqual(Array.from({ length: n }, (_, i) => i));
    expect(session.busy).toBe(false);
  });

  it('close: queued frames go out, then the carrier closes; nodeDown once, for this session', async () => {
    const { session, router, got, peerClosed } = setup();
    session.start();
    session.send({ op: 'link', from: to, to: from });
    session.close('going_away');
    session.close();
    await turns(3);
    expect(frames(Buffer.concat(got)).map(([c]) => first(c))).toEqual([1]);
    expect(peerClosed()).toBe(1);
    expect(router.downs).toEqual([{ peer: PEER, reason: atom('going_away'), session }]);
  });

  it('the peer closing: nodeDown(connection_closed) once', async () => {
    const { session, router, theirs } = setup();
    session.start();
    theirs.close();
    await turns(3);
    expect(router.downs).toEqual([{ peer: PEER, reason: atom('connection_closed'), session }]);
  });

  it('ticks while idle and drops a peer silent for four intervals (net_tick_timeout)', async () => {
    const { session, router, got } = setup({ tickMs: 15 });
    session.start();
    await within(
      (async () => {
        while (router.downs.length === 0) await new Promise((r) => setTimeout(r, 5));
      })(),
      2000,
      'tick timeout',
    );
    expect(router.downs[0]?.reason).toBe(atom('net_tick_timeout'));
    expect(Buffer.concat(got).length % 4).toBe(0);
    expect(Buffer.concat(got).length).toBeGreaterThanOrEqual(4);
    expect(Buffer.concat(got).every((b) => b === 0)).toBe(true);
  });

  it('drops (and logs) an operation whose terms cannot be encoded; the session stays up', async () => {
    const { session, router, got, log } = setup();
    session.start();
    expect(session.send({ op: 'send', to: from, msg: (() => 1) as unknown as Term })).toBe(true);
    session.send({ op: 'send', to: from, msg: atom('fine') });
    await turns(2);
    expect(frames(Buffer.concat(got)).map(([, p]) => p)).toEqual([atom('fine')]);
    expect(log.records.some((r) => r.level === 'error')).toBe(true);
    expect(router.downs).toEqual([]);
  });
});
