import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Tuple, atom, decode, encode, formatErlang, type Term } from '@courier/term';
import { LineReader, freePort, randomCookie, requirePeer } from '@courier/testkit';
import { SshRpcClient, SshRpcError } from '@courier/transport-ssh';
import { Scratch, hasCommand, makeKey } from './harness.js';

/**
 * OpenSSH's sshd as the SSH server (Debian openssh-server), started by the test on a loopback
 * port with its own sshd_config, host keys and authorized_keys: `Subsystem sshrpc@k2r.org` runs
 * `courier sshrpc-subsystem`, which serves sshrpc on stdin/stdout and forwards allowed calls to a
 * running echo node over the Erlang distribution. OpenSSH's `ssh -s` and Courier's sshrpc client
 * reach it, the allow-list is enforced, and Courier's client trusts sshd's key on first use and
 * refuses it once it changes.
 */
const SSHD = '/usr/sbin/sshd';
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const sshd = requirePeer('sshd', existsSync(SSHD) && isRoot, "OpenSSH's sshd (Debian openssh-server), run as root as CI does");
const ssh = requirePeer('ssh', hasCommand('ssh'), "OpenSSH's client (Debian openssh-client)");
const root = fileURLToPath(new URL('../..', import.meta.url));

const frame = (t: Term): Buffer => {
  const b = encode(t);
  const h = Buffer.alloc(4);
  h.writeUInt32BE(b.length);
  return Buffer.concat([h, b]);
};
function frames(b: Buffer): Term[] {
  const out: Term[] = [];
  for (let o = 0; o + 4 <= b.length;) {
    const n = b.readUInt32BE(o);
    out.push(decode(b.subarray(o + 4, o + 4 + n)));
    o += 4 + n;
  }
  return out;
}

async function stop(p: ChildProcess | undefined): Promise<void> {
  if (p?.pid === undefined || p.exitCode !== null || p.signalCode !== null) return;
  const exited = new Promise((r) => p.once('exit', r));
  process.kill(p.pid, 'SIGTERM');
  await exited;
}

describe('OpenSSH sshd serving sshrpc through `courier sshrpc-subsystem`', () => {
  const s = new Scratch();
  const client = makeKey('root@127.0.0.1');
  const cookie = randomCookie();
  let sshPort = 0;
  let echo: ChildProcess | undefined;
  let daemon: ChildProcess | undefined;
  let daemonErr: LineReader | undefined;

  /** sshd -D -e -f CONFIG with host key `hostKey`, on sshPort; resolves once it listens. */
  async function startSshd(hostKey: string): Promise<void> {
    const allow = ['courier_echo:add/2', 'courier_echo:echo/1'].map((a) => `--allow ${a}`).join(' ');
    const config = s.file(
      'sshd_config',
      [
        `Port ${sshPort}`,
        'ListenAddress 127.0.0.1',
        `HostKey ${s.path(hostKey)}`,
        `AuthorizedKeysFile ${s.path('authorized_keys')}`,
        `PidFile ${s.path('sshd.pid')}`,
        'StrictModes no',
        'UsePAM no',
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'PermitRootLogin prohibit-password',
        'AllowTcpForwarding no',
        'X11Forwarding no',
        'LogLevel VERBOSE',
        `Subsystem sshrpc@k2r.org ${s.path('courier-sshrpc')} --config ${s.path('rpc.yaml')} --target echo@127.0.0.1 ${allow}`,
      ].join('\n'),
    );
    daemon = spawn(SSHD, ['-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
    daemonErr = new LineReader(daemon.stderr as Readable, () => 'sshd stderr');
    await daemonErr.waitFor(/Server listening on 127\.0\.0\.1 port/, 20_000);
  }

  beforeAll(async () => {
    if (!sshd.available) return;
    mkdirSync('/run/sshd', { recursive: true, mode: 0o755 }); // sshd's privilege separation directory
    chmodSync(s.dir, 0o755);
    sshPort = await freePort();
    const epmdPort = await freePort();
    for (const [name, type] of [
      ['host_ed25519', 'ed25519'],
      ['host_ed25519_new', 'ed25519'],
      ['host_ecdsa', 'ecdsa'],
    ] as const) {
      execFileSync('ssh-keygen', ['-q', '-t', type, '-N', '', '-C', name, '-f', s.path(name)]);
    }
    s.file('authorized_keys', `restrict ${client.publicLine}`);
    s.file('id', client.privateKey);
    s.file('cookie', cookie);
    s.file('rpc.yaml', ['node: { name: sshrpc@127.0.0.1, cookieFile: ' + s.path('cookie') + ' }', 'carriers:', `  - { kind: tcp, epmd: { port: ${epmdPort} } }`].join('\n'));
    // sshd runs the program with the login's shell from its home directory: the wrapper finds the repository.
    s.file('courier-sshrpc', `#!/bin/sh\ncd '${root}' && exec '${process.execPath}' --conditions=source --import tsx packages/cli/src/cli.ts sshrpc-subsystem "$@"\n`);
    chmodSync(s.path('courier-sshrpc'), 0o755);
    echo = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', 'examples/echo-node/main.ts', '--name', 'echo@127.0.0.1', '--cookie', cookie, '--carrier', 'tcp'], {
      cwd: root,
      env: { ...process.env, ERL_EPMD_PORT: String(epmdPort) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const echoErr = new LineReader(echo.stderr as Readable, () => 'echo node stderr');
    const out = new LineReader(echo.stdout as Readable, () => `echo node: ${echoErr.text.slice(-2000)}`);
    expect(await out.waitFor(/^READY /, 30_000)).toBe('READY echo@127.0.0.1');
    await startSshd('host_ed25519');
  }, 90_000);

  afterAll(async () => {
    await stop(daemon);
    await stop(echo);
    s.cleanup();
  });

  const mfa = (m: string, f: string, a: Term[]) => new Tuple([atom('mfa'), atom(m), atom(f), a]);

  it('OpenSSH ssh -s sshrpc@k2r.org reaches the echo node through sshd; the allow-list is enforced', async (ctx) => {
    sshd.require(ctx);
    ssh.require(ctx);
    s.file('known_hosts', `[127.0.0.1]:${sshPort} ${readFileSync(s.path('host_ed25519.pub'), 'utf8').split(' ').slice(0, 2).join(' ')}`);
    const args = ['-F', '/dev/null', '-p', String(sshPort), '-i', s.path('id'), '-o', 'IdentitiesOnly=yes', '-o', 'BatchMode=yes'];
    args.push(
      '-o',
      `UserKnownHostsFile=${s.path('known_hosts')}`,
      '-o',
      'GlobalKnownHostsFile=/dev/null',
      '-o',
      'StrictHostKeyChecking=yes',
      '-l',
      'root',
      '127.0.0.1',
      '-s',
      'sshrpc@k2r.org',
    );
    const input = Buffer.concat(
      [
        mfa('courier_echo', 'add', [40, 2]),
        new Tuple([atom('mfa'), new Tuple([atom('courier_echo'), atom('echo'), [atom('hi')]])]),
        mfa('courier_echo', 'sleep', [1]),
        mfa('courier_echo', 'add', [1, 2, 3]),
        mfa('erpc', 'execute_call', [1, atom('os'), atom('cmd'), ['id']]),
        new Tuple([atom('whoami')]),
      ].map(frame),
    );
    const r = await new Promise<{ code: number | null; stdout: Buffer; stderr: string }>((resolve) => {
      const p = execFile('ssh', args, { encoding: 'buffer', timeout: 30_000 }, (err, stdout, stderr) =>
        resolve({ code: err === null ? 0 : ((err as { code?: number }).code ?? null), stdout, stderr: stderr.toString() }),
      );
      p.stdin?.end(input);
    });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(frames(r.stdout).map(formatErlang)).toEqual([
      '{answer,42}',
      '{answer,{hi,0}}',
      '{error,{not_allowed,{courier_echo,sleep,1}}}',
      '{error,{not_allowed,{courier_echo,add,3}}}',
      '{error,{not_allowed,{erpc,execute_call,4}}}',
      expect.stringMatching(/^\{answer,\[\{user,<<"root">>\},\{node,'sshrpc_\d+@127\.0\.0\.1'\}\]\}$/),
    ]);
  }, 60_000);

  it("Courier's sshrpc client reaches sshrpc behind sshd, trusting its key on first use; then refuses a changed key and a key of another type", async (ctx) => {
    sshd.require(ctx);
    const known = s.path('tofu_known_hosts');
    const connect = () =>
      SshRpcClient.connect({ host: '127.0.0.1', port: sshPort, user: 'root', privateKey: client.privateKey, knownHosts: known, trustUnknown: true, timeoutMs: 20_000 });
    const rpc = await connect();
    try {
      expect(await rpc.call('courier_echo', 'add', [2, 3])).toBe(5);
      expect(await rpc.mfa('courier_echo', 'echo', [atom('x')])).toBe(atom('x'));
      const refused = await rpc.call('courier_echo', 'sleep', [1]).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(SshRpcError);
      expect((refused as SshRpcError).code).toBe('NOT_ALLOWED');
    } finally {
      rpc.close();
    }
    const hostLine = readFileSync(s.path('host_ed25519.pub'), 'utf8').split(' ').slice(0, 2).join(' ');
    expect(readFileSync(known, 'utf8')).toBe(`[127.0.0.1]:${sshPort} ${hostLine}\n`);
    // The same key again: accepted, nothing more written.
    (await connect()).close();
    expect(readFileSync(known, 'utf8').trim().split('\n')).toHaveLength(1);
    // sshd comes back with a new key of the same type, then with a key of another type.
    for (const key of ['host_ed25519_new', 'host_ecdsa']) {
      await stop(daemon);
      await startSshd(key);
      await expect(connect()).rejects.toMatchObject({ code: 'HOST_KEY_MISMATCH' });
    }
    expect(readFileSync(known, 'utf8').trim().split('\n')).toHaveLength(1);
  }, 90_000);
});
