import type { CarrierPlugin } from '../container.js';
import { BUILTIN_SECTIONS } from './carriers.js';
import { CLUSTER_SECTION, type ClusterSection } from './cluster.js';
import { ConfigError, type ConfigProblem } from './error.js';
import { bool, check, list, obj, oneOf, positive, required, str, tagged, type ObjectSchema } from './shape.js';
import { didYouMean } from './suggest.js';

export { ConfigError, type ConfigProblem } from './error.js';

/**
 * A Courier node's configuration: who it is, which carriers it runs, and which carrier reaches
 * which peer. `kind` picks the carrier plugin bound in the container (tcp, tls, … or a third
 * party's); the plugin's schema (`CarrierPlugin.schemas`) says which keys its section takes.
 * Nothing unknown is accepted, at any level: validateConfig refuses it with the key path.
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
  /** Keep polling this many µs after each message instead of sleeping (core's busyPollMicros); absent: off. */
  readonly busyPollMicros?: number;
}

/** One entry of `carriers`: `kind` picks the plugin; the other keys are the plugin's (its `schemas`). */
export interface CarrierSection {
  readonly kind: string;
  readonly [option: string]: unknown;
}

/** One entry of `routes`: peers whose name matches go over the carrier of that kind. */
export interface RouteSection {
  /** A glob on node names: `*` any run of characters, `?` one. */
  readonly match: string;
  readonly carrier: string;
}

/** A whole configuration, as validateConfig returns it (see NodeSection for an example). */
export interface CourierConfig {
  readonly node: NodeSection;
  readonly log?: { readonly level?: string };
  readonly carriers: readonly CarrierSection[];
  readonly routes?: readonly RouteSection[];
  /** Serve the echo process and the `courier_echo` module (what the echo node serves). */
  readonly echo?: boolean;
  /** Run the Erlang ⇄ AEMP bridge (docs/bridge.md) on a node with an Erlang and an aemp carrier. */
  readonly bridge?: boolean;
  /** Find the other nodes and keep connected to them (@courier/discovery; config/cluster.ts). */
  readonly cluster?: ClusterSection;
  /**
   * Third-party carrier plugins: npm packages (or paths relative to the configuration file)
   * whose default export is an inversify ContainerModule (plugins/load.ts). Loaded by
   * loadNodeConfig and `courier node` before the carriers are checked.
   */
  readonly plugins?: readonly string[];
}

const NODE_NAME = /^[^@\s]+@[^@\s]+$/;
const nodeName = (what = 'a node name alive@host') => str({ pattern: NODE_NAME, expect: what });

/** The node section: who this node is and whom it talks with. */
const NODE_SECTION = obj({
  name: required(nodeName(), 'give at least node.name (alive@host)'),
  cookie: str(),
  cookieFile: str(),
  hidden: bool(),
  netTicktime: positive(),
  distAutoConnect: oneOf('on', 'once', 'never'),
  allow: list(nodeName(), { expect: 'a list of node names alive@host (the only peers this node connects with)' }),
  busyPollMicros: positive(),
});

const ROUTE = obj({ match: required(str(), 'a glob on node names (* any run of characters, ? one)'), carrier: required(str(), 'the kind of a configured carrier') });

const ERLANG_KINDS = ['tcp', 'tls'];

/**
 * The whole configuration, given the carrier kinds known (each with its section's schema, or
 * `'open'` for a plugin that checks its own section). Cross-key rules ride on `refine`.
 */
export function configSchema(carriers: ReadonlyMap<string, ObjectSchema | 'open'>): ObjectSchema {
  return obj(
    {
      node: required(NODE_SECTION, 'give at least node.name (alive@host)'),
      log: obj({ level: oneOf('fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent') }),
      carriers: required(
        list(tagged('kind', 'carrier', carriers), { minItems: 1, tooFew: 'give at least one carrier, e.g. [{ kind: tcp }]' }),
        'give at least one carrier, e.g. [{ kind: tcp }]',
      ),
      routes: list(ROUTE),
      echo: bool(),
      bridge: bool(),
      cluster: CLUSTER_SECTION,
      plugins: list(str({ nonEmpty: true }), { expect: 'a list of npm package names (or paths) of carrier plugins' }),
    },
    { refine: crossChecks, expect: 'a mapping with node and carriers' },
  );
}

function crossChecks(c: Readonly<Record<string, unknown>>): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  const kinds = (c['carriers'] as readonly CarrierSection[]).map((s) => s.kind);
  kinds.forEach((k, i) => {
    const first = kinds.indexOf(k);
    // Routes pick a carrier by kind, and a plugin builds one transport of each: a second section of a kind would be ignored.
    if (first !== i) out.push({ path: `carriers[${i}].kind`, problem: `a second ${k} carrier (carriers[${first}] is one): one section per kind` });
  });
  ((c['routes'] ?? []) as readonly RouteSection[]).forEach((r, i) => {
    if (!kinds.includes(r.carrier))
      out.push({ path: `routes[${i}].carrier`, problem: `must be one of the configured carriers (${kinds.join(', ')})${didYouMean(r.carrier, kinds)}` });
  });
  if (c['bridge'] === true && !(kinds.includes('aemp') && kinds.some((k) => ERLANG_KINDS.includes(k)))) {
    out.push({ path: 'bridge', problem: 'the bridge needs an aemp carrier and an Erlang one (tcp or tls)' });
  }
  return out;
}

/** What validateConfig checks a configuration against besides the built-in schema. */
export interface ValidateOptions {
  /**
   * The carrier plugins the node will be built with (`container.getAll(CARRIER_PLUGIN)`): their
   * kinds are the known ones, their `schemas` the sections' schemas. Default: the built-in carriers.
   */
  readonly plugins?: readonly Pick<CarrierPlugin, 'kinds' | 'schemas'>[];
}

/** The carrier kinds known to `plugins`, each with its section schema or `'open'`. */
export function carrierSchemas(plugins: ValidateOptions['plugins']): ReadonlyMap<string, ObjectSchema | 'open'> {
  if (plugins === undefined) return BUILTIN_SECTIONS;
  const m = new Map<string, ObjectSchema | 'open'>();
  for (const p of plugins) for (const k of p.kinds) if (!m.has(k)) m.set(k, p.schemas?.[k] ?? 'open');
  return m;
}

/**
 * Every problem of a configuration, in the order of the file: unknown keys at any level (with the
 * closest known key), missing and mistyped values, and cross-key rules. Empty when it is right.
 */
export function configProblems(raw: unknown, opts: ValidateOptions = {}): ConfigProblem[] {
  return check(configSchema(carrierSchemas(opts.plugins)), raw);
}

/**
 * Check a configuration (as parsed from `file`, when it comes from one) and return it typed.
 * Throws a ConfigError naming the file, the key path of each problem and, for an unknown key or
 * value, the known one it most likely stands for: `node.cokie in node.yaml: unknown key; did you
 * mean cookie?`. Carrier sections are checked against their plugin's schema; what only a plugin
 * can check (files it reads, a secret from the environment) it checks when the node is built.
 */
export function validateConfig(raw: unknown, file?: string, opts: ValidateOptions = {}): CourierConfig {
  const problems = configProblems(raw, opts);
  if (problems.length > 0) throw ConfigError.of(problems, file);
  return raw as CourierConfig;
}

/** `*` and `?` globs on node names → RegExp. */
export function globToRegExp(glob: string): RegExp {
  const esc = glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${esc}$`);
}
