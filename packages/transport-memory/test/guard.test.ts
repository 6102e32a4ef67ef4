import { describe, expect, it } from 'vitest';
import { atom } from '@courier/term';
import { ConnectionPipeline, CourierError, Handover, HandshakeError, driveHandshake, handOff, type Handshake, type PipelineSession, type Protocol } from '@courier/core';
import { recordingLogger, rejection, within } from '@courier/carrier-compliance';
import { memoryCarrierPair } from '../src/memory-carrier.js';

/** The pipeline's guard, seen through the in-memory carrier: a handler that throws closes its connection only. */
describe("the guard around a peer's bytes", () => {
  it('a handshake that throws on the input fails the attempt with HandshakeError BAD_MESSAGE and closes the carrier', async () => {
    const [a, b] = memoryCarrierPair();
    const closed = new Promise<void>((resolve) => b.setReceiver({ onData: () => {}, onDrain: () => {}, onClose: () => resolve() }));
    const hs: Handshake = {
      start: () => [],
      receive: () => {
        throw new TypeError('a bug a hostile input reaches');
      },
    };
    const attempt = driveHandshake(a, hs, { timeoutMs: 5000 });
    b.write(new Uint8Array([1, 2, 3]));
    const err = await rejection(attempt, 2000, 'the attempt');
    expect(err).toBeInstanceOf(HandshakeError);
    expect((err as HandshakeError).code).toBe('BAD_MESSAGE');
    expect((err as Error).message).toMatch(/a bug a hostile input reaches/);
    await within(closed, 2000, 'the peer sees the close');
  });

  it('a session that throws on a frame is closed with a typed PEER_INPUT_FAULT, logged; the carrier is aborted', async () => {
    const [a, b] = memoryCarrierPair();
    const closed = new Promise<void>((resolve) => b.setReceiver({ onData: () => {}, onDrain: () => {}, onClose: () => resolve() }));
    const faults: unknown[] = [];
    let isClosed = false;
    const session: PipelineSession = {
      peer: atom('p@h'),
      carrier: 'memory',
      hidden: false,
      get isClosed() {
        return isClosed;
      },
      send: () => true,
      close: () => undefined,
      onData: () => {
        throw new RangeError('boom');
      },
      onDrain: () => undefined,
      onClose: (err) => {
        if (isClosed) return;
        isClosed = true;
        faults.push(err);
      },
    };
    const log = recordingLogger();
    a.pause();
    handOff(a, session, new Uint8Array([9]), new Handover(), log);
    expect(faults).toHaveLength(1);
    expect(faults[0]).toBeInstanceOf(CourierError);
    expect((faults[0] as CourierError).code).toBe('PEER_INPUT_FAULT');
    expect(log.records.some((r) => r.level === 'error' && r.fields['code'] === 'PEER_INPUT_FAULT' && r.fields['peer'] === 'p@h')).toBe(true);
    await within(closed, 2000, 'the peer sees the abort');
  });
});

describe('handshakes under way on accepted connections are capped', () => {
  it('past the cap the oldest pending handshake is dropped (PENDING_LIMIT, logged); newer ones go on', async () => {
    const log = recordingLogger();
    const pipeline = new ConnectionPipeline({
      router: { route: () => undefined, nodeDown: () => undefined },
      arbiter: { acceptPending: () => 'ok' },
      attach: () => undefined,
      current: () => undefined,
      log,
      maxPendingAccepts: 2,
    });
    const silent: Protocol = {
      handshake: () => ({ start: () => [], receive: () => [] }),
      session: () => {
        throw new Error('never reached');
      },
    };
    const closes: boolean[] = [false, false, false];
    for (let i = 0; i < 3; i++) {
      const [mine, theirs] = memoryCarrierPair();
      theirs.setReceiver({ onData: () => {}, onDrain: () => {}, onClose: () => (closes[i] = true) });
      pipeline.accept(mine, { protocol: silent, setupTimeMs: 10_000 });
    }
    await within(
      new Promise<void>((resolve) => {
        const t = setInterval(() => closes[0] && (clearInterval(t), resolve()), 5);
      }),
      2000,
      'the oldest dropped',
    );
    expect(closes).toEqual([true, false, false]);
    expect(pipeline.metrics.pending).toBe(2);
    expect(log.records.some((r) => r.level === 'warn' && r.fields['code'] === 'PENDING_LIMIT')).toBe(true);
    pipeline.closeAll();
  });
});
