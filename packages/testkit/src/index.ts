export { findErl, compileErl, startErl } from './erl.js';
export type { ErlTools, CompiledErl, StartErlOptions, ErlNode, ExitStatus } from './erl.js';
export { LineReader } from './lines.js';
export { uniqueName, randomCookie } from './names.js';
export { requirePeer, isCI, type Peer } from './peer.js';
export { childPids, isAlive } from './procs.js';
export { makeTestCerts, hasOpenssl, sslDistOptfile, type TestCerts } from './certs.js';
export { captureLog, type CapturedLog, type LogEntry } from './log.js';
export { inProcess } from './process.js';
