#!/usr/bin/env node
// The `courier` command. Installed from npm (this file under node_modules), it runs the built
// JavaScript in dist/ in this process: no tsx, no TypeScript, any working directory. In a checkout of
// the Courier repository it runs src/cli.ts with tsx instead (the workspace packages resolve to their
// sources through the `source` condition), so `npx courier` needs no build there; tsx is resolved
// from this file, not from the current directory. COURIER_CLI_DIST=1 forces dist/ in a checkout.
// `courier node` (a long-running node) runs with V8's old generation starting at 64 MB
// (HEAP_FLAGS): with V8's default a node receiving large binaries spends most of its time in full
// collections (docs/performance.md). The flag cannot go in NODE_OPTIONS, so an installed CLI
// started without it starts itself again with it for that command.
import { spawn } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const here = realpathSync(fileURLToPath(import.meta.url));
const source = fileURLToPath(new URL('../src/cli.ts', import.meta.url));
const checkout = !here.split(/[\\/]/).includes('node_modules') && existsSync(source) && process.env.COURIER_CLI_DIST !== '1';
const HEAP_FLAGS = ['--initial-old-space-size=64'];
const args = process.argv.slice(2);
const heapFlagsMissing = args[0] === 'node' && !process.execArgv.some((a) => a.startsWith('--initial-old-space-size'));

/** Run `node [flags] argv` with this terminal, passing signals on and exiting with its code. */
function child(argv) {
  const c = spawn(process.execPath, argv, { stdio: 'inherit' });
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => c.kill(sig));
  c.on('exit', (code, signal) => process.exit(code ?? (signal ? 128 : 1)));
}

if (checkout) {
  child([...HEAP_FLAGS, '--conditions=source', '--import', import.meta.resolve('tsx'), source, ...args]);
} else if (heapFlagsMissing) {
  child([...HEAP_FLAGS, ...process.execArgv, here, ...args]);
} else {
  const { main } = await import('../dist/cli.js');
  main(args).then(
    (code) => process.exit(code),
    (e) => {
      console.error(`courier: ${e instanceof Error ? e.message : String(e)}`);
      process.exit(2);
    },
  );
}
