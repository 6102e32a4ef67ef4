import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

/** Keeps the README honest: runs its first TypeScript block as a program and checks what it prints. */
const root = fileURLToPath(new URL('..', import.meta.url));

it('runs the README example', async () => {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const block = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
  expect(block, 'README.md has a ```ts block').toBeDefined();
  // Inside the repository (so `@courier/*` resolve), in a directory git ignores.
  const dir = join(root, 'node_modules', '.cache', 'courier-readme');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'snippet.mts');
  writeFileSync(file, block as string);

  const out = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(process.execPath, ['--conditions=source', '--import', 'tsx', file], { cwd: root, timeout: 20_000 }, (err, stdout, stderr) =>
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : -1, stdout, stderr }),
    );
  });
  expect(out.stderr).toBe('');
  expect(out.code).toBe(0);
  expect(out.stdout).toBe('hello, Ada (#1)\nhello, Grace (#2)\ntotal: 5\ncrash: EXIT\nafter restart: 1\n');
});
