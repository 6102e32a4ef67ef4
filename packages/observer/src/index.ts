export { observe, type ObserveOptions, type Observer } from './observer.js';
export { LogTap } from './log-tap.js';
export { renderMetrics } from './metrics.js';
export { Sampler, type Snapshot, type PeerView, type ProcessView, type TimelineEvent } from './sampler.js';
export { RttProbe } from './rtt.js';
