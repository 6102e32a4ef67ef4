/** The WebSocket subprotocol both ends name: the Erlang distribution, version 6. */
export const SUBPROTOCOL = 'courier-erldist-6';
/** Where a gateway accepts by default. */
export const DEFAULT_PATH = '/courier';

/**
 * The largest WebSocket message either end of the subprotocol sends or accepts: 64 KiB.
 *
 * The messages carry a byte stream (the Erlang handshake's 2-byte-length messages, then the
 * session's 4-byte-length frames), not one distribution message each: a writer splits what it
 * writes into messages of at most this size and the reader joins them again by the length
 * prefixes, so the distribution message limit (`maxMessage`) is the session's alone. What a peer
 * can make a listener hold before it has shown the cookie is one WebSocket message. 64 KiB is
 * the smallest size at which bulk throughput is the same as with whole messages (measured:
 * docs/limits.md, "WebSocket message"); it is also what a socket read delivers at a time.
 */
export const MAX_WS_MESSAGE = 64 * 1024;

/**
 * Bounds on how a peer may build one WebSocket message (`ws`'s options, on both ends): at most
 * this many frames (fragments) and this many socket reads buffered while a frame is incomplete.
 * A 64 KiB message arrives in a handful of reads on any real network; a peer trickling it in
 * one-byte segments would otherwise make the node keep tens of thousands of small buffers.
 */
export const MAX_WS_FRAGMENTS = 1024;
export const MAX_WS_BUFFERED_CHUNKS = 1024;
