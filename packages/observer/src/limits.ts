/**
 * What a client of the observer's listener may make the node hold (docs/limits.md). The
 * observer is for operators on loopback or a trusted network, but it must not fall over, wedge or
 * grow for a client that misbehaves there either.
 */

/**
 * How long a client may take to send a request's headers (and a request, all of it; the
 * observer reads no bodies). Node's defaults are 60 s and 300 s; nginx's client_header_timeout is 60 s.
 */
export const OBSERVER_HEADERS_TIMEOUT_MS = 10_000;

/** HTTP connections open at once, pages excluded: past it the oldest is dropped (as OpenSSH MaxStartups drops). */
export const OBSERVER_MAX_CONNECTIONS = 64;

/** Pages (WebSockets) open at once: past it an upgrade is refused with 503. */
export const OBSERVER_MAX_PAGES = 16;

/** The largest message a page may send (its commands are a few dozen bytes). */
export const OBSERVER_MAX_MESSAGE = 4096;

/** Samples waiting for a page that does not read: past this many bytes the next ones are skipped. */
export const OBSERVER_MAX_BUFFERED = 1 << 20;
