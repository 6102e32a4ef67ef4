import { describe, expect, it } from 'vitest';
import { extractShellBlocks, shellSteps } from './shell.js';

const doc = [
  '# Title',
  '',
  '```sh',
  'echo unmarked',
  '```',
  '',
  '<!-- shell: skip: needs a Kubernetes cluster -->',
  '```sh',
  'kubectl get pods',
  '```',
  '<!-- shell-peer: erl -noshell -name x@127.0.0.1 => ready -->',
  '<!-- shell: run; continued -->',
  '',
  '```bash',
  'mkdir -p keys',
  'cat > keys/a.conf <<EOF',
  'x  # prints: not a step inside a heredoc',
  'EOF',
  'npm run -s echo-node -- --name ts@127.0.0.1 \\',
  '  --cookie c      # prints: READY ts@127.0.0.1',
  'erl -name x@127.0.0.1 -setcookie c     # a shell',
  "1> net_adm:ping('ts@127.0.0.1').      % pong",
  '2> ok.',
  '```',
  '```ts',
  '```sh',
  '```',
].join('\n');

describe('shell blocks', () => {
  const blocks = extractShellBlocks(doc);

  it('are found with their marks, and a fence inside another block is not one', () => {
    expect(blocks.map((b) => [b.line, b.directive])).toEqual([
      [3, undefined],
      [8, { kind: 'skip', reason: 'needs a Kubernetes cluster' }],
      [14, { kind: 'run', continued: true }],
    ]);
    expect(blocks[2]?.peers).toEqual([{ command: 'erl -noshell -name x@127.0.0.1', ready: 'ready' }]);
  });

  it('split into scripts (heredocs whole), watched commands and erl shell sessions', () => {
    expect(shellSteps(blocks[2]?.body ?? [])).toEqual([
      { kind: 'script', script: 'mkdir -p keys\ncat > keys/a.conf <<EOF\nx  # prints: not a step inside a heredoc\nEOF\n' },
      { kind: 'watch', command: 'npm run -s echo-node -- --name ts@127.0.0.1  --cookie c', prints: 'READY ts@127.0.0.1' },
      { kind: 'erl-shell', command: 'erl -name x@127.0.0.1 -setcookie c', input: ["net_adm:ping('ts@127.0.0.1').", 'ok.'], expect: ['pong'] },
    ]);
  });
});
