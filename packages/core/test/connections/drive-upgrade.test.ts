import { describe, expect, it } from 'vitest';
import { atom } from '@courier/term';
import { CarrierError, driveHandshake, type Carrier, type CarrierReceiver, type Handshake, type HandshakeAction } from '@courier/core';

/** A carrier the test drives by hand: `deliver` plays the peer, `written` records our writes. */
class FakeCarrier implements Carrier {
  readonly written: string[] = [];
  receiver: CarrierReceiver | undefined;
  aborted = false;
  paused = false;
  constructor(readonly remote: string) {}
  write(chunk: Uint8Array): boolean {
    this.written.push(Buffer.from(chunk).toString());
    return true;
  }
  setReceiver(r: CarrierReceiver): void {
    this.receiver = r;
  }
  deliver(s: string): void {
    this.receiver?.onData(Buffer.from(s));
  }
  pause(): void {
    this.paused = true;
  }
  resume(): void {
    this.paused = false;
  }
  close(): void {}
  abort(): void {
    this.aborted = true;
  }
}

/** hello → (peer: "go") → upgrade → after upgraded(): "auth" → (peer: "ok") → done. */
function upgrading(): Handshake & { upgradedCalls: number } {
  const hs = {
    upgradedCalls: 0,
    start: (): HandshakeAction[] => [{ type: 'write', bytes: Buffer.from('hello') }],
    receive: (b: Uint8Array): HandshakeAction[] => {
      const s = Buffer.from(b).toString();
      if (s.startsWith('go')) return [{ type: 'upgrade', how: 'tls-client', rest: Buffer.from(s.slice(2)) }];
      if (s === 'ok') return [{ type: 'done', result: { peer: atom('p'), peerCreation: 0, flags: 0n, tail: new Uint8Array(0) } }];
      return [];
    },
    upgraded: (): HandshakeAction[] => {
      hs.upgradedCalls++;
      return [{ type: 'write', bytes: Buffer.from('auth') }];
    },
  };
  return hs;
}

describe('driveHandshake: upgrade', () => {
  it('hands the old carrier and the rest to opts.upgrade, goes on over the new one, and returns it', async () => {
    const plain = new FakeCarrier('plain');
    const secure = new FakeCarrier('secure');
    const hs = upgrading();
    let seen: { how: string; rest: string } | undefined;
    const p = driveHandshake(plain, hs, {
      timeoutMs: 1000,
      upgrade: (how, c, rest) => {
        seen = { how, rest: Buffer.from(rest).toString() };
        expect(c).toBe(plain);
        expect(plain.paused).toBe(true);
        // A byte of the new layer that arrives before the handshake listens is kept by the carrier.
        return Promise.resolve(secure);
      },
    });
    plain.deliver('go+early');
    await new Promise((r) => setImmediate(r));
    expect(seen).toEqual({ how: 'tls-client', rest: '+early' });
    expect(hs.upgradedCalls).toBe(1);
    expect(plain.written).toEqual(['hello']);
    expect(secure.written).toEqual(['auth']);
    plain.deliver('ok'); // the old layer is not the handshake's any more
    secure.deliver('ok');
    const done = await p;
    expect(done.carrier).toBe(secure);
    expect(secure.paused).toBe(true);
  });

  it('without opts.upgrade an upgrade fails with UPGRADE_UNSUPPORTED; a failed upgrade fails the handshake', async () => {
    const a = new FakeCarrier('a');
    const p1 = driveHandshake(a, upgrading(), { timeoutMs: 1000 });
    a.deliver('go');
    await expect(p1).rejects.toMatchObject({ code: 'UPGRADE_UNSUPPORTED' });
    expect(a.aborted).toBe(true);
    const b = new FakeCarrier('b');
    const p2 = driveHandshake(b, upgrading(), { timeoutMs: 1000, upgrade: () => Promise.reject(new CarrierError('TLS_FAILED', 'no')) });
    b.deliver('go');
    await expect(p2).rejects.toMatchObject({ code: 'TLS_FAILED' });
  });
});
