export { findErl, compileErl, startErl } from './erl.js';
export type { ErlTools, CompiledErl, StartErlOptions, ErlNode, ExitStatus } from './erl.js';
export { LineReader } from './lines.js';
export { uniqueName, randomCookie } from './names.js';
export { requirePeer, isCI, type Peer } from './peer.js';
export { childPids, isAlive } from './procs.js';
export { makeTestCerts, hasOpenssl, sslDistOptfile, type TestCerts } from './certs.js';
export { captureLog, type CapturedLog, type LogEntry } from './log.js';
export { inProcess } from './process.js';
export { findChromium, launchChromium } from './browser.js';
export { freePort } from './net.js';
export { faultProxy, type Direction, type FaultProxy, type FaultProxyOptions } from './fault-proxy.js';
export {
  createCluster,
  netnsPeer,
  netnsSupport,
  sweepStaleNamespaces,
  type Cluster,
  type ClusterHost,
  type ClusterOptions,
  type RemoteFaultProxy,
  type HostProcess,
} from './netns/index.js';
