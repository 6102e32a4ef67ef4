import { configDefaults, defineConfig } from 'vitest/config';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('.', import.meta.url));

// Tests import workspace packages from source, so `npm test` needs no build of the package under test.
export default defineConfig({
  resolve: {
    alias: [
      { find: /^@courier\/([a-z-]+)$/, replacement: `${root}packages/$1/src/index.ts` },
      { find: '@courier/stream/length-prefixed', replacement: `${root}packages/stream/src/length-prefixed-reader.ts` },
    ],
  },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'interop/**/*.test.ts', 'examples/**/*.test.ts', 'bench/**/*.test.ts'],
    exclude: configDefaults.exclude,
    benchmark: { include: ['packages/*/test/**/*.bench.ts'] },
    pool: 'forks',
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
