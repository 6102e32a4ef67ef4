/**
 * A way of finding the nodes of a cluster, as libcluster's strategies: each round the formation
 * asks every strategy for the node names it sees now (`alive@host`, the Erlang `-name`
 * convention), connects the new ones and drops the ones no longer listed.
 *
 * `resolve` answers the whole current list. "Nothing there" (an empty EPMD, a DNS name without
 * records: a headless service with no ready pods) is an empty list; a failure to ask (a DNS
 * timeout, SERVFAIL) rejects, and the formation keeps that strategy's previous answer for the round
 * rather than dropping every node it had found because one query failed.
 */
export interface Strategy {
  /** What it is, for logs and membership events: `static`, `epmd-hosts`, `dns`, `dns-srv`. */
  readonly kind: string;
  /**
   * The node names that should form the cluster now (this node among them or not); rejects on a failure,
   * which keeps the previous answer for the round.
   */
  resolve(signal: AbortSignal): Promise<readonly string[]>;
}

/** OTP's alive part of a node name: letters, digits, `_` and `-` (what `erl -name` and EPMD accept). */
const ALIVE = /^[A-Za-z0-9_-]{1,255}$/;

/** `basename` checked as the alive part of a node name. */
export function checkBasename(basename: string): string {
  if (!ALIVE.test(basename)) throw new RangeError(`basename ${JSON.stringify(basename)} is not the alive part of a node name (letters, digits, _ and -)`);
  return basename;
}

/**
 * `<basename>@<host>` as `erl -name` writes it: a DNS name without its trailing dot (SRV targets
 * carry one: `pod.svc.cluster.local.`), an IPv4 or IPv6 address as written (`a@10.0.0.7`,
 * `a@fd00::7`, as OTP's inet6_tcp names them).
 */
export function nodeNameOf(basename: string, host: string): string {
  return `${basename}@${host.endsWith('.') ? host.slice(0, -1) : host}`;
}

/** The alive part of `alive@host`. */
export function aliveOf(name: string): string {
  const i = name.indexOf('@');
  return i < 0 ? name : name.slice(0, i);
}
