import { readFileSync } from 'node:fs';
import { aemp, isFraming, type AempOptions, type Framing } from '@courier/transport-aemp';
import { ConfigError } from '../config/schema.js';
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
const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
const HOSTPORT = /^(\[[^\]]+\]|[^:\s]+|\*):(\d{1,5}|\*)$/;
const KNOWN = new Set([
  'kind',
  'nodeid',
  'secret',
  'secretFile',
  'bind',
  'binds',
  'seeds',
  'peers',
  'framing',
  'framings',
  'global',
  'extended',
  'allowCleartext',
  'tls',
  'handshakeTimeoutMs',
  'connectTimeoutMs',
  'queryTimeoutMs',
  'maxPacketBytes',
]);

function hostPorts(v: unknown, field: string): string[] {
  const list = typeof v === 'string' ? [v] : v;
  if (!Array.isArray(list) || list.some((x) => typeof x !== 'string' || !HOSTPORT.test(x))) throw new ConfigError(field, 'must be "host:port" or a list of them');
  return list as string[];
}

function readPem(file: unknown, field: string): string {
  if (typeof file !== 'string') throw new ConfigError(field, 'missing: a PEM file path');
  try {
    return readFileSync(file, 'utf8');
  } catch {
    throw new ConfigError(field, `cannot read ${file}`);
  }
}

/** The options of `aemp({...})` from a carrier section; every error names its field. */
export function aempOptions(s: IndexedSection, ctx: Pick<PluginContext, 'node'>): AempOptions {
  const o = s.section;
  const f = (k: string) => `carriers[${s.index}].${k}`;
  for (const k of Object.keys(o)) if (!KNOWN.has(k)) throw new ConfigError(f(k), `unknown option (known: ${[...KNOWN].slice(1).join(', ')})`);
  if (o['nodeid'] !== undefined && o['nodeid'] !== ctx.node.name) {
    throw new ConfigError(f('nodeid'), `a Courier node's AEMP id is its node name: give ${JSON.stringify(ctx.node.name)} or leave it out`);
  }
  if (/[;,#]/.test(ctx.node.name)) throw new ConfigError('node.name', 'an AEMP node id has no ";", "," or "#"');
  let secret: string | undefined;
  if (o['secret'] !== undefined) {
    if (typeof o['secret'] !== 'string' || o['secret'] === '') throw new ConfigError(f('secret'), 'must be a non-empty string');
    secret = o['secret'];
  } else if (o['secretFile'] !== undefined) {
    if (typeof o['secretFile'] !== 'string') throw new ConfigError(f('secretFile'), 'must be a file path');
    try {
      secret = readFileSync(o['secretFile'], 'utf8').trim();
    } catch {
      throw new ConfigError(f('secretFile'), `cannot read ${o['secretFile']}`);
    }
  } else {
    secret = process.env['COURIER_AEMP_SECRET'];
  }
  if (!secret) throw new ConfigError(f('secret'), "missing: give secret, secretFile or COURIER_AEMP_SECRET (the network's shared secret)");
  const bindKey = o['binds'] !== undefined ? 'binds' : 'bind';
  const binds = o[bindKey] !== undefined ? hostPorts(o[bindKey], f(bindKey)) : undefined;
  const seeds = o['seeds'] !== undefined ? hostPorts(o['seeds'], f('seeds')) : undefined;
  let peers: Record<string, string[]> | undefined;
  if (o['peers'] !== undefined) {
    if (!isObj(o['peers'])) throw new ConfigError(f('peers'), 'must be { nodeid: "host:port" | ["host:port", …] }');
    peers = Object.fromEntries(Object.entries(o['peers']).map(([k, v]) => [k, hostPorts(v, f(`peers.${k}`))]));
  }
  const framingKey = o['framings'] !== undefined ? 'framings' : 'framing';
  let framings: Framing[] | undefined;
  if (o[framingKey] !== undefined) {
    const v = o[framingKey];
    const list = typeof v === 'string' ? v.split(',').map((x) => x.trim()) : v;
    if (!Array.isArray(list) || list.length === 0 || !list.every((x) => typeof x === 'string' && isFraming(x)))
      throw new ConfigError(f(framingKey), 'must be json, cbor or a list of them');
    framings = list;
  }
  for (const k of ['global', 'extended', 'allowCleartext'] as const) {
    if (o[k] !== undefined && typeof o[k] !== 'boolean') throw new ConfigError(f(k), 'must be true or false');
  }
  for (const k of ['handshakeTimeoutMs', 'connectTimeoutMs', 'queryTimeoutMs', 'maxPacketBytes'] as const) {
    if (o[k] !== undefined && !(typeof o[k] === 'number' && o[k] > 0)) throw new ConfigError(f(k), 'must be a positive number');
  }
  let tls: AempOptions['tls'];
  if (o['tls'] !== undefined) {
    const t = o['tls'];
    if (!isObj(t)) throw new ConfigError(f('tls'), 'must be { cert, key, ca?, allowAnon? } (PEM files)');
    if (t['allowAnon'] !== undefined && typeof t['allowAnon'] !== 'boolean') throw new ConfigError(f('tls.allowAnon'), 'must be true or false');
    tls = {
      cert: readPem(t['cert'], f('tls.cert')),
      key: readPem(t['key'], f('tls.key')),
      ca: t['ca'] !== undefined ? readPem(t['ca'], f('tls.ca')) : undefined,
      allowAnon: t['allowAnon'],
    };
  }
  return {
    secret,
    binds,
    seeds,
    peers,
    framings,
    tls,
    global: o['global'] as boolean | undefined,
    extended: o['extended'] as boolean | undefined,
    allowCleartext: o['allowCleartext'] as boolean | undefined,
    handshakeTimeoutMs: o['handshakeTimeoutMs'] as number | undefined,
    connectTimeoutMs: o['connectTimeoutMs'] as number | undefined,
    queryTimeoutMs: o['queryTimeoutMs'] as number | undefined,
    maxPacketBytes: o['maxPacketBytes'] as number | undefined,
  };
}

export const aempPlugin: CarrierPlugin = {
  kinds: ['aemp'],
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
