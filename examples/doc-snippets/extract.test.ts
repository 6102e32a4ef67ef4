import { expect, it } from 'vitest';
import { extractSnippets, matchesOutput } from './extract.js';

it('collects file blocks (appended per name) and console runs; leaves other blocks alone', () => {
  const md = [
    '```ts',
    '// file: a.ts',
    'export const x = 1;',
    '```',
    '```ts',
    'const prose = 1;',
    '```',
    '```ts',
    '// file: a.ts',
    'console.log(x);',
    '```',
    '```console',
    '$ node a.ts',
    '1',
    '```',
  ].join('\n');
  const s = extractSnippets(md);
  expect([...s.files.keys()]).toEqual(['a.ts']);
  expect(s.files.get('a.ts')).toBe('export const x = 1;\nconsole.log(x);\n');
  expect(s.runs).toEqual([{ file: 'a.ts', expected: ['1'], line: 13 }]);
});

it('matches output exactly, with ... for any run of lines', () => {
  expect(matchesOutput(['a', 'b', 'c'], ['a', '...', 'c'])).toBe(true);
  expect(matchesOutput(['a', 'c'], ['a', '...', 'c'])).toBe(true);
  expect(matchesOutput(['a', 'b'], ['a'])).toBe(false);
  expect(matchesOutput(['a', 'x'], ['a', 'b'])).toBe(false);
});
