import { describe, expect, it } from 'vitest';
import { CarrierError, type CarrierReceiver } from '@courier/core';
import { turns } from '@courier/carrier-compliance';
import { memoryCarrierPair } from '../src/memory-carrier.js';

class Log implements CarrierReceiver {
  readonly events: string[] = [];
  readonly data: Uint8Array[] = [];
  closeErrors: Array<Error | undefined> = [];
  onData(chunk: Uint8Array): void {
    this.events.push(`data:${chunk.length}`);
    this.data.push(chunk);
  }
  onDrain(): void {
    this.events.push('drain');
  }
  onClose(error?: Error): void {
    this.events.push('close');
    this.closeErrors.push(error);
  }
}

describe('MemoryCarrier', () => {
  it('never delivers inside write(): data comes on a later turn', async () => {
    const [a, b] = memoryCarrierPair();
    const lb = new Log();
    b.setReceiver(lb);
    a.write(new Uint8Array([1, 2, 3]));
    expect(lb.events).toEqual([]);
    await turns(1);
    expect(lb.events).toEqual(['data:3']);
  });

  it('with schedule: process.nextTick, delivers within the tick (still not inside write), copied', async () => {
    const [a, b] = memoryCarrierPair({ schedule: (task) => process.nextTick(task) });
    const lb = new Log();
    b.setReceiver(lb);
    const bytes = new Uint8Array([1, 2, 3]);
    a.write(bytes);
    bytes[0] = 9;
    expect(lb.events).toEqual([]);
    await new Promise<void>((r) => process.nextTick(r));
    expect(lb.events).toEqual(['data:3']);
    expect([...(lb.data[0] as Uint8Array)]).toEqual([1, 2, 3]);
  });

  it('coalesces small writes of one turn and splits large ones at maxChunk', async () => {
    const [a, b] = memoryCarrierPair({ maxChunk: 1000 });
    const lb = new Log();
    b.setReceiver(lb);
    for (let i = 0; i < 10; i++) a.write(new Uint8Array(50).fill(i));
    a.write(new Uint8Array(2500).fill(99));
    await turns(2);
    expect(lb.events).toEqual(['data:500', 'data:1000', 'data:1000', 'data:500']);
    expect(lb.data[0]?.[450]).toBe(9);
  });

  it('keeps data that arrives before a receiver is set and delivers it in order', async () => {
    const [a, b] = memoryCarrierPair();
    a.write(Buffer.from('one '));
    a.write(Buffer.from('two'));
    await turns(2);
    const lb = new Log();
    b.setReceiver(lb);
    await turns(1);
    expect(Buffer.concat(lb.data).toString()).toBe('one two');
  });

  it('drains only when the peer has taken every byte: a paused peer holds the writer back', async () => {
    const [a, b] = memoryCarrierPair({ highWaterMark: 100 });
    const la = new Log();
    const lb = new Log();
    a.setReceiver(la);
    b.setReceiver(lb);
    b.pause();
    expect(a.write(new Uint8Array(60))).toBe(true);
    expect(a.write(new Uint8Array(60))).toBe(false);
    expect(a.write(new Uint8Array(10))).toBe(false); // still queued, still over the mark
    await turns(5);
    expect(la.events).toEqual([]);
    expect(lb.events).toEqual([]);
    b.resume();
    await turns(2);
    expect(lb.events).toEqual(['data:130']);
    expect(la.events).toEqual(['drain']);
  });

  it('pause inside onData stops delivery at once; resume continues where it stopped', async () => {
    const [a, b] = memoryCarrierPair({ maxChunk: 10 });
    const got: number[] = [];
    b.setReceiver({
      onData: (c) => {
        got.push(c.length);
        b.pause();
      },
      onDrain: () => {},
      onClose: () => {},
    });
    a.write(new Uint8Array(35));
    await turns(3);
    expect(got).toEqual([10]);
    b.resume();
    await turns(1);
    expect(got).toEqual([10, 10]);
  });

  it('close waits for a paused peer to take the queued bytes; abort does not', async () => {
    const [a, b] = memoryCarrierPair();
    const la = new Log();
    const lb = new Log();
    a.setReceiver(la);
    b.setReceiver(lb);
    b.pause();
    a.write(new Uint8Array(5));
    a.close();
    expect(a.closed).toBe(true);
    await turns(3);
    expect(lb.events).toEqual([]);
    b.resume();
    await turns(3);
    expect(lb.events).toEqual(['data:5', 'close']);
    expect(la.events).toEqual(['close']);
    expect(la.closeErrors).toEqual([undefined]);

    const [c, d] = memoryCarrierPair();
    const lc = new Log();
    const ld = new Log();
    c.setReceiver(lc);
    d.setReceiver(ld);
    d.pause();
    c.write(new Uint8Array(5));
    const why = new Error('why');
    c.abort(why);
    await turns(2);
    expect(ld.events).toEqual(['close']);
    expect(ld.closeErrors[0]).toBeInstanceOf(CarrierError);
    expect((ld.closeErrors[0] as CarrierError).code).toBe('CONNECTION_RESET');
    expect(lc.closeErrors).toEqual([why]);
  });

  it('reports a close to a receiver set afterwards, once', async () => {
    const [a, b] = memoryCarrierPair();
    a.abort();
    await turns(2);
    const lb = new Log();
    b.setReceiver(lb);
    b.setReceiver(lb);
    await turns(2);
    expect(lb.events).toEqual(['close']);
  });

  it('takes nothing after close', async () => {
    const [a, b] = memoryCarrierPair();
    const lb = new Log();
    b.setReceiver(lb);
    a.close();
    expect(a.write(new Uint8Array(1))).toBe(false);
    expect(a.writev([new Uint8Array(1)])).toBe(false);
    await turns(2);
    expect(lb.events).toEqual(['close']);
  });

  it('writev sends the chunks as one, copied', async () => {
    const [a, b] = memoryCarrierPair();
    const lb = new Log();
    b.setReceiver(lb);
    const x = Buffer.from('ab');
    a.writev([x, Buffer.from('cd'), new Uint8Array(0)]);
    x.fill(0);
    await turns(1);
    expect(Buffer.concat(lb.data).toString()).toBe('abcd');
    expect(lb.events).toEqual(['data:4']);
  });
});
