import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * The type-level tests of the typed API are types.check.ts, which tsc checks with the project
 * (tsconfig.lint.json). Here tsc compiles it once more beside a copy with every
 * `// @ts-expect-error` turned into a blank line: the original must be clean and the copy must
 * have an error on each line a directive stood above — so every directive guards a real misuse.
 */
const root = fileURLToPath(new URL('../../../../', import.meta.url));
const checkFile = fileURLToPath(new URL('./types.check.ts', import.meta.url));
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');

describe('type-level tests', () => {
  it('types.check.ts compiles, and each @ts-expect-error line is an error without its directive', async () => {
    const text = readFileSync(checkFile, 'utf8');
    const lines = text.split('\n');
    const guarded = lines.flatMap((l, i) => (l.trim().startsWith('// @ts-expect-error') ? [i + 2] : [])); // 1-based line after
    expect(guarded.length).toBeGreaterThanOrEqual(15);
    // Under node_modules, so that the copy resolves vitest and @courier/* as the original does.
    const dir = mkdtempSync(join(root, 'node_modules', '.typed-check-'));
    try {
      const copy = join(dir, 'stripped.ts');
      writeFileSync(copy, lines.map((l) => (l.trim().startsWith('// @ts-expect-error') ? '' : l)).join('\n'));
      const config = join(dir, 'tsconfig.json');
      writeFileSync(config, JSON.stringify({ extends: join(root, 'tsconfig.lint.json'), include: [], files: [checkFile, copy] }));
      const out = await new Promise<string>((resolve) => {
        execFile(process.execPath, [tsc, '-p', config, '--noEmit', '--pretty', 'false'], { cwd: root, maxBuffer: 16 << 20 }, (_err, stdout) => resolve(stdout));
      });
      const errors = out.split('\n').filter((l) => /error TS\d+/.test(l));
      expect(errors.filter((l) => !l.includes('stripped.ts'))).toEqual([]);
      const errorLines = new Set(
        errors
          .map((l) => /stripped\.ts\((\d+),/.exec(l)?.[1])
          .filter((x) => x !== undefined)
          .map(Number),
      );
      const unguarded = guarded.filter((n) => !errorLines.has(n)).map((n) => `${n}: ${lines[n - 1]?.trim()}`);
      expect(unguarded).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
