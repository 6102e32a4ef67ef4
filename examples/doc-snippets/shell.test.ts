import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { findErl, freePort, requirePeer } from '@courier/testkit';
import { extractShellBlocks, shellSteps, type ShellBlock, type ShellStep } from './shell.js';

/**
 * The README's and docs' shell blocks, run as written against real peers (shell.ts says how a
 * block is marked and read).
 */
const root = fileURLToPath(new URL('../..', import.meta.url));
const DOCS = ['README.md', ...readdirSync(join(root, 'docs')).flatMap((f) => (f.endsWith('.md') ? [`docs/${f}`] : []))];
/** What the blocks write into the repository (gitignored: .gitignore lists them); removed afterwards. */
const WRITTEN = ['keys', 'erl_crash.dump'];
const erlPeer = requirePeer('erl', findErl() !== null, 'erl/erlc not on PATH (install Debian erlang-base)');
/**
 * The EPMD port every block runs with (ERL_EPMD_PORT, which erl, epmd and Courier all honour): a
 * free one, so that the blocks find no EPMD running, as on a fresh machine, and the `epmd -daemon`
 * an `erl` in them starts is this run's own, stopped at the end, not one left on 4369 for the
 * tests and programs that come after.
 */
const EPMD_PORT = await freePort();

const docs = DOCS.map((doc) => ({ doc, blocks: extractShellBlocks(readFileSync(join(root, doc), 'utf8')) }));

/** A process in its own group (so its children go with it), its output collected. */
interface Running {
  readonly child: ChildProcess;
  output: string;
  exit: Promise<number | null>;
  exited: boolean;
}

function start(command: string, cwd: string, stdin?: string): Running {
  const child = spawn('bash', ['-c', command], {
    cwd,
    detached: true,
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, FORCE_COLOR: '0', ERL_EPMD_PORT: String(EPMD_PORT) },
  });
  const r: Running = { child, output: '', exited: false, exit: Promise.resolve(null) };
  child.stdout?.on('data', (b: Buffer) => (r.output += b.toString()));
  child.stderr?.on('data', (b: Buffer) => (r.output += b.toString()));
  r.exit = new Promise((resolve) =>
    child.on('exit', (code, signal) => {
      r.exited = true;
      resolve(signal === null ? code : null);
    }),
  );
  if (stdin !== undefined) child.stdin?.end(stdin);
  else child.stdin?.end();
  return r;
}

async function stop(r: Running): Promise<void> {
  if (r.exited || r.child.pid === undefined) return;
  try {
    process.kill(-r.child.pid, 'SIGTERM');
  } catch {
    return;
  }
  const t = setTimeout(() => {
    try {
      process.kill(-(r.child.pid as number), 'SIGKILL');
    } catch {
      /* gone */
    }
  }, 3000);
  await r.exit;
  clearTimeout(t);
}

async function until(r: Running, text: string, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!r.output.includes(text)) {
    if (r.exited) throw new Error(`${what} exited before printing ${JSON.stringify(text)}:\n${r.output}`);
    if (Date.now() > end) throw new Error(`${what} did not print ${JSON.stringify(text)} within ${ms} ms:\n${r.output}`);
    await new Promise((res) => setTimeout(res, 50));
  }
}

async function finish(r: Running, ms: number, what: string): Promise<void> {
  const t = setTimeout(() => void stop(r), ms);
  const code = await r.exit;
  clearTimeout(t);
  if (code !== 0) throw new Error(`${what} exited with ${code === null ? 'a signal (timed out?)' : code}:\n${r.output}`);
}

/** What a block keeps between its steps (and, `continued`, into the next block): the directory, exported variables, servers. */
interface Session {
  cwd: string;
  env: string;
  readonly servers: Running[];
}

const stateDir = join(root, 'node_modules', '.cache');
const stateFile = (what: string): string => (mkdirSync(stateDir, { recursive: true }), join(stateDir, `doc-shell-${what}-${process.pid}`));

async function runStep(step: ShellStep, s: Session, where: string): Promise<void> {
  if (step.kind === 'script') {
    const [cwdFile, envFile] = [stateFile('cwd'), stateFile('env')];
    const r = start(`${s.env}set -e\n${step.script}\npwd > '${cwdFile}'\nexport -p > '${envFile}'\n`, s.cwd);
    await finish(r, 120_000, `${where}: script\n${step.script}`);
    s.cwd = readFileSync(cwdFile, 'utf8').trim();
    s.env = readFileSync(envFile, 'utf8');
    rmSync(cwdFile, { force: true });
    rmSync(envFile, { force: true });
  } else if (step.kind === 'watch') {
    const r = start(s.env + step.command, s.cwd);
    await until(r, step.prints, 60_000, `${where}: ${step.command}`);
    // Still running a moment later: a server, kept for the rest of the block. Else it must have succeeded.
    await Promise.race([r.exit, new Promise((res) => setTimeout(res, 1000))]);
    if (r.exited) await finish(r, 0, `${where}: ${step.command}`);
    else s.servers.push(r);
  } else {
    const r = start(s.env + step.command, s.cwd, step.input.join('\n') + '\nhalt().\n');
    await finish(r, 60_000, `${where}: ${step.command}`);
    for (const e of step.expect) expect(r.output, `${where}: ${step.command}: the shell printed ${JSON.stringify(e)}`).toContain(e);
  }
}

const usesErl = (b: ShellBlock): boolean => b.body.some((l) => /(^|\s)(erl|erlc)\s/.test(l)) || b.peers.some((p) => /(^|\s)erl\s/.test(p.command));

/** Servers a `continued` block left for the next one (stopped at the end whatever ran). */
const carriedServers: Running[] = [];

describe('the shell blocks of the README and docs/', () => {
  afterAll(async () => {
    for (const r of carriedServers) await stop(r);
    for (const w of WRITTEN) rmSync(join(root, w), { recursive: true, force: true });
    // The EPMD an erl of the blocks started, if any (every node is gone by now, so it may be killed).
    spawnSync('epmd', ['-kill'], { env: { ...process.env, ERL_EPMD_PORT: String(EPMD_PORT) }, stdio: 'ignore' });
  });

  it('every shell block is either run or skipped with its reason', () => {
    const unmarked = docs.flatMap(({ doc, blocks }) => blocks.filter((b) => b.directive === undefined).map((b) => `${doc}:${b.line}`));
    expect(unmarked, 'mark each with <!-- shell: run --> or <!-- shell: skip: REASON --> (examples/doc-snippets/shell.ts)').toEqual([]);
    const skipped = docs.flatMap(({ doc, blocks }) => blocks.flatMap((b) => (b.directive?.kind === 'skip' ? [`${doc}:${b.line}: ${b.directive.reason}`] : [])));
    console.log(`shell blocks not run here:\n  ${skipped.join('\n  ')}`);
  });

  for (const { doc, blocks } of docs) {
    const runs = blocks.filter((b) => b.directive?.kind === 'run');
    if (runs.length === 0) continue;
    let carried: Session | undefined;
    for (const b of runs) {
      const continued = b.directive?.kind === 'run' && b.directive.continued;
      it(`${doc}:${b.line} runs as written`, async (ctx) => {
        if (usesErl(b)) erlPeer.require(ctx);
        const s: Session = carried ?? { cwd: root, env: '', servers: [] };
        carried = undefined;
        const peers: Running[] = [];
        try {
          for (const p of b.peers) {
            const r = start(p.command, root);
            peers.push(r);
            await until(r, p.ready, 30_000, `${doc}:${b.line}: peer ${p.command}`);
          }
          for (const step of shellSteps(b.body)) await runStep(step, s, `${doc}:${b.line}`);
          if (continued) {
            carried = s;
            carriedServers.push(...s.servers);
          }
        } finally {
          for (const r of peers) await stop(r);
          if (carried !== s) for (const r of s.servers) await stop(r);
        }
        // What the newcomer found after the TLS quick start: an erl crash dump in the repository root.
        expect(existsSync(join(root, 'erl_crash.dump')), 'erl_crash.dump left in the repository root').toBe(false);
      }, 240_000);
    }
  }
});
