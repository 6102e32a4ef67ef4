import type { Atom } from '@courier/term';
import type { DistOp } from '@courier/core';

/** What a page may reach through its gateway: registered names on nodes, and AEMP port ids. */
export interface PageGrants {
  /** `{ name: 'echo', node: 'erl@host' }`: the registered name `echo` on `erl@host`. */
  readonly names: ReadonlyArray<{ readonly name: string; readonly node: string }>;
  /** AEMP port ids, `nodeid#port` (never the node port, `nodeid#`). */
  readonly ports: readonly string[];
}

/** What `authorize` is given: the page's credential and its HTTP upgrade request. */
export interface PageRequest {
  /** The page's first WebSocket message (a text message: the token). */
  readonly credential: string;
  /** The `Origin` header (already checked against `origins`); absent from non-browser clients. */
  readonly origin: string | undefined;
  readonly remoteAddress: string;
  /** The request path (and query). */
  readonly url: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
}

/** What `authorize` answers for a page it lets in. */
export interface PageAuthorization {
  /** Who the page is (logged with everything it is refused; connections are capped per identity). */
  readonly identity: string;
  readonly grants: PageGrants;
  /** When the authorization ends, ms since the epoch: the gateway closes the page's connection then. */
  readonly expiresAt: number;
}

/** The application's judgement of a page: throw (a PageAuthError, say) to refuse it. */
export type Authorize = (request: PageRequest) => PageAuthorization | Promise<PageAuthorization>;

/** Browser pages on a WebSocket listener (docs/ws.md). */
export interface PagesOptions {
  /** Who a page is and what it may reach; e.g. `tokenAuthorizer(secret)`. */
  readonly authorize: Authorize;
  /**
   * The page origins allowed (`https://app.example`, exact). A WebSocket upgrade with an `Origin`
   * not listed is refused (403) whatever it asks for; one without `Origin` (not a browser) may
   * join as a page with a valid credential, or as a node with the cookie.
   */
  readonly origins: readonly string[];
  /** Open page connections per identity. Default 4. */
  readonly maxPerIdentity?: number;
  /** Open page connections in all. Default 256. */
  readonly maxPages?: number;
  /** Largest distribution message from or to a page. Default PAGE_MAX_MESSAGE (1 MiB). */
  readonly maxMessage?: number;
  /** Largest credential (first message). Default 8 KiB. */
  readonly maxCredentialBytes?: number;
  /**
   * Plain `ws://` beyond loopback is refused when pages are on (the token would cross the network
   * in clear); set this when a TLS proxy in front of the gateway terminates `wss://`.
   */
  readonly tlsTerminatedByProxy?: boolean;
}

/** An authorized page connected now. */
export interface PageInfo {
  /** Its node name (chosen by the gateway). */
  readonly node: Atom;
  readonly identity: string;
  readonly grants: PageGrants;
  readonly expiresAt: number;
  readonly remote: string;
  readonly origin: string | undefined;
}

/**
 * The gateway's judgement of what a page's session may do: every operation arriving from a page
 * goes through `check` first; an answer is the reason it is refused (it is then dropped, logged,
 * and the page told). Installed by `startGateway`; without one, pages may do nothing.
 */
export interface PagePolicy {
  /** Why `page` may not perform `op` (undefined: it may). */
  check(op: DistOp, page: PageInfo): string | undefined;
  /** The page's session ended. */
  pageDown?(page: PageInfo): void;
}
