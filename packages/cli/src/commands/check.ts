import type { Container } from 'inversify';
import { atom } from '@courier/term';
import { buildNodeParts, carrierPlugins } from '../container.js';
import type { CourierConfig } from '../config/schema.js';

/** What `courier node --check` needs: the checked configuration and the container it builds from. */
export interface CheckInput {
  readonly config: CourierConfig;
  readonly container: Container;
  /** The configuration file, when there is one. */
  readonly file?: string;
  /** The third-party plugins loaded, by the configuration's names for them. */
  readonly plugins?: readonly string[];
}

/** Keys whose values are never printed. */
const SECRET = /^(secret|password|cookie)$/i;
const redact = (v: unknown): unknown =>
  Array.isArray(v) ? v.map(redact) : typeof v === 'object' && v !== null ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, SECRET.test(k) ? '***' : redact(x)])) : v;

const describeSection = (s: Readonly<Record<string, unknown>>): string =>
  Object.entries(redact(s) as Record<string, unknown>)
    .filter(([k, v]) => k !== 'kind' && v !== undefined)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(' ');

/**
 * `courier node --check`: builds the node as `courier node` would (every carrier's plugin reads
 * its files and checks its section; the cookie is resolved) but starts nothing, and describes
 * it: the node, its plugins, each carrier with the plugin that builds it, and the routes.
 * A problem throws (a ConfigError naming the key path), as `courier node` would before starting.
 */
export function checkNode(input: CheckInput): string[] {
  const { config, container } = input;
  const { carrierFor } = buildNodeParts(config, { container });
  const plugins = carrierPlugins(container);
  const n = config.node;
  const lines = [`configuration ok${input.file !== undefined ? `: ${input.file}` : ''} (nothing started)`];
  const flags = [
    n.hidden === false ? 'visible' : 'hidden',
    n.cookie !== undefined ? 'cookie from node.cookie' : n.cookieFile !== undefined ? `cookie from ${n.cookieFile}` : undefined,
  ];
  if (n.allow !== undefined) flags.push(`allow ${n.allow.join(', ')}`);
  lines.push(`node      ${n.name} (${flags.filter(Boolean).join('; ')})`);
  if (input.plugins !== undefined && input.plugins.length > 0) lines.push(`plugins   ${input.plugins.join(', ')}`);
  lines.push('carriers');
  config.carriers.forEach((s, i) => {
    const by = plugins.find((p) => p.kinds.includes(s.kind))?.name ?? 'an unnamed plugin';
    const rest = describeSection(s);
    lines.push(`  [${i}] ${s.kind}  (${by})${rest !== '' ? `  ${rest}` : ''}`);
  });
  lines.push('routes');
  for (const r of config.routes ?? []) lines.push(`  ${r.match} -> ${r.carrier}`);
  const aemp = config.carriers.some((c) => c.kind === 'aemp');
  if (aemp) lines.push(`  (AEMP node ids, no @) -> ${carrierFor(atom('nodeid'))}`);
  lines.push(`  (default) -> ${config.carriers[0]?.kind ?? 'none'}`);
  const services = [config.echo !== false && 'echo', config.bridge === true && 'bridge', config.cluster !== undefined && 'cluster'].filter(Boolean);
  if (services.length > 0) lines.push(`services  ${services.join(', ')}`);
  return lines;
}
