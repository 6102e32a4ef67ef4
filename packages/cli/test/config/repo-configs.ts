import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml, parseAllDocuments } from 'yaml';

/** Every `courier node` configuration written down in the repository, read from disk. */
export const REPO = fileURLToPath(new URL('../../../../', import.meta.url));

export interface FoundConfig {
  /** `docs/bridge.md:12` or `examples/x/node.yaml`. */
  readonly where: string;
  readonly raw: unknown;
}

const isConfig = (v: unknown): boolean => typeof v === 'object' && v !== null && !Array.isArray(v) && ('carriers' in v || 'node' in v);

function walk(dir: string, keep: (file: string) => boolean, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'dist' || name.startsWith('.')) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, keep, out);
    else if (keep(p)) out.push(p);
  }
  return out;
}

/** The ```yaml / ```json blocks of a Markdown file that are node configurations. */
export function markdownConfigs(file: string): FoundConfig[] {
  const text = readFileSync(file, 'utf8');
  const found: FoundConfig[] = [];
  for (const m of text.matchAll(/^```(yaml|yml|json)\n([\s\S]*?)^```/gm)) {
    // A YAML block may hold several documents (`---`, e.g. Kubernetes manifests): each is looked at.
    const docs: unknown[] = m[1] === 'json' ? [JSON.parse(m[2] as string)] : parseAllDocuments(m[2] as string).map((d) => d.toJS() as unknown);
    const line = text.slice(0, m.index).split('\n').length;
    for (const raw of docs) if (isConfig(raw)) found.push({ where: `${relative(REPO, file)}:${line}`, raw });
  }
  return found;
}

/** Configuration files (YAML or JSON with node and carriers) and Markdown blocks under the places examples live. */
export function repoConfigs(): FoundConfig[] {
  const markdown = [join(REPO, 'README.md'), ...['docs', 'examples', 'interop', 'packages'].flatMap((d) => walk(join(REPO, d), (f) => f.endsWith('.md')))];
  const files = ['docs', 'examples', 'interop', 'packages/cli'].flatMap((d) => walk(join(REPO, d), (f) => /\.(ya?ml|json)$/.test(f) && !/(package|tsconfig[^/]*)\.json$/.test(f)));
  const found = markdown.flatMap(markdownConfigs);
  for (const f of files) {
    const text = readFileSync(f, 'utf8');
    const raw: unknown = f.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
    if (isConfig(raw)) found.push({ where: relative(REPO, f), raw });
  }
  return found;
}
