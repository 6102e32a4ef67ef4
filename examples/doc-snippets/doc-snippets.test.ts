import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { findErl, requirePeer } from '@courier/testkit';
import { extractSnippets, matchesOutput } from './extract.js';

/**
 * Keeps the docs honest: the runnable snippets of each Markdown file below (extract.ts says which
 * blocks those are) are written out as modules inside the repository (so `@courier/*` resolve),
 * type-checked together with the repository's strict settings, and their console blocks run.
 */
const root = fileURLToPath(new URL('../..', import.meta.url));
const DOCS = ['docs/guide.md', 'docs/processes.md'];
const work = join(root, 'node_modules', '.cache', 'courier-doc-snippets');
/** A program that starts a real `erl` (testkit's startErl) needs the peer: skipped with the reason locally, failed in CI. */
const erlPeer = requirePeer('erl', findErl() !== null, 'erl/erlc not on PATH (install Debian erlang-base)');

function run(cmd: string, args: string[], timeoutMs: number): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd: root, timeout: timeoutMs, maxBuffer: 16 << 20 }, (err, stdout, stderr) =>
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : -1, stdout, stderr }),
    );
  });
}

const docs = DOCS.map((doc) => {
  let text = '';
  try {
    text = readFileSync(join(root, doc), 'utf8');
  } catch {
    /* reported by the test below */
  }
  return { doc, text, snippets: extractSnippets(text) };
});

describe('documentation snippets', () => {
  it('the snippets type-check (strict, as the repository)', async () => {
    rmSync(work, { recursive: true, force: true });
    mkdirSync(work, { recursive: true });
    // Under node_modules no package.json of the repository applies: the snippets are ES modules as the repository's are.
    writeFileSync(join(work, 'package.json'), JSON.stringify({ private: true, type: 'module' }));
    const include: string[] = [];
    for (const { doc, text, snippets } of docs) {
      expect(text, `${doc} exists`).not.toBe('');
      expect(snippets.files.size, `${doc} has runnable snippets`).toBeGreaterThan(0);
      for (const [name, code] of snippets.files) {
        const file = join(work, doc.replace(/\W/g, '_'), name);
        mkdirSync(dirname(file), { recursive: true });
        writeFileSync(file, code);
        include.push(relative(work, file));
      }
    }
    writeFileSync(
      join(work, 'tsconfig.json'),
      JSON.stringify({ extends: relative(work, join(root, 'tsconfig.lint.json')), compilerOptions: { noEmit: true, rootDir: '.' }, include, exclude: [] }),
    );
    const tsc = await run(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(work, 'tsconfig.json')], 120_000);
    expect(tsc.stdout + tsc.stderr).toBe('');
    expect(tsc.code).toBe(0);
  }, 150_000);

  for (const { doc, snippets } of docs) {
    for (const r of snippets.runs) {
      it(`${doc}:${r.line} $ node ${r.file}`, async (ctx) => {
        if (/\bstartErl\(/.test(snippets.files.get(r.file) ?? '')) erlPeer.require(ctx);
        const file = join(work, doc.replace(/\W/g, '_'), r.file);
        const out = await run(process.execPath, ['--conditions=source', '--import', 'tsx', file], 60_000);
        expect(out.stderr).toBe('');
        expect(out.code).toBe(0);
        const actual = out.stdout.replace(/\n$/, '').split('\n');
        expect(matchesOutput(actual, r.expected), `stdout:\n${out.stdout}\nexpected:\n${r.expected.join('\n')}`).toBe(true);
      }, 90_000);
    }
  }
});
