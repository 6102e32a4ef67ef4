import { bool, either, list, lit, num, obj, oneOf, port, positive, required, str, tagged, type ObjectSchema } from './shape.js';

/**
 * The `cluster` section: how a node finds the other nodes of its cluster (@courier/discovery,
 * docs/configuration.md#cluster). One or more strategies, re-resolved every `intervalMs`:
 *
 * ```yaml
 * cluster:
 *   intervalMs: 5000
 *   strategies:
 *     - { kind: dns, query: courier.default.svc.cluster.local }   # A/AAAA → <basename>@<ip>
 * ```
 */
export interface ClusterSection {
  readonly strategies: readonly StrategySection[];
  readonly intervalMs?: number;
  readonly disconnectGone?: boolean;
}

/** One entry of `cluster.strategies`, by `kind`: static, epmd-hosts, dns, dns-srv. */
export type StrategySection =
  | { readonly kind: 'static'; readonly nodes: readonly string[] }
  | { readonly kind: 'epmd-hosts'; readonly hosts?: readonly string[]; readonly hostsFile?: string | false; readonly epmdPort?: number; readonly timeoutMs?: number }
  | ({ readonly kind: 'dns'; readonly records?: readonly ('A' | 'AAAA')[] } & DnsKeys)
  | ({ readonly kind: 'dns-srv' } & DnsKeys);

interface DnsKeys {
  readonly query: string;
  readonly basename?: string;
  readonly servers?: readonly string[];
  readonly timeoutMs?: number;
  readonly tries?: number;
}

const NODE_NAME = str({ pattern: /^[^@\s]+@[^@\s]+$/, expect: 'a node name alive@host' });
const BASENAME = str({ pattern: /^[A-Za-z0-9_-]{1,255}$/, expect: 'the alive part of a node name (letters, digits, _ and -)' });
/** `10.96.0.10`, `127.0.0.1:5353`, `[::1]:53`, `fd00::a` — what node:dns's setServers takes. */
const DNS_SERVER = str({
  pattern: /^(\[[0-9A-Fa-f:.]+\](:\d{1,5})?|[0-9A-Fa-f:]*:[0-9A-Fa-f:.]+|\d{1,3}(\.\d{1,3}){3}(:\d{1,5})?)$/,
  expect: 'a DNS server address (ip, ip:port or [ipv6]:port)',
});

const DNS_KEYS = {
  query: required(str({ nonEmpty: true }), 'the DNS name to resolve (a headless service: name.namespace.svc.cluster.local)'),
  basename: BASENAME,
  servers: list(DNS_SERVER, { minItems: 1 }),
  timeoutMs: positive(),
  tries: num({ integer: true, min: 1, expect: 'a whole number ≥ 1' }),
};

const STRATEGIES: ReadonlyMap<string, ObjectSchema> = new Map([
  ['static', obj({ nodes: required(list(NODE_NAME, { minItems: 1 }), 'a list of node names alive@host') })],
  [
    'epmd-hosts',
    obj({
      hosts: list(str({ nonEmpty: true })),
      hostsFile: either([str({ nonEmpty: true }), lit(false)], 'a .hosts.erlang file path, or false for none'),
      epmdPort: port(1),
      timeoutMs: positive(),
    }),
  ],
  ['dns', obj({ ...DNS_KEYS, records: list(oneOf('A', 'AAAA'), { minItems: 1 }) })],
  ['dns-srv', obj(DNS_KEYS)],
]);

/** The keys of the `cluster` section (strategies, intervalMs, disconnectGone). */
export const CLUSTER_SECTION: ObjectSchema = obj({
  strategies: required(
    list(tagged('kind', 'cluster strategy', STRATEGIES), { minItems: 1, tooFew: 'give at least one strategy, e.g. [{ kind: dns, query: NAME }]' }),
    'give at least one strategy, e.g. [{ kind: dns, query: NAME }]',
  ),
  intervalMs: positive(),
  disconnectGone: bool(),
});
