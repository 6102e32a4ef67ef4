/**
 * The Courier actor runtime: processes, mailboxes, links, monitors, registered names, gen_server, supervisors, the node and the seams carriers plug into.
 *
 * @packageDocumentation
 * @module @courier/core
 */
export * from './errors.js';
export * from './log.js';
export type * from './seams/dist-op.js';
export type * from './seams/carrier.js';
export type * from './seams/handshake.js';
export type { Resolver } from './seams/resolver.js';
export type * from './seams/session.js';
export type * from './seams/transport.js';
export { staticResolver } from './seams/resolver.js';
export { ConnectionTable, type ConnectionHooks, type DistAutoConnect } from './connections/connection-table.js';
export { ConnectionPipeline, type PipelineHooks } from './connections/pipeline.js';
export { handOff } from './connections/handoff.js';
export { guarded, guardReceiver, logFault, peerFault } from './connections/guard.js';
export {
  DEFAULT_SETUP_TIME_MS,
  AEMP_SETUP_TIME_MS,
  AEMP_CONNECT_TIMEOUT_MS,
  HIDDEN_BY_DEFAULT,
  MAX_PENDING_OPS,
  MAX_PENDING_HANDSHAKES,
  MAX_PENDING_HANDSHAKES_PER_ADDRESS,
} from './connections/defaults.js';
export { Node, type NodeOptions, type NodeEvent, type NodesKind, type ProcessExit, type SpawnOptions } from './runtime/node.js';
export { Process, type Body, type MonitorIn, type MonitorOut } from './runtime/process.js';
export { Mailbox, TIMEOUT, type Matcher } from './runtime/mailbox.js';
export { _, matches, ptuple, toMatcher, type Pattern, type Guard } from './runtime/pattern.js';
export { resolveDest, type AddressResolver, type Dest, type ResolvedDest } from './runtime/dest.js';
export { ErlangException, ExceptionReason, ExitCall, ProcessGone, erlError, erlThrow, isNormal, isShutdown, reasonText } from './runtime/exit-reason.js';
export { pidKey, refKey } from './runtime/keys.js';
export { ProxyTable, type ProxySpec } from './runtime/proxy.js';
export { applyExposed, type ExposedFn, type ExposedModule, type Outcome } from './runtime/exposed.js';
export { SpawnError } from './runtime/remote-spawn.js';
export * from './runtime/gen-server.js';
export * from './runtime/supervisor.js';
export { driveHandshake, Handover, type DriveOptions, type Handshaken } from './connections/drive-handshake.js';
export { RpcError, erpcResult, installErpc, multicall, rpcCall, rpcCast, rpcMulticall } from './runtime/rpc.js';
export { NodeMonitors, type MonitorNodesOptions, type NodeChange, type NodeType } from './runtime/node-monitors.js';
export * from './typed/index.js';
export * from './runtime/gen-statem.js';
export { Registry, type RegistryKeys, type RegistryOptions, type RegistryChange, type RegisterResult } from './runtime/registry.js';
