import { execFile, spawn, type ChildProcess } from 'node:child_process';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Tuple, atom, decode, encode, formatErlang, type Term } from '@courier/term';
import { LineReader, requirePeer, freePort } from '@courier/testkit';
import { Scratch, bare, hasCommand, makeKey } from './harness.js';

/**
 * OpenSSH's client against the runnable echo node started with `--carrier ssh`: `ssh -s
 * sshrpc@k2r.org` is an sshrpc client (frames on stdin, answers on stdout, exit status 0), and
 * everything else an OpenSSH client may ask — a shell, a command, sftp, a remote forward — is
 * refused and logged while sshrpc carries on.
 */
const ssh = requirePeer('ssh', hasCommand('ssh'), "OpenSSH's client (Debian openssh-client)");
const sftp = requirePeer('sftp', hasCommand('sftp', ['-h']), "OpenSSH's sftp (Debian openssh-client)");
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

describe('OpenSSH client → Courier echo node (--carrier ssh)', () => {
  const s = new Scratch();
  const host = makeKey('echo@127.0.0.1');
  const client = makeKey('opensshuser@127.0.0.1');
  let port = 0;
  let echo: ChildProcess | undefined;
  let stderr: LineReader | undefined;

  const run = (cmd: string, args: string[], input?: Buffer): Promise<{ code: number | null; stdout: Buffer; stderr: string }> =>
    new Promise((resolve) => {
      const p = execFile(cmd, args, { encoding: 'buffer', timeout: 20_000 }, (err, stdout, errOut) =>
        resolve({ code: err === null ? 0 : ((err as { code?: number }).code ?? null), stdout, stderr: errOut.toString() }),
      );
      p.stdin?.end(input ?? Buffer.alloc(0));
    });
  const common = (user = client.name, key = 'id') => [
    '-F',
    '/dev/null',
    '-p',
    String(port),
    '-i',
    s.path(key),
    '-o',
    'IdentitiesOnly=yes',
    '-o',
    'BatchMode=yes',
    '-o',
    `UserKnownHostsFile=${s.path('known_hosts')}`,
    '-o',
    'GlobalKnownHostsFile=/dev/null',
    '-o',
    'StrictHostKeyChecking=yes',
    '-l',
    user,
  ];

  beforeAll(async () => {
    if (!ssh.available) return;
    port = await freePort();
    s.file('host_key', host.privateKey);
    s.file('authorized_keys', client.publicLine);
    s.file('id', client.privateKey);
    s.file('known_hosts', `[127.0.0.1]:${port} ${bare(host)}`);
    echo = spawn(
      process.execPath,
      [
        '--conditions=source',
        '--import',
        'tsx',
        'examples/echo-node/main.ts',
        '--name',
        'echo@127.0.0.1',
        '--carrier',
        'ssh',
        '--ssh-bind',
        `127.0.0.1:${port}`,
        '--ssh-host-key',
        s.path('host_key'),
        '--ssh-authorized-keys',
        s.path('authorized_keys'),
      ],
      { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const out = new LineReader(echo.stdout as Readable, () => `echo node: ${stderr?.text.slice(-2000)}`);
    stderr = new LineReader(echo.stderr as Readable, () => 'echo node stderr');
    expect(await out.waitFor(/^READY /, 30_000)).toBe('READY echo@127.0.0.1');
  }, 60_000);

  afterAll(async () => {
    if (echo?.pid !== undefined && echo.exitCode === null) {
      const exited = new Promise((r) => echo?.once('exit', r));
      process.kill(echo.pid, 'SIGTERM');
      await exited;
    }
    s.cleanup();
  });

  const rpc = (reqs: Term[]) => run('ssh', [...common(), '127.0.0.1', '-s', 'sshrpc@k2r.org'], Buffer.concat(reqs.map(frame)));

  it('ssh -s sshrpc@k2r.org calls courier_echo and exits 0', async (ctx) => {
    ssh.require(ctx);
    const r = await rpc([
      new Tuple([atom('mfa'), new Tuple([atom('courier_echo'), atom('echo'), [atom('hi')]])]),
      new Tuple([atom('mfa'), atom('courier_echo'), atom('add'), [40, 2]]),
      new Tuple([atom('call'), 1, atom('courier_echo'), atom('sleep'), [50]]),
      new Tuple([atom('call'), 2, atom('courier_echo'), atom('echo'), [atom('fast')]]),
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const got = frames(r.stdout).map(formatErlang);
    // Positional answers keep request order; replies with ids go out as their calls finish.
    expect(got.filter((a) => a.startsWith('{answer'))).toEqual(['{answer,{hi,0}}', '{answer,42}']);
    expect(got.filter((a) => a.startsWith('{reply'))).toEqual(['{reply,2,{answer,fast}}', '{reply,1,{answer,ok}}']);
  });

  it('refuses a shell, a command, sftp and a remote forward, each logged; sshrpc carries on', async (ctx) => {
    ssh.require(ctx);
    sftp.require(ctx);
    const shell = await run('ssh', [...common(), '-T', '127.0.0.1']);
    expect(shell.code).not.toBe(0);
    const exec = await run('ssh', [...common(), '127.0.0.1', 'id']);
    expect(exec.code).not.toBe(0);
    expect(exec.stdout.toString()).not.toMatch(/uid=/);
    const ftp = await run('sftp', [
      '-F',
      '/dev/null',
      '-P',
      String(port),
      '-i',
      s.path('id'),
      '-o',
      'IdentitiesOnly=yes',
      '-o',
      'BatchMode=yes',
      '-o',
      `UserKnownHostsFile=${s.path('known_hosts')}`,
      '-o',
      'StrictHostKeyChecking=yes',
      `${client.name}@127.0.0.1`,
    ]);
    expect(ftp.code).not.toBe(0);
    const fwd = await run('ssh', [...common(), '-N', '-o', 'ExitOnForwardFailure=yes', '-R', '0:127.0.0.1:9', '127.0.0.1']);
    expect(fwd.code).not.toBe(0);
    for (const what of ['"request":"shell"', '"request":"exec"', '"request":"sftp"', '"request":"tcpip-forward"']) {
      await stderr?.waitFor((l) => l.includes(what) && l.includes('"level":40'), 10_000, `a warning about ${what}`);
    }
    const r = await rpc([new Tuple([atom('mfa'), atom('courier_echo'), atom('echo'), [atom('still_here')]])]);
    expect(frames(r.stdout).map(formatErlang)).toEqual(['{answer,still_here}']);
  });

  it('refuses an unknown key and a key claiming another name, each logged', async (ctx) => {
    ssh.require(ctx);
    const stranger = makeKey('stranger@127.0.0.1');
    s.file('stranger', stranger.privateKey);
    const a = await run('ssh', [...common(stranger.name, 'stranger'), '127.0.0.1', '-s', 'sshrpc@k2r.org']);
    expect(a.code).toBe(255);
    expect(a.stderr).toMatch(/Permission denied \(publickey\)/);
    await stderr?.waitFor((l) => l.includes('not in the authorized keys') && l.includes('"code":"NOT_ALLOWED"'), 10_000, 'unknown key warning');
    const b = await run('ssh', [...common('mallory@127.0.0.1'), '127.0.0.1', '-s', 'sshrpc@k2r.org']);
    expect(b.code).toBe(255);
    await stderr?.waitFor((l) => l.includes('claims another node name') && l.includes('mallory@127.0.0.1'), 10_000, 'name mismatch warning');
  });

  it('a malformed term and an oversized frame are answered, logged, and close only their channel', async (ctx) => {
    ssh.require(ctx);
    const bad = await run('ssh', [...common(), '127.0.0.1', '-s', 'sshrpc@k2r.org'], Buffer.from([0, 0, 0, 2, 131, 255]));
    expect(frames(bad.stdout).map(formatErlang)).toEqual(['{error,bad_term}']);
    const big = await run('ssh', [...common(), '127.0.0.1', '-s', 'sshrpc@k2r.org'], Buffer.from([0xff, 0xff, 0xff, 0xf0]));
    expect(frames(big.stdout).map(formatErlang)).toEqual(['{error,{frame_too_large,16777216}}']);
    await stderr?.waitFor((l) => l.includes('"code":"BAD_TERM"'), 10_000, 'bad term warning');
    await stderr?.waitFor((l) => l.includes('"code":"FRAME_TOO_LARGE"'), 10_000, 'oversized frame warning');
    const r = await rpc([new Tuple([atom('mfa'), atom('courier_echo'), atom('add'), [1, 1]])]);
    expect(frames(r.stdout).map(formatErlang)).toEqual(['{answer,2}']);
  });
});
