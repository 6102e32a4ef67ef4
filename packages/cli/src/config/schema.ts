import { UsageError } from '@courier/core';

/**
 * A Courier node's configuration: who it is, which carriers it runs, and which carrier reaches
 * which peer. Carrier sections are open: `kind` picks the carrier plugin bound in the container
 * (tcp, tls, … or a third party's), which validates the rest of its section.
 *
 * ```yaml
 * node: { name: ts@127.0.0.1, cookie: secret }
 * carriers:
 *   - { kind: tcp }
 *   - { kind: tls, server: { certfile: node.pem, keyfile: node.key, cacertfile: ca.pem } }
 * routes:
 *   - { match: "*@secure-*", carrier: tls }
 * ```
 */
export interface NodeSection {
  readonly name: string;
  readonly cookie?: string;
  readonly cookieFile?: string;
  readonly hidden?: boolean;
  readonly netTicktime?: number;
  /** Implicit connects on send, link, monitor (OTP's `dist_auto_connect`): `on` (default), `once`, `never`. */
  readonly distAutoConnect?: 'on' | 'once' | 'never';
  /** The only peer nodes this node connects with, in and out (`net_kernel:allow/1`); absent: all. */
  readonly allow?: readonly string[];
}

export interface CarrierSection {
  readonly kind: string;
  readonly [option: string]: unknown;
}

export interface RouteSection {
  /** A glob on node names: `*` any run of characters, `?` one. */
  readonly match: string;
  readonly carrier: string;
}

export interface CourierConfig {
  readonly node: NodeSection;
  readonly log?: { readonly level?: string };
  readonly carriers: readonly CarrierSection[];
  readonly routes?: readonly RouteSection[];
  /** Serve the echo process and the `courier_echo` module (what the echo node serves). */
  readonly echo?: boolean;
  /** Run the Erlang ⇄ AEMP bridge (docs/bridge.md) on a node with an Erlang and an aemp carrier. */
  readonly bridge?: boolean;
}

/** One clear error naming the field. */
export class ConfigError extends UsageError {
  constructor(
    readonly field: string,
    problem: string,
  ) {
    super('CONFIG', `${field}: ${problem}`);
    this.name = 'ConfigError';
  }
}

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

/** Check the common parts (carrier sections are checked by their plugins) and return the typed config. */
export function validateConfig(raw: unknown): CourierConfig {
  if (!isObject(raw)) throw new ConfigError('(root)', 'the configuration must be an object with node and carriers');
  const node = raw['node'];
  if (!isObject(node)) throw new ConfigError('node', 'missing: give at least node.name (alive@host)');
  if (typeof node['name'] !== 'string' || !/^[^@\s]+@[^@\s]+$/.test(node['name'])) {
    throw new ConfigError('node.name', `must be a node name alive@host, not ${JSON.stringify(node['name'])}`);
  }
  for (const k of ['cookie', 'cookieFile'] as const) {
    if (node[k] !== undefined && typeof node[k] !== 'string') throw new ConfigError(`node.${k}`, 'must be a string');
  }
  if (node['hidden'] !== undefined && typeof node['hidden'] !== 'boolean') throw new ConfigError('node.hidden', 'must be true or false');
  if (node['netTicktime'] !== undefined && !(typeof node['netTicktime'] === 'number' && node['netTicktime'] > 0)) {
    throw new ConfigError('node.netTicktime', 'must be a positive number of seconds');
  }
  if (node['distAutoConnect'] !== undefined && !['on', 'once', 'never'].includes(node['distAutoConnect'] as string)) {
    throw new ConfigError('node.distAutoConnect', `must be on, once or never (OTP's dist_auto_connect), not ${JSON.stringify(node['distAutoConnect'])}`);
  }
  const allow = node['allow'];
  if (allow !== undefined && !(Array.isArray(allow) && allow.every((n) => typeof n === 'string' && /^[^@\s]+@[^@\s]+$/.test(n)))) {
    throw new ConfigError('node.allow', 'must be a list of node names alive@host (the only peers this node connects with)');
  }
  const carriers = raw['carriers'];
  if (!Array.isArray(carriers) || carriers.length === 0) throw new ConfigError('carriers', 'give at least one carrier, e.g. [{ kind: tcp }]');
  carriers.forEach((c, i) => {
    if (!isObject(c) || typeof c['kind'] !== 'string') throw new ConfigError(`carriers[${i}].kind`, 'missing: each carrier names its kind (tcp, tls, …)');
  });
  const routes = raw['routes'];
  if (routes !== undefined) {
    if (!Array.isArray(routes)) throw new ConfigError('routes', 'must be a list of { match, carrier }');
    const kinds = new Set(carriers.map((c) => (c as CarrierSection).kind));
    routes.forEach((r, i) => {
      if (!isObject(r) || typeof r['match'] !== 'string') throw new ConfigError(`routes[${i}].match`, 'missing: a glob on node names');
      if (typeof r['carrier'] !== 'string' || !kinds.has(r['carrier'])) {
        throw new ConfigError(`routes[${i}].carrier`, `must be one of the configured carriers (${[...kinds].join(', ')})`);
      }
    });
  }
  const log = raw['log'];
  if (log !== undefined && (!isObject(log) || (log['level'] !== undefined && typeof log['level'] !== 'string'))) {
    throw new ConfigError('log.level', 'must be a pino level (trace, debug, info, warn, error, silent)');
  }
  if (raw['echo'] !== undefined && typeof raw['echo'] !== 'boolean') throw new ConfigError('echo', 'must be true or false');
  if (raw['bridge'] !== undefined) {
    if (typeof raw['bridge'] !== 'boolean') throw new ConfigError('bridge', 'must be true or false');
    const kinds = carriers.map((c) => (c as CarrierSection).kind);
    if (raw['bridge'] && !(kinds.includes('aemp') && (kinds.includes('tcp') || kinds.includes('tls')))) {
      throw new ConfigError('bridge', 'the bridge needs an aemp carrier and an Erlang one (tcp or tls)');
    }
  }
  return raw as unknown as CourierConfig;
}

/** `*` and `?` globs on node names → RegExp. */
export function globToRegExp(glob: string): RegExp {
  const esc = glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${esc}$`);
}
