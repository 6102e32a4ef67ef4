import { fileURLToPath } from 'node:url';

const wsSrc = (p: string): string => fileURLToPath(new URL(`../../packages/transport-ws/src/${p}`, import.meta.url));

/**
 * The browser build of @courier/transport-ws (docs/observer.md, "A Courier node in a web page"):
 * one IIFE exposing `Courier` (joinGateway, Node, Tuple, atom, …), made with esbuild when the app
 * server starts. Workspace packages resolve to their sources (the `source` export condition) and
 * `node:zlib` to the stub beside the entry; any other Node module fails the build.
 */
export async function bundleCourier(): Promise<string> {
  const { build } = await import('esbuild');
  const r = await build({
    entryPoints: [wsSrc('browser/index.ts')],
    bundle: true,
    format: 'iife',
    globalName: 'Courier',
    platform: 'browser',
    target: 'es2022',
    conditions: ['source'],
    alias: { 'node:zlib': wsSrc('browser/zlib-stub.ts') },
    write: false,
    logLevel: 'silent',
  });
  return (r.outputFiles[0] as { text: string }).text;
}
