import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Container } from 'inversify';
import { parse as parseYaml } from 'yaml';
import { carrierPlugins, defaultContainer } from '../container.js';
import { loadPlugins, type LoadedPlugin } from '../plugins/load.js';
import { ROOT } from './error.js';
import { resolveConfigPaths } from './paths.js';
import { ConfigError, validateConfig, type CourierConfig, type ValidateOptions } from './schema.js';
import { check, list, str } from './shape.js';

/** Parse a configuration file: JSON (`.json`, or text starting with `{`) or YAML. Not checked. */
export function readConfigFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(ROOT, `cannot read the file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, { file: path, cause: err });
  }
  try {
    return path.endsWith('.json') || /^\s*\{/.test(text) ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new ConfigError(ROOT, `not valid ${path.endsWith('.json') ? 'JSON' : 'JSON or YAML'}: ${(err as Error).message}`, { file: path, cause: err });
  }
}

/**
 * Read and check a configuration file (validateConfig): an unknown key anywhere, a missing or
 * mistyped value is a ConfigError naming the file and the key path. Relative file paths in it
 * (certificates, keys, cookieFile, …) are resolved against the file's directory. Its `plugins`
 * are not loaded: use loadNodeConfig for a configuration that names plugins.
 */
export function loadConfig(path: string, opts: ValidateOptions = {}): CourierConfig {
  const config = validateConfig(readConfigFile(path), path, opts);
  return resolveConfigPaths(config, dirname(resolve(path)), opts.plugins ?? carrierPlugins(defaultContainer()));
}

/** A configuration file read with its plugins loaded: the container to build the node from. */
export interface NodeConfig {
  readonly config: CourierConfig;
  readonly container: Container;
  readonly plugins: readonly LoadedPlugin[];
  readonly file: string;
}

/**
 * Read a configuration file, load the plugins it names (`plugins: [...]`, resolved from the
 * file's directory) into `container` (default: a new defaultContainer()), then check the whole
 * configuration against the carriers known with them, and resolve its relative paths against the
 * file's directory. `buildNode(config, { container })` then builds the node.
 */
export async function loadNodeConfig(path: string, opts: { container?: Container } = {}): Promise<NodeConfig> {
  const raw = readConfigFile(path);
  const container = opts.container ?? defaultContainer();
  const dir = dirname(resolve(path));
  let plugins: LoadedPlugin[] = [];
  const named = typeof raw === 'object' && raw !== null && !Array.isArray(raw) ? (raw as Record<string, unknown>)['plugins'] : undefined;
  if (named !== undefined) {
    // The list itself is checked first: what it names decides which carrier kinds are known.
    const problems = check(list(str({ nonEmpty: true }), { expect: 'a list of npm package names (or paths) of carrier plugins' }), named, 'plugins');
    if (problems.length > 0) throw ConfigError.of(problems, path);
    plugins = await loadPlugins(named as string[], container, dir, path);
  }
  const known = carrierPlugins(container);
  const config = validateConfig(raw, path, { plugins: known.length > 0 ? known : undefined });
  return { config: resolveConfigPaths(config, dir, known.length > 0 ? known : carrierPlugins(defaultContainer())), container, plugins, file: path };
}
