import { afterAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { COMMANDS, USAGE, cli } from '@courier/cli';
import { runCourier } from './run.js';

const dir = mkdtempSync(join(tmpdir(), 'courier-cli-help-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** main() in this process, its stdout and stderr captured. */
async function inProcess(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const [ow, ew] = [process.stdout.write.bind(process.stdout), process.stderr.write.bind(process.stderr)];
  process.stdout.write = (s: string) => ((stdout += s), true);
  process.stderr.write = (s: string) => ((stderr += s), true);
  try {
    const code = await cli(args);
    return { code, stdout, stderr };
  } finally {
    process.stdout.write = ow;
    process.stderr.write = ew;
  }
}

describe('courier --help', () => {
  it('lists every command, examples and the exit codes; exit 0', async () => {
    const r = await inProcess(['--help']);
    expect(r.code).toBe(0);
    for (const cmd of Object.keys(COMMANDS)) expect(r.stdout).toContain(`  ${cmd}`);
    expect(r.stdout).toMatch(/^examples:$/m);
    expect(r.stdout).toMatch(/^exit codes:\n {2}0 .*\n {2}1 .*\n {2}2 .*\n {2}3 /m);
  });

  it.each(Object.keys(COMMANDS))('courier %s --help: its usage, options and examples', async (cmd) => {
    for (const args of [
      [cmd, '--help'],
      ['help', cmd],
    ]) {
      const r = await inProcess(args);
      expect(r.code).toBe(0);
      expect(r.stdout.startsWith(`usage: courier ${cmd}`)).toBe(true);
      const examples = r.stdout.slice(r.stdout.indexOf('\nexamples:\n'));
      expect(examples.match(/^ {2}courier /gm)?.length ?? 0, `${cmd}: examples`).toBeGreaterThanOrEqual(1);
    }
  });

  it('ping, send and call document the TLS flags they accept', () => {
    for (const cmd of ['ping', 'send', 'call']) expect(COMMANDS[cmd]).toMatch(/--carrier tcp\|tls[\s\S]*--tls-cert F --tls-key F/);
  });

  it('no command: the usage on stdout, exit 2', async () => {
    const r = await inProcess([]);
    expect(r.code).toBe(2);
    expect(r.stdout.trimEnd()).toBe(USAGE);
  });
});

describe('mistakes on the command line', () => {
  it('a misspelt flag: one line naming it, then the command usage; exit 2, no stack trace', async () => {
    const r = await runCourier(['call', 'a@h', 'm', 'f', '--cookei', 'x']);
    expect(r.code).toBe(2);
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines[0]).toBe('courier: unknown option --cookei; did you mean --cookie?');
    expect(lines[1]).toBe('usage: courier call NODE MOD FUN [ARGS] [options]');
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.stdout).toBe('');
  }, 60_000);

  it('an unknown command: exit 2 with the usage line', async () => {
    const r = await inProcess(['nodes']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^courier: unknown command nodes\nusage: courier <command>/);
  });

  it('a missing cookie names the flag first', async () => {
    const r = await runCourier(['ping', 'nobody@127.0.0.1', '--epmd-port', '1'], { env: { COURIER_COOKIE: '', HOME: dir } });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^courier: node\.cookie: no cookie: give --cookie C/);
  }, 60_000);

  it('ping of a node that cannot be reached exits 3, as call does', async () => {
    const ping = await runCourier(['ping', 'nobody@127.0.0.1', '--cookie', 'c', '--epmd-port', '1']);
    expect(ping.stdout).toBe('pang\n');
    expect(ping.code).toBe(3);
    const call = await runCourier(['call', 'nobody@127.0.0.1', 'erlang', 'node', '--cookie', 'c', '--epmd-port', '1']);
    expect(call.code).toBe(3);
  }, 60_000);
});

describe('courier node --check', () => {
  it('prints the node, its carriers (with the plugin building each) and routes; starts nothing; exit 0', async () => {
    const file = join(dir, 'check.yaml');
    writeFileSync(
      file,
      [
        'plugins: ["@acme/courier-carrier-loopback"]',
        'node: { name: chk@127.0.0.1, cookie: secret }',
        'carriers:',
        '  - { kind: tcp, epmd: false, listen: { host: 127.0.0.1, port: 0 } }',
        '  - { kind: loopback, network: lab }',
        'routes:',
        '  - { match: "lab-*", carrier: loopback }',
        '',
      ].join('\n'),
    );
    const r = await runCourier(['node', '--config', file, '--check']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).not.toMatch(/READY/);
    expect(r.stdout).not.toContain('secret');
    expect(r.stdout.split('\n')).toEqual([
      `configuration ok: ${file} (nothing started)`,
      'node      chk@127.0.0.1 (hidden; cookie from node.cookie)',
      'plugins   @acme/courier-carrier-loopback',
      'carriers',
      '  [0] tcp  (@courier/cli)  epmd=false listen={"host":"127.0.0.1","port":0}',
      '  [1] loopback  (@acme/courier-carrier-loopback)  network="lab"',
      'routes',
      '  lab-* -> loopback',
      '  (default) -> tcp',
      'services  echo',
      '',
    ]);
  }, 60_000);

  it('a configuration problem: exit 2 naming the key path, before anything starts', async () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'node: { name: chk@127.0.0.1, cookie: s }\ncarriers:\n  - { kind: tls, server: { certfile: certs/node.pem, keyfile: certs/node.key } }\n');
    const r = await runCourier(['node', '--config', file, '--check']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    // The certificate path is the file's neighbour, not the current directory's.
    expect(r.stderr).toContain(join(dir, 'certs/node.pem'));
  }, 60_000);
});

describe('paths in a configuration file', () => {
  it('resolve against the file’s directory', async () => {
    const { loadConfig } = await import('@courier/cli');
    const sub = join(dir, 'etc');
    mkdirSync(sub, { recursive: true });
    const file = join(sub, 'paths.yaml');
    writeFileSync(
      file,
      [
        'node: { name: p@127.0.0.1, cookieFile: cookie }',
        'carriers:',
        '  - { kind: tls, server: { certfile: certs/node.pem, keyfile: /abs/node.key, cacertfile: ../ca.pem } }',
        '  - { kind: ssh, hostKey: keys/host, authorizedKeys: { dist: keys/dist }, knownHosts: known_hosts }',
        '  - { kind: aemp, secretFile: secret, tls: { cert: a.pem, key: a.key } }',
        '',
      ].join('\n'),
    );
    const c = loadConfig(file);
    expect(c.node.cookieFile).toBe(join(sub, 'cookie'));
    expect(c.carriers[0]).toMatchObject({ server: { certfile: join(sub, 'certs/node.pem'), keyfile: '/abs/node.key', cacertfile: join(dir, 'ca.pem') } });
    expect(c.carriers[1]).toMatchObject({ hostKey: join(sub, 'keys/host'), authorizedKeys: { dist: join(sub, 'keys/dist') }, knownHosts: join(sub, 'known_hosts') });
    expect(c.carriers[2]).toMatchObject({ secretFile: join(sub, 'secret'), tls: { cert: join(sub, 'a.pem'), key: join(sub, 'a.key') } });
  });
});
