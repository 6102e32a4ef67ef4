import { readFileSync } from 'node:fs';
import { aemp, type AempOptions, type Framing } from '@courier/transport-aemp';
import { AEMP_SECTION } from '../config/carriers.js';
import { ConfigError, type CarrierSection } from '../config/schema.js';
import { checkObject } from '../config/shape.js';
import type { CarrierPlugin, IndexedSection, PluginContext } from '../container.js';

/**
 * The AnyEvent::MP carrier (@courier/transport-aemp, docs/aemp.md):
 *
 * ```yaml
 * - kind: aemp
 *   nodeid: bridge@127.0.0.1      # optional; a Courier node's AEMP id is its node name
 *   secret: S                     # or secretFile, or COURIER_AEMP_SECRET
 *   bind: 127.0.0.1:4040          # or a list (Perl's binds); default 127.0.0.1:0
 *   seeds: [127.0.0.1:4050]       # Perl's seeds
 *   peers: { perl-a: [127.0.0.1:4041] }
 *   framing: json                 # json, cbor or a list (preferred first)
 *   global: false                 # run the global registry service from the start
 *   extended: true                # the extended value mapping with Courier peers
 *   allowCleartext: false
 *   tls: { cert: node.pem, key: node.key, ca: ca.pem, allowAnon: false }   # PEM files
 *   handshakeTimeoutMs / connectTimeoutMs / queryTimeoutMs / maxPacketBytes: positive numbers
 * ```
 *
 * Peers whose node name has no `@` (AEMP node ids) are reached over this carrier unless a route
 * says otherwise (buildNode's default).
 */
const list = (v: unknown): string[] | undefined => (v === undefined ? undefined : typeof v === 'string' ? [v] : (v as string[]));

function readPem(file: string, field: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    throw new ConfigError(field, `cannot read ${file}`);
  }
}

/** The options of `aemp({...})` from a carrier section (its keys: AEMP_SECTION); every error names its field. */
export function aempOptions(s: IndexedSection, ctx: Pick<PluginContext, 'node'>): AempOptions {
  const problems = checkObject(AEMP_SECTION, s.section, `carriers[${s.index}]`, 'kind');
  if (problems.length > 0) throw ConfigError.of(problems);
  const o = s.section as CarrierSection & AempSection;
  const f = (k: string) => `carriers[${s.index}].${k}`;
  if (o.nodeid !== undefined && o.nodeid !== ctx.node.name) {
    throw new ConfigError(f('nodeid'), `a Courier node's AEMP id is its node name: give ${JSON.stringify(ctx.node.name)} or leave it out`);
  }
  if (/[;,#]/.test(ctx.node.name)) throw new ConfigError('node.name', 'an AEMP node id has no ";", "," or "#"');
  let secret = o.secret;
  if (secret === undefined && o.secretFile !== undefined) {
    try {
      secret = readFileSync(o.secretFile, 'utf8').trim();
    } catch {
      throw new ConfigError(f('secretFile'), `cannot read ${o.secretFile}`);
    }
  }
  secret ??= process.env['COURIER_AEMP_SECRET'];
  if (!secret) throw new ConfigError(f('secret'), "missing: give secret, secretFile or COURIER_AEMP_SECRET (the network's shared secret)");
  const framing = o.framings ?? o.framing;
  return {
    secret,
    binds: list(o.binds ?? o.bind),
    seeds: list(o.seeds),
    peers: o.peers === undefined ? undefined : Object.fromEntries(Object.entries(o.peers).map(([k, v]) => [k, list(v) as string[]])),
    framings: typeof framing === 'string' ? (framing.split(',').map((x) => x.trim()) as Framing[]) : framing,
    tls: o.tls && {
      cert: readPem(o.tls.cert, f('tls.cert')),
      key: readPem(o.tls.key, f('tls.key')),
      ca: o.tls.ca !== undefined ? readPem(o.tls.ca, f('tls.ca')) : undefined,
      allowAnon: o.tls.allowAnon,
    },
    global: o.global,
    extended: o.extended,
    allowCleartext: o.allowCleartext,
    handshakeTimeoutMs: o.handshakeTimeoutMs,
    connectTimeoutMs: o.connectTimeoutMs,
    queryTimeoutMs: o.queryTimeoutMs,
    maxPacketBytes: o.maxPacketBytes,
  };
}

/** An aemp section once AEMP_SECTION has checked it. */
interface AempSection {
  readonly nodeid?: string;
  readonly secret?: string;
  readonly secretFile?: string;
  readonly bind?: string | string[];
  readonly binds?: string | string[];
  readonly seeds?: string | string[];
  readonly peers?: Record<string, string | string[]>;
  readonly framing?: string | Framing[];
  readonly framings?: string | Framing[];
  readonly global?: boolean;
  readonly extended?: boolean;
  readonly allowCleartext?: boolean;
  readonly tls?: { readonly cert: string; readonly key: string; readonly ca?: string; readonly allowAnon?: boolean };
  readonly handshakeTimeoutMs?: number;
  readonly connectTimeoutMs?: number;
  readonly queryTimeoutMs?: number;
  readonly maxPacketBytes?: number;
}

/** The built-in plugin of the carrier kind `aemp` (AnyEvent::MP). */
export const aempPlugin: CarrierPlugin = {
  name: '@courier/cli',
  kinds: ['aemp'],
  paths: { aemp: ['secretFile', 'tls.cert', 'tls.key', 'tls.ca'] },
  schemas: { aemp: AEMP_SECTION },
  create(sections: readonly IndexedSection[], ctx: PluginContext) {
    if (sections.length > 1) throw new ConfigError(`carriers[${(sections[1] as IndexedSection).index}]`, 'one aemp carrier per node');
    const s = sections[0] as IndexedSection;
    const opts = aempOptions(s, ctx);
    try {
      return aemp(opts);
    } catch (err) {
      throw new ConfigError(`carriers[${s.index}]`, (err as Error).message);
    }
  },
};
