import { describe, expect, it } from 'vitest';
import { checkBackpressure, checkChunked, checkClose, checkLargeWrite } from '../../src/cases/bytes.js';
import { pipePair, type Faults } from './pipe.js';

/**
 * The byte-level checks against a small correct pipe (they pass) and against pipes with one
 * fault each (the check for that guarantee fails): the suite's assertions are real.
 */
const D = 1000;
const pair =
  (f: Faults = {}) =>
  () =>
    pipePair(f);

describe('byte-level checks', () => {
  it('pass for a correct carrier', async () => {
    for (const size of [1, 7, 4096]) await checkChunked(pair(), size, D);
    await checkLargeWrite(pair(), D);
    await checkBackpressure((hwm) => pipePair({}, hwm), D);
    for (const how of ['close', 'abort'] as const) for (const fromDialer of [true, false]) await checkClose(pair(), how, fromDialer, D);
  });

  it('catch a carrier that loses bytes', async () => {
    await expect(checkChunked(pair({ dropEvery: 50 }), 7, D)).rejects.toThrow();
  });

  it('catch a carrier without backpressure', async () => {
    await expect(checkBackpressure((hwm) => pipePair({ neverBusy: true }, hwm), D, 4 * 1024 * 1024)).rejects.toThrow(/still returned true/);
  });

  it('catch onClose reported twice, and a close that drops queued bytes', async () => {
    await expect(checkClose(pair({ doubleClose: true }), 'abort', true, D)).rejects.toThrow();
    await expect(checkClose(pair({ eagerClose: true }), 'close', false, D)).rejects.toThrow();
  });
});
