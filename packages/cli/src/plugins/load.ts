import { createRequire } from 'node:module';
import { isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Container, ContainerModule } from 'inversify';
import { Container as Probe } from 'inversify';
import { ConfigError } from '../config/schema.js';
import { carrierPlugins, type CarrierPlugin } from '../container.js';

/** A loaded third-party plugin: what the configuration named it, and the carriers its module binds. */
export interface LoadedPlugin {
  readonly specifier: string;
  readonly module: ContainerModule;
  readonly carriers: readonly CarrierPlugin[];
}

const isModule = (x: unknown): x is ContainerModule => typeof x === 'object' && x !== null && typeof (x as { load?: unknown }).load === 'function';

/**
 * Where `specifier` is, seen from `baseDir` (the configuration file's directory): a path
 * (`./x.js`, absolute) as is, a package name as Node resolves it from there (then from this
 * package, so a plugin installed beside @courier/cli is found too).
 */
function locate(specifier: string, baseDir: string): string {
  if (specifier.startsWith('.') || isAbsolute(specifier)) return pathToFileURL(resolve(baseDir, specifier)).href;
  try {
    return pathToFileURL(createRequire(join(baseDir, 'courier.config')).resolve(specifier)).href;
  } catch {
    return specifier;
  }
}

/**
 * Load the plugins a configuration names (`plugins: [...]`) into `container`: each is imported
 * (dynamic import) and its default export — or its export `containerModule` — must be an
 * inversify ContainerModule. A plugin claiming a carrier kind that another plugin (or a built-in
 * carrier) claims is a ConfigError naming both; so is a plugin that cannot be imported or exports
 * no container module.
 */
export async function loadPlugins(specifiers: readonly string[], container: Container, baseDir: string = process.cwd(), file?: string): Promise<LoadedPlugin[]> {
  const loaded: LoadedPlugin[] = [];
  const owner = new Map<CarrierPlugin, string>(carrierPlugins(container).map((p) => [p, p.name ?? 'a built-in plugin']));
  for (const [i, specifier] of specifiers.entries()) {
    const path = `plugins[${i}]`;
    let ns: Record<string, unknown>;
    try {
      ns = (await import(locate(specifier, baseDir))) as Record<string, unknown>;
    } catch (err) {
      throw new ConfigError(path, `cannot load plugin ${specifier}: ${(err as Error).message.split('\n')[0]} (is it installed?)`, { file, cause: err });
    }
    const module = [ns['default'], ns['containerModule']].find(isModule);
    if (module === undefined) throw new ConfigError(path, `${specifier} exports no inversify ContainerModule (as its default export or as containerModule)`, { file });
    // What this module binds, seen in a container of its own: named by the configuration's name for it.
    const probe = new Probe();
    await probe.load(module);
    const carriers = carrierPlugins(probe);
    for (const p of carriers) {
      for (const k of p.kinds) {
        const other = [...owner].find(([q]) => q.kinds.includes(k));
        if (other !== undefined)
          throw new ConfigError(path, `carrier kind ${JSON.stringify(k)} is claimed by two plugins, ${other[1]} and ${specifier}: load only one of them`, { file });
      }
      owner.set(p, specifier);
    }
    await container.load(module);
    loaded.push({ specifier, module, carriers });
  }
  return loaded;
}
