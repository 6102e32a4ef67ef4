import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { ROOT } from './error.js';
import { ConfigError, validateConfig, type CourierConfig, type ValidateOptions } from './schema.js';

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
 * mistyped value is a ConfigError naming the file and the key path.
 */
export function loadConfig(path: string, opts: ValidateOptions = {}): CourierConfig {
  return validateConfig(readConfigFile(path), path, opts);
}
