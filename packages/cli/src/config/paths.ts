import { isAbsolute, resolve } from 'node:path';
import type { CarrierPlugin } from '../container.js';
import type { CarrierSection, CourierConfig } from './schema.js';

/** A copy of `o` with the string at the dotted `path` resolved against `dir` (absent or not a string: unchanged). */
function resolveAt(o: Readonly<Record<string, unknown>>, path: readonly string[], dir: string): Readonly<Record<string, unknown>> {
  const [head, ...rest] = path;
  if (head === undefined || !Object.hasOwn(o, head)) return o;
  const v = o[head];
  if (rest.length === 0) return typeof v === 'string' && v !== '' && !isAbsolute(v) ? { ...o, [head]: resolve(dir, v) } : o;
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return o;
  return { ...o, [head]: resolveAt(v as Record<string, unknown>, rest, dir) };
}

/**
 * A configuration read from a file in `dir`, with its relative file paths made absolute against
 * `dir` (not the current directory): `node.cookieFile`, and in each carrier section the keys its
 * plugin lists in `paths` (certificates, keys, authorized_keys, known_hosts, secret files).
 */
export function resolveConfigPaths(config: CourierConfig, dir: string, plugins: readonly Pick<CarrierPlugin, 'kinds' | 'paths'>[]): CourierConfig {
  const node = resolveAt(config.node as unknown as Record<string, unknown>, ['cookieFile'], dir) as unknown as CourierConfig['node'];
  const carriers = config.carriers.map((section) => {
    const keys = plugins.find((p) => p.kinds.includes(section.kind))?.paths?.[section.kind] ?? [];
    return keys.reduce<Readonly<Record<string, unknown>>>((o, k) => resolveAt(o, k.split('.'), dir), section) as CarrierSection;
  });
  return { ...config, node, carriers };
}
