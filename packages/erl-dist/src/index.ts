/**
 * @courier/erl-dist — the Erlang distribution protocol without I/O, OTP's dist_util counterpart:
 * every carrier that speaks it (TCP, TLS, SSH channels, WebSocket, in-memory pipes, a browser)
 * depends on this package, never on another carrier. Nothing here needs a Node module.
 *
 * @packageDocumentation
 * @module @courier/erl-dist
 */
export { erlProtocol, type ErlProtocolOptions } from './erl-protocol.js';
export { ErlHandshake, genDigest, type ErlHandshakeOptions } from './handshake/erl-handshake.js';
export { DFLAG, COURIER_FLAGS, MANDATORY_25, MANDATORY_26, expandFlags, flagNames, missingFlags } from './handshake/flags.js';
export { ErlSession, type ErlSessionOptions } from './session/erl-session.js';
export { AtomCache, parseFrame, type ParsedFrame } from './session/dist-header.js';
export { Reassembler } from './session/fragments.js';
export {
  encodeControl,
  decodeControl,
  controlName,
  ControlOp,
  ControlErrorCode,
  BadControlError,
  UnknownControlError,
  type ControlOptions,
  type ControlMessage,
} from './control/control.js';
export { installErlangServices, genReply } from './services/erlang-services.js';
export { startPg, DEFAULT_PG_SCOPE } from './pg/start-pg.js';
export { PgScope, type PgChange } from './pg/pg-scope.js';
export * from './global/index.js';
