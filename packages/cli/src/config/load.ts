import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { ConfigError, validateConfig, type CourierConfig } from './schema.js';

/** Read a configuration file: JSON (`.json`, or text starting with `{`) or YAML. */
export function loadConfig(path: string): CourierConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(path, `cannot read the file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  let raw: unknown;
  try {
    raw = path.endsWith('.json') || /^\s*\{/.test(text) ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new ConfigError(path, `not valid ${path.endsWith('.json') ? 'JSON' : 'JSON or YAML'}: ${(err as Error).message}`);
  }
  return validateConfig(raw);
}
