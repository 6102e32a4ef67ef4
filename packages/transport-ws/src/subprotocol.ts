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
/** Socket reads a WebSocket buffers at most while a frame is incomplete (see {@link MAX_WS_FRAGMENTS}). */
export const MAX_WS_BUFFERED_CHUNKS = 1024;

/**
 * The subprotocol a browser page names: the page's credential first (one text message, never in
 * the URL), the gateway's welcome (one text message: the page's node name and the secret of this
 * connection), then the Erlang distribution as in {@link SUBPROTOCOL}. docs/ws.md.
 */
export const PAGE_SUBPROTOCOL = 'courier-page-erldist-6';

/** WebSocket close codes a gateway refuses a page with (the reason is `CODE: what to do`). */
export const PAGE_CLOSE = {
  /** No credential, a bad one, an expired one: 4401 (as HTTP 401). */
  UNAUTHORIZED: 4401,
  /** The page's identity has too many connections, or the gateway too many pages: 4429. */
  TOO_MANY: 4429,
  /** The authorization ended (`expiresAt`): 4440. */
  EXPIRED: 4440,
} as const;

/** What a gateway answers a page it authorized (the welcome message, JSON). */
export interface PageWelcome {
  /** The page's node name, chosen by the gateway, unique to this connection. */
  readonly node: string;
  /** The gateway's node name. */
  readonly gateway: string;
  /** The secret this connection's Erlang handshake uses in place of a cookie. */
  readonly secret: string;
  /** Who the page is (the token's `sub`). */
  readonly identity: string;
  /** When the authorization ends (ms since the epoch): the gateway closes the connection then. */
  readonly expiresAt: number;
}
