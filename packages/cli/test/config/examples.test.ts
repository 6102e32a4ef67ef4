import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { carrierPlugins, configProblems, defaultContainer, loadPlugins, validateConfig, type CarrierPlugin } from '@courier/cli';
import { carrierSchemas, configSchema } from '../../src/config/schema.js';
import { REPO, markdownConfigs, repoConfigs } from './repo-configs.js';
import { keyId, levels, schemaKeys } from './schema-walk.js';

/** The configurations the repository shows (README, docs, example files) are valid ones, read from disk. */
const found = repoConfigs();
const reference = markdownConfigs(join(REPO, 'docs/configuration.md'));

describe('every configuration written in the repository validates', () => {
  it('finds them: the README, bridge.md and every block of configuration.md', () => {
    const where = found.map((f) => f.where);
    expect(where.some((w) => w.startsWith('README.md:'))).toBe(true);
    expect(where.some((w) => w.startsWith('docs/bridge.md:'))).toBe(true);
    expect(reference.length).toBeGreaterThanOrEqual(8);
    for (const r of reference) expect(where).toContain(r.where);
  });

  it.each(found.map((f) => [f.where, f.raw] as const))('%s', async (where, raw) => {
    // A configuration naming plugins is checked with them loaded, as `courier node` does.
    const named = (raw as { plugins?: string[] }).plugins;
    let plugins: CarrierPlugin[] | undefined;
    if (named !== undefined) {
      const c = defaultContainer();
      await loadPlugins(named, c, REPO);
      plugins = carrierPlugins(c);
    }
    expect(configProblems(raw, { plugins })).toEqual([]);
    expect(() => validateConfig(raw, where, { plugins })).not.toThrow();
  });
});

describe('docs/configuration.md shows every key the configuration takes', () => {
  it('each key of the schema appears in one of its YAML blocks', () => {
    const schema = configSchema(carrierSchemas(undefined));
    const known = schemaKeys(schema);
    const used = new Set<string>();
    for (const r of reference) {
      for (const level of levels(schema, r.raw)) {
        for (const k of Object.keys(level.value)) {
          const f = level.schema.fields.get(k);
          if (f !== undefined) used.add(keyId(k, f.schema));
        }
      }
    }
    const missing = [...known].filter(([id]) => !used.has(id)).map(([, path]) => path);
    expect(missing).toEqual([]);
    expect(known.size).toBeGreaterThan(50);
  });
});
