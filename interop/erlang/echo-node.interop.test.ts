import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LineReader, childPids, isAlive, randomCookie, uniqueName, type ErlNode } from '@courier/testkit';
import { ertsTool, erlNode, erlPeer, startEpmd, type Epmd } from './harness.js';

/**
 * The runnable echo node's contract, as independent checks use it: started with
 * `npm run -s echo-node -- --name X@127.0.0.1 --cookie C`, it prints exactly `READY X@127.0.0.1`,
 * serves `echo` and `courier_echo` to real Erlang nodes, and on SIGTERM exits 0 and leaves EPMD.
 */
const root = fileURLToPath(new URL('../../', import.meta.url));

let epmd: Epmd;
let cookie: string;
let name: string;
let child: ChildProcess;
let stdout: LineReader;
let stderr: LineReader;
let exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
/** npm's descendants (sh, node), noted once the node is up, so none outlives the suite. */
let descendants: number[] = [];
const tree = (pid: number): number[] => childPids(pid).flatMap((c) => [c, ...tree(c)]);

beforeAll(async () => {
  if (!erlPeer.available) return;
  epmd = await startEpmd();
  cookie = randomCookie();
  name = `${uniqueName('echo')}@127.0.0.1`;
  child = spawn('npm', ['run', '-s', 'echo-node', '--', '--name', name, '--cookie', cookie], {
    cwd: root,
    env: { ...process.env, ERL_EPMD_PORT: String(epmd.port), LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const describe = () => `echo node pid ${child.pid}, stderr: ${stderr?.text.slice(-2000) ?? ''}`;
  stdout = new LineReader(child.stdout as NonNullable<ChildProcess['stdout']>, describe);
  stderr = new LineReader(child.stderr as NonNullable<ChildProcess['stderr']>, () => `echo node pid ${child.pid}`);
  exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}, 30_000);

afterAll(async () => {
  if (child !== undefined && child.exitCode === null && child.signalCode === null) {
    child.kill('SIGKILL');
    await exited;
  }
  for (const pid of descendants) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  await epmd?.stop();
});

/** `epmd -names` (OTP's binary) against the private EPMD. */
function epmdNames(): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile(ertsTool('epmd') as string, ['-names'], { env: { ...process.env, ERL_EPMD_PORT: String(epmd.port) }, timeout: 10_000 }, (err, out) =>
      err ? reject(err instanceof Error ? err : new Error('epmd -names failed', { cause: err })) : resolve(out),
    ),
  );
}

describe('npm run -s echo-node', () => {
  it('prints exactly READY <name> on stdout, first, once it is registered', async (ctx) => {
    erlPeer.require(ctx);
    expect(await stdout.next(30_000)).toBe(`READY ${name}`);
    descendants = tree(child.pid as number);
    expect(await epmdNames()).toContain(`name ${name.split('@')[0]} at port `);
  }, 40_000);

  it('serves a real erl: ping, rpc to courier_echo, and the echo process', async (ctx) => {
    erlPeer.require(ctx);
    const N = `'${name}'`;
    const e: ErlNode = await erlNode(epmd, cookie, {
      eval:
        [
          'io:format("UP~n")',
          `io:format("PING ~w~n", [net_adm:ping(${N})])`,
          `io:format("ECHO ~w~n", [rpc:call(${N}, courier_echo, echo, [{a, [1,2,3], <<"bin">>}])])`,
          `io:format("ADD ~w~n", [rpc:call(${N}, courier_echo, add, [2, 40])])`,
          `io:format("CRASH ~w~n", [rpc:call(${N}, courier_echo, crash, [oops])])`,
          `io:format("SLEEP ~w~n", [rpc:call(${N}, courier_echo, sleep, [50])])`,
          `{echo, ${N}} ! {self(), hi}`,
          'io:format("MSG ~w~n", [receive M -> M after 5000 -> timeout end])',
        ].join(', ') + '.',
    });
    try {
      expect(await e.stdout.waitFor('PING', 10_000)).toBe('PING pong');
      expect(await e.stdout.waitFor('ECHO', 10_000)).toBe('ECHO {a,[1,2,3],<<98,105,110>>}');
      expect(await e.stdout.waitFor('ADD', 10_000)).toBe('ADD 42');
      expect(await e.stdout.waitFor('CRASH', 10_000)).toBe("CRASH {badrpc,{'EXIT',{oops,[]}}}");
      expect(await e.stdout.waitFor('SLEEP', 10_000)).toBe('SLEEP ok');
      expect(await e.stdout.waitFor('MSG', 10_000)).toBe('MSG {echo,hi}');
    } finally {
      await e.stop();
    }
  });

  it('SIGTERM: exits 0 and its name leaves EPMD', async (ctx) => {
    erlPeer.require(ctx);
    child.kill('SIGTERM');
    const status = await Promise.race([exited, new Promise<never>((_, reject) => setTimeout(() => reject(new Error('still running 10 s after SIGTERM')), 10_000))]);
    expect(status).toEqual({ code: 0, signal: null });
    expect(descendants.filter(isAlive)).toEqual([]);
    // The node closed its registration socket before exiting; EPMD drops the name when it sees that.
    const alive = name.split('@')[0] as string;
    const end = Date.now() + 3000;
    let listed = await epmdNames();
    while (listed.includes(`name ${alive} `) && Date.now() < end) {
      await new Promise((r) => setTimeout(r, 20));
      listed = await epmdNames();
    }
    expect(listed).not.toContain(`name ${alive} `);
    expect(stderr.text).not.toMatch(/"level":50/); // no error-level log line
  }, 20_000);
});
