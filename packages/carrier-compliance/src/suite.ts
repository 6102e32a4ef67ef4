import { afterEach, beforeEach, describe } from 'vitest';
import type { CarrierHarness, CarrierHarnessFactory, SuiteOptions } from './harness.js';
import { bytesCases } from './cases/bytes.js';
import { handshakeCases } from './cases/handshake.js';
import { connectCases } from './cases/connect.js';
import { messagingCases } from './cases/messaging.js';
import { linkCases } from './cases/links.js';
import { monitorCases } from './cases/monitors.js';
import { nodeDownCases } from './cases/node-down.js';
import { spawnExitCases } from './cases/spawn-exit.js';

/**
 * The carrier compliance suite. A carrier package calls it once from its own test file:
 *
 * ```ts
 * carrierComplianceSuite('memory', () => memoryHarness());
 * ```
 *
 * `factory` is called before every case for a fresh harness, torn down after it. Cases cover the
 * byte level (chunking, large writes, backpressure, close), the handshake (byte-by-byte, wrong
 * cookie, statuses, the tail) and what two nodes must see across the carrier (messages, links,
 * monitors, connection loss, remote spawn, exit/2).
 */
export function carrierComplianceSuite(name: string, factory: CarrierHarnessFactory, opts: SuiteOptions = {}): void {
  const deadline = opts.deadlineMs ?? 5000;
  const handshakeTimeoutMs = opts.handshakeTimeoutMs ?? 300;
  let current: CarrierHarness | undefined;
  const h = (): CarrierHarness => {
    if (current === undefined) throw new Error('no harness: cases run between beforeEach and afterEach');
    return current;
  };

  describe(`carrier compliance: ${name}`, () => {
    beforeEach(async () => {
      current = await factory();
    });
    afterEach(async () => {
      const done = current;
      current = undefined;
      await done?.teardown();
    });

    bytesCases(h, deadline);
    handshakeCases(h);
    connectCases(h, deadline, handshakeTimeoutMs, opts.refusedCredentialCode ?? 'BAD_COOKIE');
    messagingCases(h, deadline);
    linkCases(h, deadline);
    monitorCases(h, deadline);
    nodeDownCases(h, deadline);
    spawnExitCases(h, deadline);
  });
}
