import { Resolver } from 'node:dns/promises';
import { checkBasename, nodeNameOf, type Strategy } from './strategy.js';

/**
 * DNS strategies, as libcluster's `Kubernetes.DNS` / `DNSPoll` and `Kubernetes.DNSSRV`:
 * - `dnsA`: the A and AAAA records of a name (a Kubernetes headless service answers one per
 *   ready pod) → `<basename>@<address>`;
 * - `dnsSrv`: the SRV records of a name (`_dist._tcp.svc.ns.svc.cluster.local`, or a headless
 *   service's own name, which answers one per pod) → `<basename>@<target>`.
 * NXDOMAIN or no records is an empty cluster; a timeout or a server failure rejects (the formation
 * then keeps the previous answer for the round).
 */
export interface DnsOptions {
  /** The name to resolve. */
  readonly query: string;
  /** The alive part of every node found (in Kubernetes every pod of a set shares it). */
  readonly basename: string;
  /** DNS servers (`10.96.0.10`, `127.0.0.1:5353`, `[::1]:53`); absent: the system's (/etc/resolv.conf). */
  readonly servers?: readonly string[];
  /** Per query, as node:dns's `timeout` (each of `tries` attempts). */
  readonly timeoutMs?: number;
  readonly tries?: number;
}

export interface DnsAOptions extends DnsOptions {
  /** Which record types to ask for: both by default (a dual-stack service answers both). */
  readonly records?: readonly ('A' | 'AAAA')[];
}

/** libcluster's and node:dns's answer budget: 5 s over two tries. */
export const DNS_TIMEOUT_MS = 2500;
const DNS_TRIES = 2;

/** Codes of "this name has no such records": an answer, not a failure. */
const NO_RECORDS = new Set(['ENOTFOUND', 'ENODATA', 'NOTFOUND', 'NODATA']);

/** Run `ask` with a resolver for `o` that `signal` cancels (its listener removed after). */
async function withResolver<T>(o: DnsOptions, signal: AbortSignal, ask: (r: Resolver) => Promise<T>): Promise<T> {
  const r = new Resolver({ timeout: o.timeoutMs ?? DNS_TIMEOUT_MS, tries: o.tries ?? DNS_TRIES });
  if (o.servers !== undefined && o.servers.length > 0) r.setServers([...o.servers]);
  const cancel = () => r.cancel();
  signal.addEventListener('abort', cancel, { once: true });
  try {
    return await ask(r);
  } finally {
    signal.removeEventListener('abort', cancel);
  }
}

async function orNone<T>(p: Promise<T[]>): Promise<T[]> {
  try {
    return await p;
  } catch (err) {
    if (NO_RECORDS.has((err as NodeJS.ErrnoException).code ?? '')) return [];
    throw err;
  }
}

/**
 * A strategy that resolves the A and AAAA records of `o.query` (a Kubernetes headless service answers one
 * per ready pod) to `<basename>@<address>` nodes, as libcluster's `Kubernetes.DNS`.
 */
export function dnsA(o: DnsAOptions): Strategy {
  const basename = checkBasename(o.basename);
  const records = o.records ?? ['A', 'AAAA'];
  return {
    kind: 'dns',
    async resolve(signal) {
      const [v4, v6] = await withResolver(o, signal, (r) =>
        Promise.all([records.includes('A') ? orNone(r.resolve4(o.query)) : [], records.includes('AAAA') ? orNone(r.resolve6(o.query)) : []]),
      );
      return [...v4, ...v6].map((ip) => nodeNameOf(basename, ip));
    },
  };
}

/**
 * A strategy that resolves the SRV records of `o.query` to `<basename>@<target>` nodes, as libcluster's
 * `Kubernetes.DNSSRV`. NXDOMAIN or no records is an empty cluster; a timeout or a server failure rejects.
 */
export function dnsSrv(o: DnsOptions): Strategy {
  const basename = checkBasename(o.basename);
  return {
    kind: 'dns-srv',
    async resolve(signal) {
      const srv = await withResolver(o, signal, (r) => orNone(r.resolveSrv(o.query)));
      return srv.map((s) => nodeNameOf(basename, s.name));
    },
  };
}
