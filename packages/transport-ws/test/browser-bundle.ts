import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const pkg = (p: string) => fileURLToPath(new URL(`../../${p}`, import.meta.url));

/**
 * Bundle the browser entry (core + term + erl-dist + the WebSocket carrier) with esbuild into a temp dir, as
 * one IIFE exposing `Courier`. Packages resolve to their sources; `node:zlib` to the browser stub.
 * Any other Node module reached from the entry fails the build (platform browser).
 */
export async function bundleBrowserEntry(): Promise<{ dir: string; file: string; js: string }> {
  const { build } = await import('esbuild');
  const dir = mkdtempSync(join(tmpdir(), 'courier-browser-'));
  const r = await build({
    entryPoints: [pkg('transport-ws/src/browser/index.ts')],
    bundle: true,
    format: 'iife',
    globalName: 'Courier',
    platform: 'browser',
    target: 'es2022',
    write: false,
    logLevel: 'silent',
    alias: {
      '@courier/term': pkg('term/src/index.ts'),
      '@courier/core': pkg('core/src/index.ts'),
      '@courier/erl-dist': pkg('erl-dist/src/index.ts'),
      '@courier/stream/length-prefixed': pkg('stream/src/length-prefixed-reader.ts'),
      'node:zlib': pkg('transport-ws/src/browser/zlib-stub.ts'),
    },
  });
  const js = (r.outputFiles[0] as { text: string }).text;
  const file = join(dir, 'courier.js');
  writeFileSync(file, js);
  return { dir, file, js };
}
