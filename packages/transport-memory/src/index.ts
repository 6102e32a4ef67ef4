export { MemoryCarrier, memoryCarrierPair, DEFAULT_HIGH_WATER_MARK, DEFAULT_MAX_CHUNK, type MemoryCarrierOptions } from './memory-carrier.js';
export { MemoryNetwork, type MemoryAccept } from './memory-network.js';
export { MemoryHandshake, type MemoryHandshakeOptions, type MemoryHandshakeState } from './handshake/memory-handshake.js';
export { MemoryFlag, DEFAULT_MEMORY_FLAGS, genDigest } from './handshake/messages.js';
export { FrameParser } from './session/frame-parser.js';
export { MemorySession, DEFAULT_MAX_FRAME_BYTES, type MemorySessionOptions } from './session/memory-session.js';
export { memoryDist, MemoryTransport, DEFAULT_HANDSHAKE_TIMEOUT_MS, type MemoryDistOptions } from './memory-dist.js';
