/**
 * Erlang terms for TypeScript: the term model and the external term format codec (no dependencies).
 *
 * @packageDocumentation
 * @module @courier/term
 */
export * from './model/atom.js';
export * from './model/identifiers.js';
export * from './model/containers.js';
export * from './model/fun.js';
export * from './model/map.js';
export { termKey, termEquals } from './model/key.js';
export * from './model/list.js';
export type { Term } from './model/term.js';

export { CourierError, ProtocolError, EncodeError, EtfErrorCode } from './errors.js';
export { decode, decodeTerm, decodeTermWith, type Decoded } from './codec/decode.js';
export {
  DEFAULT_MAX_BIG_BYTES,
  DEFAULT_MAX_DEPTH,
  DEFAULT_MAX_TERM_BYTES,
  HEAP_FLOOR,
  HEAP_PER_TERM_BYTE,
  decodeLimits,
  type DecodeLimits,
  type DecodeOptions,
} from './codec/limits.js';
export { HeapCost } from './codec/heap-cost.js';
export { copyOut, pins, uninitialized, PIN_SHARE, POOLED_MAX } from './codec/binary-copy.js';
export { MAX_INFLATE_RATIO } from './codec/compressed.js';
export { encode, type EncodeOptions } from './codec/encode.js';
export { Encoder, DEFAULT_MAX_ENCODE_DEPTH } from './codec/encoder.js';
export { Tag, VERSION } from './codec/tags.js';
export { parseErlang, consultErlang } from './text/parse.js';
export { formatErlang, formatAtom, formatFloat } from './text/format.js';
