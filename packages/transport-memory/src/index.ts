/**
 * In-memory carrier: the Erlang distribution between Courier nodes in one process, over pipes with real backpressure (the reference carrier of the compliance suite).
 *
 * @packageDocumentation
 * @module @courier/transport-memory
 */
export { MemoryCarrier, memoryCarrierPair, DEFAULT_HIGH_WATER_MARK, DEFAULT_MAX_CHUNK, type MemoryCarrierOptions } from './memory-carrier.js';
export { MemoryNetwork, type MemoryAccept } from './memory-network.js';
export { memoryDist, MemoryTransport, type MemoryDistOptions } from './memory-dist.js';
