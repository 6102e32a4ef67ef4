/**
 * A live web observer and Prometheus /metrics for a Courier node, sampled, over a WebSocket.
 *
 * @packageDocumentation
 * @module @courier/observer
 */
export { observe, checkObserveOptions, type ObserveOptions, type Observer } from './observer.js';
export { isLoopback, type Refusal, type RefusalCode } from './access.js';
export { LogTap } from './log-tap.js';
export { renderMetrics } from './metrics.js';
export { Sampler, type Snapshot, type PeerView, type ProcessView, type TimelineEvent } from './sampler.js';
export { RttProbe } from './rtt.js';
export { OBSERVER_HEADERS_TIMEOUT_MS, OBSERVER_MAX_BUFFERED, OBSERVER_MAX_CONNECTIONS, OBSERVER_MAX_MESSAGE, OBSERVER_MAX_PAGES } from './limits.js';
export { OBSERVER_FLAGS, OBSERVER_TOKEN_ENV, observeOptionsFrom, parseObserverAddress, type ObserverFlagValues } from './flags.js';
