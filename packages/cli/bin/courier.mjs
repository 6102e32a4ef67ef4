#!/usr/bin/env node
// The `courier` command. Installed from npm (this file under node_modules), it runs the built
// JavaScript in dist/ in this process: no tsx, no TypeScript, any working directory. In a checkout of
// the Courier repository it runs src/cli.ts with tsx instead (the workspace packages resolve to their
// sources through the `source` condition), so `npx courier` needs no build there; tsx is resolved
// from this file, not from the current directory. COURIER_CLI_DIST=1 forces dist/ in a checkout.
import { spawn } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const here = realpathSync(fileURLToPath(import.meta.url));
const source = fileURLToPath(new URL('../src/cli.ts', import.meta.url));
const checkout = !here.split(/[\\/]/).includes('node_modules') && existsSync(source) && process.env.COURIER_CLI_DIST !== '1';

if (checkout) {
  const tsx = import.meta.resolve('tsx');
  const child = spawn(process.execPath, ['--conditions=source', '--import', tsx, source, ...process.argv.slice(2)], { stdio: 'inherit' });
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 128 : 1)));
} else {
  const { main } = await import('../dist/cli.js');
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e) => {
      console.error(`courier: ${e instanceof Error ? e.message : String(e)}`);
      process.exit(2);
    },
  );
}
