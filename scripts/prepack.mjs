#!/usr/bin/env node
// npm `prepack` / `postpack` of every published package, run by npm from the package's directory:
//   node ../../scripts/prepack.mjs prepack|postpack
// prepack: copies the repository's LICENSE and NOTICE in (npm ships a package's own LICENSE, never the
//   repository's, and Apache-2.0 asks that both travel with every copy), and deletes from dist/ what
//   `tsc -b` left there from sources since moved or deleted (it never removes an output), so a
//   tarball ships the build of today's src/ and nothing else.
// postpack: removes the copied LICENSE and NOTICE.
import { copyFileSync, existsSync, readdirSync, rmSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const COPIED = ['LICENSE', 'NOTICE'];
const OUTPUT = /\.(js|js\.map|d\.ts|d\.ts\.map)$/;

/** Delete dist/X.{js,d.ts,…} with no src/X.ts under dist/`rel`; returns how many entries remain there. */
function prune(rel = '') {
  let left = 0;
  for (const e of readdirSync(join('dist', rel), { withFileTypes: true })) {
    const r = join(rel, e.name);
    if (e.isDirectory()) {
      if (prune(r) === 0) rmdirSync(join('dist', r));
      else left++;
    } else if (OUTPUT.test(e.name) && !existsSync(join('src', r.replace(OUTPUT, '.ts')))) {
      rmSync(join('dist', r));
      console.error(`prepack: removed stale dist/${r}`);
    } else left++;
  }
  return left;
}

switch (process.argv[2]) {
  case 'prepack':
    for (const f of COPIED) copyFileSync(fileURLToPath(new URL(`../${f}`, import.meta.url)), f);
    if (existsSync('dist') && existsSync('src')) prune();
    break;
  case 'postpack':
    for (const f of COPIED) rmSync(f, { force: true });
    break;
  default:
    console.error('usage: prepack.mjs prepack|postpack');
    process.exit(2);
}
