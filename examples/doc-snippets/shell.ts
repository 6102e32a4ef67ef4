/**
 * The shell blocks of the README and docs/, read as a newcomer reads them, so the test can run
 * them as written (shell.test.ts). Every ```sh / ```bash / ```shell block must say, in an HTML
 * comment on the line(s) above its fence, what the test does with it:
 *
 * - `<!-- shell: run -->` — run it, from the repository root, against real peers;
 * - `<!-- shell: run; continued -->` — run it and keep what it started (servers, the current
 *   directory) for the next run block of the same file;
 * - `<!-- shell: skip: REASON -->` — not run here, and why (root and network namespaces,
 *   Perl's AnyEvent::MP, a Kubernetes cluster, a command that is a template with placeholders).
 *   The test lists these with their reasons; a block with neither is an error, so no block is
 *   left out silently.
 * - `<!-- shell-peer: COMMAND => TEXT -->` (before `run`, any number): a peer the block assumes
 *   is already there (an `erl` node with a registered process): started before the block, ready
 *   once TEXT appears on its output, stopped after it.
 *
 * Inside a run block, line by line (a trailing `\` joins the next line):
 * - `COMMAND   # prints: TEXT` — started; it must print TEXT (stdout or stderr). A command that is
 *   still running a moment later is a server: it keeps running until the block ends (or the
 *   file ends, for `continued`). One that exited must have exited 0.
 * - `erl …` followed by shell prompts `1> EXPR.   % RESULT` — an interactive `erl` shell: the
 *   expressions are typed into it (then `halt().`), and each RESULT must appear in what it printed.
 * - any other line (comments, heredocs included) — part of a bash script run with `set -e` (the
 *   lines between two of the above form one script); it must exit 0. A `cd` carries over.
 */
export interface ShellBlock {
  /** 1-based line of the opening fence. */
  readonly line: number;
  readonly directive: { readonly kind: 'run'; readonly continued: boolean } | { readonly kind: 'skip'; readonly reason: string } | undefined;
  readonly peers: ReadonlyArray<{ readonly command: string; readonly ready: string }>;
  readonly body: readonly string[];
}

export type ShellStep =
  | { readonly kind: 'script'; readonly script: string }
  | { readonly kind: 'watch'; readonly command: string; readonly prints: string }
  | { readonly kind: 'erl-shell'; readonly command: string; readonly input: string[]; readonly expect: string[] };

const FENCE = /^```(sh|bash|shell)\s*$/;
const DIRECTIVE = /^<!--\s*shell:\s*(run(?:;\s*continued)?|skip:\s*(.+?))\s*-->\s*$/;
const PEER = /^<!--\s*shell-peer:\s*(.+?)\s*=>\s*(.+?)\s*-->\s*$/;
const PRINTS = /^(.*?)\s+#\s*prints:\s*(.+?)\s*$/;
const PROMPT = /^\d+>\s(.*)$/;

export function extractShellBlocks(markdown: string): ShellBlock[] {
  const lines = markdown.split('\n');
  const blocks: ShellBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i] as string;
    if (/^```/.test(l) && !FENCE.test(l)) {
      // Another language's block: skip to its end, so a fence inside it is not taken for ours.
      i++;
      while (i < lines.length && !/^```\s*$/.test(lines[i] as string)) i++;
      continue;
    }
    if (!FENCE.test(l)) continue;
    let directive: ShellBlock['directive'];
    const peers: Array<{ command: string; ready: string }> = [];
    for (let k = i - 1; k >= 0; k--) {
      const above = (lines[k] as string).trim();
      if (above === '') continue;
      const d = DIRECTIVE.exec(above);
      const p = PEER.exec(above);
      if (d !== null && directive === undefined) {
        directive = d[2] !== undefined ? { kind: 'skip', reason: d[2] } : { kind: 'run', continued: /continued/.test(d[1] as string) };
      } else if (p !== null) {
        peers.unshift({ command: p[1] as string, ready: p[2] as string });
      } else break;
    }
    let end = i + 1;
    while (end < lines.length && !/^```\s*$/.test(lines[end] as string)) end++;
    blocks.push({ line: i + 1, directive, peers, body: lines.slice(i + 1, end) });
    i = end;
  }
  return blocks;
}

/** The steps of a run block (see the file comment). */
export function shellSteps(body: readonly string[]): ShellStep[] {
  // Logical lines: a trailing backslash joins the next one (inside a heredoc too, harmlessly).
  const logical: string[] = [];
  for (let i = 0; i < body.length; i++) {
    let l = body[i] as string;
    while (/\\\s*$/.test(l) && i + 1 < body.length) l = l.replace(/\\\s*$/, ' ') + (body[++i] as string).trimStart();
    logical.push(l);
  }
  const steps: ShellStep[] = [];
  let script: string[] = [];
  let heredoc: string | undefined;
  const flush = (): void => {
    if (script.some((l) => l.trim() !== '' && !l.trim().startsWith('#'))) steps.push({ kind: 'script', script: script.join('\n') + '\n' });
    script = [];
  };
  for (let i = 0; i < logical.length; i++) {
    const l = logical[i] as string;
    if (heredoc !== undefined) {
      script.push(l);
      if (l.trim() === heredoc) heredoc = undefined;
      continue;
    }
    const h = /<<-?\s*'?"?(\w+)'?"?/.exec(l);
    if (h !== null) {
      script.push(l);
      heredoc = h[1];
      continue;
    }
    const prints = PRINTS.exec(l);
    if (prints !== null) {
      flush();
      steps.push({ kind: 'watch', command: prints[1] as string, prints: prints[2] as string });
      continue;
    }
    if (/^erl\s/.test(l) && PROMPT.test(logical[i + 1] ?? '')) {
      flush();
      const input: string[] = [];
      const expect: string[] = [];
      while (PROMPT.test(logical[i + 1] ?? '')) {
        const [expr, result] = splitErlComment((PROMPT.exec(logical[++i] as string) as RegExpExecArray)[1] as string);
        input.push(expr);
        if (result !== undefined) expect.push(result);
      }
      steps.push({ kind: 'erl-shell', command: stripShellComment(l), input, expect });
      continue;
    }
    script.push(l);
  }
  flush();
  return steps;
}

/** `expr.   % result` → [expr, result]: the comment is the last `%` after two spaces, outside quotes. */
function splitErlComment(s: string): [string, string | undefined] {
  const m = /^(.*\S)\s{2,}%\s*(.+?)\s*$/.exec(s);
  return m === null ? [s.trim(), undefined] : [m[1] as string, m[2]];
}

/** A trailing `   # comment` (two spaces or more before it) is not part of the command. */
function stripShellComment(s: string): string {
  return s.replace(/\s{2,}#[^'"]*$/, '');
}
