import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { findErl, hasOpenssl, requirePeer } from '@courier/testkit';

/** Runs each example as a user would (node + tsx, from the repository root) and checks its output. */
const root = fileURLToPath(new URL('../..', import.meta.url));
const erl = requirePeer('erl', findErl() !== null, 'erl/erlc not on PATH (install Debian erlang-base)');
const openssl = requirePeer('openssl', hasOpenssl(), 'openssl not on PATH (needed to make the tls example certificates)');

function run(file: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--conditions=source', '--import', 'tsx', `examples/basics/${file}`, ...args], { cwd: root, timeout: 30_000 }, (err, stdout, stderr) =>
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : -1, stdout, stderr }),
    );
  });
}

describe('examples/basics', () => {
  for (const carrier of ['tcp', 'tls', 'ssh', 'aemp', 'memory']) {
    it(`pingpong.ts ${carrier}`, async (ctx) => {
      if (carrier === 'tls') openssl.require(ctx);
      const r = await run('pingpong.ts', carrier);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^\{pong,1\} from pong@127\.0\.0\.1 in [\d.]+ ms$/m);
      expect(r.stdout).toMatch(/^\{pong,3\} from pong@127\.0\.0\.1/m);
      expect(r.stdout.trim().split('\n').at(-1)).toBe(`ping-pong over ${carrier}: 3 round trips`);
    }, 40_000);
  }

  it('supervision.ts: one_for_all restarts both workers, the store keeps its state', async () => {
    const r = await run('supervision.ts');
    expect(r.code).toBe(0);
    // which_children lists the newest child first, as OTP's does.
    expect(r.stdout).toMatch(/before:\n {2}workers <tree@localhost\.\d+\.0> \(supervisor\)\n {4}w2 .*\n {4}w1 .*\n {2}store <tree@localhost\.\d+\.0>\n/);
    expect(r.stdout).toContain('restarted: w1 yes, w2 yes (one_for_all); store kept its state: 2');
  }, 40_000);

  it('rpc-erlang.ts calls into a real erl', async (ctx) => {
    erl.require(ctx);
    const r = await run('rpc-erlang.ts');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('lists:reverse([1, 2, 3]) -> [3,2,1]');
    expect(r.stdout).toMatch(/erlang:system_info\(otp_release\) -> "\d+"/);
    expect(r.stdout).toContain('string:uppercase(<<"courier">>) -> <<"COURIER">>');
    expect(r.stdout).toContain('#{a => 1,b => <<"x">>}');
  }, 40_000);

  it('bridge.ts: Erlang → AEMP port → Erlang, and AEMP → an Erlang registered name', async (ctx) => {
    erl.require(ctx);
    const r = await run('bridge.ts');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/perlish#echo got \["bridge@127\.0\.0\.1#~\d+\.\d+\.\d+","hi from Erlang"\]/);
    expect(r.stdout).toContain('erl got {<<"echo">>,<<"hi from Erlang">>}');
    expect(r.stdout).toContain('erl got <<"hello from AEMP">>');
  }, 40_000);

  it('without erl, the erl examples say so and exit 0', async () => {
    const r = await new Promise<{ code: number; stdout: string }>((resolve) => {
      execFile(
        process.execPath,
        ['--conditions=source', '--import', 'tsx', 'examples/basics/rpc-erlang.ts'],
        { cwd: root, timeout: 30_000, env: { ...process.env, PATH: '/nonexistent' } },
        (err, stdout) => resolve({ code: err === null ? 0 : -1, stdout }),
      );
    });
    expect(r).toEqual({ code: 0, stdout: 'skipped: erl is not on PATH (install erlang-base)\n' });
  }, 40_000);
});
