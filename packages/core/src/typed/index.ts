export type { KeyEncoding, Scalar, TAtom, TermObject, TTuple, Value, Wire } from './value.js';
export { BYTES, MAX_VALUE_DEPTH, termToValue, valueToTerm } from './mapping.js';
export {
  DEFAULT_CALL_TIMEOUT_MS,
  ServerRef,
  TypedProcess,
  TypedRef,
  actor,
  isTypedProcess,
  serverRef,
  spawnTyped,
  stopped,
  Stopped,
  typedRef,
  type CallOptions,
  type SpawnTypedOptions,
  type TypedBody,
} from './actor.js';
export { TypedFrom, startTypedServer, type CallResult, type StartTypedOptions, type TypedServer } from './server.js';
export { is, match, typedAtom, typedTuple, type Guard, type Tagged } from './match.js';
