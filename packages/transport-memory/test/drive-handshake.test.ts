import { describe, expect, it } from 'vitest';
import { atom } from '@courier/term';
import { CarrierError, HandshakeError, driveHandshake, type Handshake, type HandshakeAction, type HandshakeResult } from '@courier/core';
import { rejection, turns, within } from '@courier/carrier-compliance';
import { memoryCarrierPair } from '../src/memory-carrier.js';

const result = (tail: Uint8Array): HandshakeResult => ({ peer: atom('p@h'), peerCreation: 1, flags: 0n, tail });

/** A scripted handshake: writes `hello` at start, then acts on whole received strings. */
function scripted(onReceive: (s: string) => HandshakeAction[], start: HandshakeAction[] = []): Handshake & { got: string[] } {
  const got: string[] = [];
  return {
    got,
    start: () => start,
    receive: (b) => {
      got.push(Buffer.from(b).toString());
      return onReceive(Buffer.from(b).toString());
    },
  };
}

const sink = { onData: () => {}, onDrain: () => {}, onClose: () => {} };

describe('driveHandshake', () => {
  it('fails with TIMEOUT when the peer stays silent, and aborts the carrier', async () => {
    const [a, b] = memoryCarrierPair();
    const closes: unknown[] = [];
    b.setReceiver({ ...sink, onClose: (e) => closes.push(e) });
    const err = await rejection(
      driveHandshake(
        a,
        scripted(() => []),
        { timeoutMs: 50 },
      ),
      2000,
      'timeout',
    );
    expect(err).toBeInstanceOf(HandshakeError);
    expect((err as HandshakeError).code).toBe('TIMEOUT');
    await turns(2);
    expect(closes).toHaveLength(1);
  });

  it('resolves at done with the carrier paused; later bytes and a close wait in the handover', async () => {
    const [a, b] = memoryCarrierPair();
    b.setReceiver(sink);
    const hs = scripted((s) => (s.startsWith('ack') ? [{ type: 'done', result: result(Buffer.from(s.slice(3))) }] : []));
    const p = driveHandshake(a, hs, { timeoutMs: 1000 });
    b.write(Buffer.from('ack+tail'));
    const { result: r, handover } = await within(p, 1000, 'done');
    expect(Buffer.from(r.tail).toString()).toBe('+tail');
    b.write(Buffer.from('late'));
    b.close();
    await turns(4);
    expect(handover.chunks).toEqual([]); // paused: nothing delivered yet
    a.resume();
    await turns(4);
    expect(Buffer.concat(handover.chunks).toString()).toBe('late');
    expect(handover.closed).toEqual({ error: undefined });
  });

  it('on fail: the writes before it still reach the peer, then the carrier closes', async () => {
    const [a, b] = memoryCarrierPair();
    const got: string[] = [];
    let closed = 0;
    b.setReceiver({ onData: (c) => got.push(Buffer.from(c).toString()), onDrain: () => {}, onClose: () => closed++ });
    const refusal = new HandshakeError('BAD_COOKIE', 'no');
    const hs = scripted(() => [
      { type: 'write', bytes: Buffer.from('refused') },
      { type: 'fail', error: refusal },
    ]);
    const p = driveHandshake(a, hs, { timeoutMs: 1000 });
    b.write(Buffer.from('hi'));
    expect(await rejection(p, 1000, 'fail')).toBe(refusal);
    await turns(4);
    expect(got.join('')).toBe('refused');
    expect(closed).toBe(1);
  });

  it("with waitOnNok, a NOK keeps the attempt until it is aborted (the peer's attempt won)", async () => {
    const [a, b] = memoryCarrierPair();
    b.setReceiver(sink);
    const ac = new AbortController();
    const nok = new HandshakeError('NOK', 'theirs wins');
    const p = driveHandshake(
      a,
      scripted(() => [{ type: 'fail', error: nok }]),
      { timeoutMs: 5000, signal: ac.signal, waitOnNok: true },
    );
    b.write(Buffer.from('snok'));
    b.close(); // the acceptor closes after nok: not a reason to give up
    await turns(5);
    let settled = false;
    p.then(
      () => (settled = true),
      () => (settled = true),
    );
    await turns(2);
    expect(settled).toBe(false);
    ac.abort();
    const err = await rejection(p, 1000, 'abort');
    expect(err).toBeInstanceOf(CarrierError);
    expect((err as CarrierError).code).toBe('ABORTED');
  });

  it('with waitOnNok and no abort, the NOK surfaces at the deadline', async () => {
    const [a, b] = memoryCarrierPair();
    b.setReceiver(sink);
    const nok = new HandshakeError('NOK', 'theirs wins');
    const p = driveHandshake(
      a,
      scripted(() => [{ type: 'fail', error: nok }]),
      { timeoutMs: 40, waitOnNok: true },
    );
    b.write(Buffer.from('snok'));
    expect(await rejection(p, 1000, 'deadline')).toBe(nok);
  });

  it('a peer closing mid-handshake fails with CarrierError CLOSED', async () => {
    const [a, b] = memoryCarrierPair();
    b.setReceiver(sink);
    const p = driveHandshake(
      a,
      scripted(() => [], [{ type: 'write', bytes: Buffer.from('hello') }]),
      { timeoutMs: 1000 },
    );
    b.close();
    const err = await rejection(p, 1000, 'closed');
    expect(err).toBeInstanceOf(CarrierError);
    expect((err as CarrierError).code).toBe('CLOSED');
  });

  it('an already aborted signal fails at once', async () => {
    const [a] = memoryCarrierPair();
    const ac = new AbortController();
    ac.abort();
    const err = await rejection(
      driveHandshake(
        a,
        scripted(() => []),
        { timeoutMs: 1000, signal: ac.signal },
      ),
      1000,
      'aborted',
    );
    expect((err as CarrierError).code).toBe('ABORTED');
  });
});
