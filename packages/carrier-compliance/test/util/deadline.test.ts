import { describe, expect, it } from 'vitest';
import { Subject } from 'rxjs';
import { Recorder, rejection, turns, within } from '../../src/util/deadline.js';
import { recordingLogger } from '../../src/util/log.js';

describe('within / rejection', () => {
  it('passes a value or an error through, and fails naming what was awaited', async () => {
    expect(await within(Promise.resolve(1), 100, 'x')).toBe(1);
    await expect(within(Promise.reject(new Error('inner')), 100, 'x')).rejects.toThrow('inner');
    await expect(within(new Promise(() => {}), 10, 'the thing')).rejects.toThrow('the thing: nothing within 10 ms');
  });

  it('rejection gives the error, and fails when the promise resolves', async () => {
    const e = new Error('no');
    expect(await rejection(Promise.reject(e), 100, 'x')).toBe(e);
    await expect(rejection(Promise.resolve(1), 100, 'y')).rejects.toThrow('y: expected a failure');
  });
});

describe('Recorder', () => {
  it('finds values already seen and waits for values to come; counts', async () => {
    const s = new Subject<number>();
    const r = new Recorder<number>({ subscribe: (fn) => s.subscribe(fn) });
    s.next(1);
    expect(await r.next((v) => v === 1, 10, 'one')).toBe(1);
    const two = r.next((v) => v === 2, 1000, 'two');
    s.next(3);
    s.next(2);
    expect(await two).toBe(2);
    expect(r.count((v) => v > 1)).toBe(2);
    await expect(r.next((v) => v === 9, 10, 'nine')).rejects.toThrow('nine');
    r.stop();
    s.next(4);
    expect(r.values).toEqual([1, 3, 2]);
  });

  it('turns lets queued immediates run', async () => {
    let ran = false;
    setImmediate(() => (ran = true));
    await turns(1);
    expect(ran).toBe(true);
  });
});

describe('recordingLogger', () => {
  it('records levels, messages and fields merged over child bindings', () => {
    const log = recordingLogger();
    log.child({ node: 'a' }).child({ peer: 'b' }).warn({ code: 'X' }, 'm');
    log.info('plain');
    expect(log.records).toEqual([
      { level: 'warn', msg: 'm', fields: { node: 'a', peer: 'b', code: 'X' } },
      { level: 'info', msg: 'plain', fields: {} },
    ]);
  });
});
