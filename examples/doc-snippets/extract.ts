/**
 * The runnable snippets of a Markdown file (docs/guide.md and any doc that opts in):
 *
 * - a ```ts block whose first line is `// file: NAME.ts` is (part of) the module NAME.ts; blocks
 *   naming the same file are appended in order, so a guide can grow a module step by step;
 * - a ```console block lists commands, each a line `$ node NAME.ts`, followed by the lines it must
 *   print on stdout (exactly, in order; a line `...` matches any run of lines).
 *
 * Other blocks are prose: they are neither compiled nor run. doc-snippets.test.ts writes the
 * modules of each file into one directory, type-checks them with the repository's strict settings
 * and runs the console commands.
 */
export interface Snippets {
  readonly files: Map<string, string>;
  readonly runs: Array<{ readonly file: string; readonly expected: string[]; readonly line: number }>;
}

const FENCE = /^```(\w*)\s*$/;
const FILE = /^\/\/ file: ([\w./-]+\.ts)\s*$/;
const RUN = /^\$ node ([\w./-]+\.ts)\s*$/;

export function extractSnippets(markdown: string): Snippets {
  const files = new Map<string, string>();
  const runs: Array<{ file: string; expected: string[]; line: number }> = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE.exec(lines[i] as string);
    if (open === null) continue;
    const lang = open[1];
    const start = i + 1;
    let end = start;
    while (end < lines.length && !/^```\s*$/.test(lines[end] as string)) end++;
    const body = lines.slice(start, end);
    i = end;
    if (lang === 'ts') {
      const m = FILE.exec(body[0] ?? '');
      if (m === null) continue;
      const name = m[1] as string;
      files.set(name, (files.get(name) ?? '') + body.slice(1).join('\n') + '\n');
    } else if (lang === 'console') {
      let current: { file: string; expected: string[]; line: number } | undefined;
      body.forEach((l, k) => {
        const r = RUN.exec(l);
        if (r !== null) {
          current = { file: r[1] as string, expected: [], line: start + k + 1 };
          runs.push(current);
        } else if (current !== undefined) {
          current.expected.push(l);
        }
      });
    }
  }
  return { files, runs };
}

/** Whether `actual` (stdout lines) matches `expected`, where a line `...` stands for any run of lines. */
export function matchesOutput(actual: string[], expected: string[]): boolean {
  const go = (a: number, e: number): boolean => {
    if (e === expected.length) return a === actual.length;
    if (expected[e] === '...') {
      for (let k = a; k <= actual.length; k++) if (go(k, e + 1)) return true;
      return false;
    }
    return a < actual.length && actual[a] === expected[e] && go(a + 1, e + 1);
  };
  return go(0, 0);
}
