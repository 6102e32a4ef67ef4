/**
 * The vitest suite every Courier carrier calls once from its own tests.
 *
 * @packageDocumentation
 * @module @courier/carrier-compliance
 */
export { carrierComplianceSuite } from './suite.js';
export type { CarrierHarness, CarrierHarnessFactory, HandshakePairOptions, NodesOptions, SuiteOptions } from './harness.js';
export { checkBackpressure, checkChunked, checkClose, checkLargeWrite, pattern, Sink } from './cases/bytes.js';
export { recordingLogger, type LogRecord } from './util/log.js';
export { Recorder, within, rejection, turns, type Subscribable } from './util/deadline.js';
export { HarnessNodes, silentTcpPeer, socketPair } from './harness-kit.js';
