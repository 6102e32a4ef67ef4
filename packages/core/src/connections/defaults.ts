/**
 * The connection defaults of every carrier, in one place, each with where it comes from.
 * A transport's options override them; changing one is a behaviour change (the visible-node work
 * revisits `HIDDEN_BY_DEFAULT`).
 */

/**
 * Resolve + dial + handshake must finish within this: OTP's `net_setuptime` default, 7 s
 * (kernel app, `net_setuptime`; dist_util's timer). Used by the Erlang distribution over every
 * carrier (tcp, tls, ws, ssh) and by the memory carrier.
 */
export const DEFAULT_SETUP_TIME_MS = 7000;

/**
 * Accepted connections still in their handshake, node-wide and per remote address. Past either,
 * the OLDEST such attempt is dropped to make room (nginx's and OpenSSH's MaxStartups bound the
 * same thing; OTP has no limit): silent connections cannot exhaust memory or descriptors, and a real
 * peer, whose handshake takes milliseconds, still gets through while they pile up.
 */
export const MAX_PENDING_HANDSHAKES = 256;
/**
 * Accepted connections still in their handshake from one remote address (see {@link
 * MAX_PENDING_HANDSHAKES}).
 */
export const MAX_PENDING_HANDSHAKES_PER_ADDRESS = 64;

/**
 * Operations queued for a peer whose connection is still being set up (resolve, dial, handshake:
 * at most the set-up time). Their size is not known before they are encoded, so the bound is a
 * count: 10,000 (10 GiB of 1 MiB binaries would be the same count; the busy limit bounds bytes
 * once the connection is up). Past it a message is refused with CarrierError BUSY_DIST_PORT, as
 * on a busy connection; links, exits and monitors are always queued, so a signal is never lost.
 * OTP has no such queue: its sender is suspended while the connection is set up.
 */
export const MAX_PENDING_OPS = 10_000;

/** AEMP's handshake deadline: Perl AnyEvent::MP's `monitor_timeout` default, 30 s. */
export const AEMP_SETUP_TIME_MS = 30_000;

/** AEMP's TCP connect deadline per address: Perl AnyEvent::MP's `connect_interval`, 2 s. */
export const AEMP_CONNECT_TIMEOUT_MS = 2000;

/**
 * Whether a node is hidden (not in its peers' `nodes()`, `erl -hidden`) unless told otherwise:
 * - `tcp`, `tls`: hidden, because a visible node takes part in `global`, which Courier does not
 *   speak yet: a visible Courier node stalls `global:sync()` on its Erlang peers (docs/erlang.md);
 * - `ws` (a gateway), `ssh`, `memory`: visible — their peers are Courier nodes, which run no
 *   `global`, and `nodes()` on them is what users of a Courier-only cluster expect;
 * - `browser`: hidden — a page is a client of its gateway, not a member of the cluster.
 */
export const HIDDEN_BY_DEFAULT = {
  tcp: true,
  tls: true,
  ws: false,
  browser: true,
  ssh: false,
  memory: false,
} as const;
