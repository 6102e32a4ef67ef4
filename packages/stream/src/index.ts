/**
 * @courier/stream — Node-only helpers for carriers over Node streams: the StreamCarrier base (TCP
 * and TLS sockets, SSH channels), the TCP carrier (a socket as a Carrier, reading in place when made
 * with {@link InPlaceReads}), and the length-prefixed frame readers (also importable alone, without
 * Node modules, as `@courier/stream/length-prefixed`).
 *
 * @packageDocumentation
 * @module @courier/stream
 */
export { StreamCarrier } from './stream-carrier.js';
export { TcpCarrier } from './tcp-carrier.js';
export { LengthPrefixedReader, copySpanned, spannedHead, type SpannedFrame } from './length-prefixed-reader.js';
export { InPlaceFrameReader, REUSE_MAX, type FramePlacer } from './in-place-reader.js';
export { InPlaceReads, adoptForInPlaceReads } from './in-place-reads.js';
