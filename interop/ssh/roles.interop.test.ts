import { execFile } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Tuple, atom, decode, encode, formatErlang, type Term } from '@courier/term';
import { Node } from '@courier/core';
import { captureLog, requirePeer } from '@courier/testkit';
import { COURIER_SUBSYSTEM, sshRpc, type SshTransport } from '@courier/transport-ssh';
import { startEcho } from '../../examples/echo-node/echo-module.js';
import { Scratch, bare, erlSsh, erlSubsystem, hasCommand, makeKey } from './harness.js';

/**
 * SSH keys carry roles (issue 13): a Courier daemon with one authorized_keys file per role, and
 * OpenSSH's `ssh` and Erlang's `ssh` as clients. A key in the sshrpc file is refused the
 * distribution subsystem (full node access) and calls only what the allow-list permits; a key in
 * the dist file gets the distribution subsystem.
 */
const ssh = requirePeer('ssh', hasCommand('ssh'), "OpenSSH's client (Debian openssh-client)");

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

describe('SSH keys carry roles: OpenSSH and Erlang ssh clients → Courier daemon', () => {
  const s = new Scratch();
  const host = makeKey('echo@127.0.0.1');
  const rpcKey = makeKey('rpcuser@127.0.0.1');
  const distKey = makeKey('peer@127.0.0.1');
  const log = captureLog();
  let node: Node | undefined;
  let t: SshTransport | undefined;
  const port = (): number => t?.port as number;

  beforeAll(async () => {
    t = sshRpc({
      hostKey: host.privateKey,
      authorizedKeys: { sshrpc: s.file('rpc_keys', rpcKey.publicLine), dist: s.file('dist_keys', distKey.publicLine) },
      sshrpc: { modules: { courier_echo: ['echo', 'add/2'] } },
      log: log.logger,
    });
    node = new Node({ name: 'echo@127.0.0.1', transports: [t] });
    startEcho(node);
    await node.start();
    s.file('rpc', rpcKey.privateKey);
    s.file('dist', distKey.privateKey);
    s.file('known_hosts', `[127.0.0.1]:${port()} ${bare(host)}`);
  });
  afterAll(async () => {
    await node?.stop();
    s.cleanup();
  });

  const openssh = (key: 'rpc' | 'dist', user: string, subsystem: string, input: Buffer = Buffer.alloc(0)) =>
    new Promise<{ code: number | null; stdout: Buffer; stderr: string }>((resolve) => {
      const args = ['-F', '/dev/null', '-p', String(port()), '-i', s.path(key), '-o', 'IdentitiesOnly=yes', '-o', 'BatchMode=yes'];
      args.push(
        '-o',
        `UserKnownHostsFile=${s.path('known_hosts')}`,
        '-o',
        'GlobalKnownHostsFile=/dev/null',
        '-o',
        'StrictHostKeyChecking=yes',
        '-l',
        user,
        '127.0.0.1',
        '-s',
        subsystem,
      );
      const p = execFile('ssh', args, { encoding: 'buffer', timeout: 20_000 }, (err, stdout, stderr) =>
        resolve({ code: err === null ? 0 : ((err as { code?: number }).code ?? null), stdout, stderr: stderr.toString() }),
      );
      p.stdin?.end(input);
    });

  it('OpenSSH: an sshrpc key is refused the distribution subsystem, logged; it calls allowed functions and is refused others', async (ctx) => {
    ssh.require(ctx);
    const dist = await openssh('rpc', rpcKey.name, COURIER_SUBSYSTEM);
    expect(dist.code).not.toBe(0);
    expect(dist.stderr).toMatch(/subsystem request failed/);
    expect(log.find('warn', 'does not carry its role').some((e) => e.fields['peer'] === rpcKey.name && e.fields['role'] === 'dist')).toBe(true);
    const mfa = (m: string, f: string, a: Term[]) => new Tuple([atom('mfa'), atom(m), atom(f), a]);
    const r = await openssh(
      'rpc',
      rpcKey.name,
      'sshrpc@k2r.org',
      Buffer.concat(
        [mfa('courier_echo', 'add', [1, 2]), mfa('courier_echo', 'sleep', [1]), mfa('erpc', 'execute_call', [1, atom('courier_echo'), atom('add'), [1, 2]])].map(frame),
      ),
    );
    expect(r.code).toBe(0);
    expect(frames(r.stdout).map(formatErlang)).toEqual(['{answer,3}', '{error,{not_allowed,{courier_echo,sleep,1}}}', '{error,{not_allowed,{erpc,execute_call,4}}}']);
  });

  it('OpenSSH: a dist key gets the distribution subsystem, and is refused sshrpc', async (ctx) => {
    ssh.require(ctx);
    const dist = await openssh('dist', distKey.name, COURIER_SUBSYSTEM);
    expect(dist.stderr).not.toMatch(/subsystem request failed/);
    const rpc = await openssh('dist', distKey.name, 'sshrpc@k2r.org');
    expect(rpc.stderr).toMatch(/subsystem request failed/);
  });

  it("Erlang's ssh client: the same, key by key", async (ctx) => {
    erlSsh.require(ctx);
    expect(await erlSubsystem(s, port(), rpcKey, host, COURIER_SUBSYSTEM, 'erl-rpc-dist')).toBe('SUBSYSTEM failure');
    expect(await erlSubsystem(s, port(), rpcKey, host, 'sshrpc@k2r.org', 'erl-rpc-rpc')).toBe('SUBSYSTEM success');
    expect(await erlSubsystem(s, port(), distKey, host, COURIER_SUBSYSTEM, 'erl-dist-dist')).toBe('SUBSYSTEM success');
    expect(await erlSubsystem(s, port(), distKey, host, 'sshrpc@k2r.org', 'erl-dist-rpc')).toBe('SUBSYSTEM failure');
  });
});
