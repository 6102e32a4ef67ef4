import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '@courier/core';
import { captureLog, requirePeer } from '@courier/testkit';
import { AuthorizedKeys, HostKeyError, HostTrust, KnownHosts, SshClientConnection, SshDaemon, fingerprint, hashName } from '@courier/transport-ssh';
import { authorized, bare, makeKey, tempDir, type TestKey } from '../support/keys.js';

const blob = (k: TestKey): Buffer => Buffer.from(k.publicLine.split(' ')[1] as string, 'base64');
let keygen = false;
try {
  execFileSync('ssh-keygen', ['-?'], { stdio: 'ignore' });
} catch (err) {
  keygen = (err as { status?: number }).status !== undefined;
}
const sshKeygen = requirePeer('ssh-keygen', keygen, "OpenSSH's ssh-keygen (Debian openssh-client)");

/**
 * Trust on first use, as Courier's SSH client does it against a real SSH server (Courier's
 * daemon on loopback): the first key a host shows is written to the known_hosts file, and from
 * then on a changed key, or a key of another type, is refused; the host-key algorithms offered
 * to a pinned host are the pinned types.
 */
describe('trust on first use (HostTrust with trustUnknown and a known_hosts file)', () => {
  const me = makeKey('me@127.0.0.1');
  const daemons: SshDaemon[] = [];
  const dirs: Array<ReturnType<typeof tempDir>> = [];
  afterEach(async () => {
    for (const d of daemons.splice(0)) await d.close();
    for (const d of dirs.splice(0)) d.cleanup();
  });

  async function daemon(hostKeys: TestKey[], port = 0): Promise<number> {
    const d = new SshDaemon({
      hostKeys: hostKeys.map((k) => k.privateKey),
      authorizedKeys: () => new Map([['echo', authorized(me)]]),
      subsystems: new Map([['echo@test.invalid', { role: 'echo', handler: (ch) => ch.pipe(ch) }]]),
      log: silentLogger,
    });
    daemons.push(d);
    return d.listen('127.0.0.1', port);
  }
  const stop = async (): Promise<void> => {
    for (const d of daemons.splice(0)) await d.close();
  };

  const dial = async (port: number, trust: HostTrust): Promise<HostKeyError | undefined> => {
    try {
      const c = await SshClientConnection.dial({
        host: '127.0.0.1',
        port,
        user: me.name,
        privateKey: me.privateKey,
        trust,
        node: 'h@127.0.0.1',
        timeoutMs: 5000,
        log: silentLogger,
      });
      c.close();
      return undefined;
    } catch (err) {
      if (err instanceof HostKeyError) return err;
      throw err;
    }
  };

  it('records the first key in the known_hosts file, then refuses a changed key and a key of another type', async () => {
    const d = tempDir();
    dirs.push(d);
    const file = d.file('known_hosts', '# pinned peers\n');
    const log = captureLog();
    const [first, changed, ecdsa] = [makeKey('h1'), makeKey('h2'), makeKey('h3', 'ecdsa')];
    const port = await daemon([first]);
    expect(await dial(port, new HostTrust({ knownHosts: file, trustUnknown: true }, log.logger))).toBeUndefined();
    expect(readFileSync(file, 'utf8')).toBe(`# pinned peers\n[127.0.0.1]:${port},h@127.0.0.1 ${bare(first)}\n`);
    expect(log.find('warn', 'trusted on first use and recorded')[0]?.fields).toMatchObject({ fingerprint: fingerprint(blob(first)), file });
    // The next connect (a new process: the file read again) accepts that key, and only it.
    expect(await dial(port, new HostTrust({ knownHosts: file, trustUnknown: true }, log.logger))).toBeUndefined();
    await stop();
    await daemon([changed], port);
    expect((await dial(port, new HostTrust({ knownHosts: file, trustUnknown: true }, log.logger)))?.code).toBe('HOST_KEY_MISMATCH');
    await stop();
    await daemon([ecdsa], port);
    const other = await dial(port, new HostTrust({ knownHosts: file, trustUnknown: true }, log.logger));
    // Only ssh-ed25519 is offered to this host now: the server has none, and that is a mismatch.
    expect(other?.code).toBe('HOST_KEY_MISMATCH');
    expect(other?.message).toContain('ssh-ed25519');
    // Offered every type, the ecdsa key shows up and is refused as another key for a pinned host.
    const kh = KnownHosts.load(file);
    expect(kh.check([`[127.0.0.1]:${port}`], blob(ecdsa))).toBe('mismatch');
    // Nothing more was recorded.
    expect(
      readFileSync(file, 'utf8')
        .split('\n')
        .filter((l) => l.includes('ssh-') || l.includes('ecdsa-')),
    ).toHaveLength(1);
  });

  it('the same HostTrust (one process) refuses a changed key after trusting the first, with no file', async () => {
    const [first, changed] = [makeKey('h1'), makeKey('h2')];
    const trust = new HostTrust({ trustUnknown: true }, silentLogger);
    const port = await daemon([first]);
    expect(await dial(port, trust)).toBeUndefined();
    await stop();
    await daemon([changed], port);
    expect((await dial(port, trust))?.code).toBe('HOST_KEY_MISMATCH');
  });

  it('writes hashed names when the file hashes its names, as ssh-keygen -F finds them', async (ctx) => {
    const d = tempDir();
    dirs.push(d);
    const file = d.file('known_hosts', `${hashName('elsewhere.example')} ${bare(makeKey('x'))}`);
    const host = makeKey('h1');
    const port = await daemon([host]);
    expect(await dial(port, new HostTrust({ knownHosts: file, trustUnknown: true }, silentLogger))).toBeUndefined();
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines.slice(1).every((l) => l.startsWith('|1|') && l.endsWith(bare(host)))).toBe(true);
    expect(KnownHosts.load(file).check([`[127.0.0.1]:${port}`], blob(host))).toBe('ok');
    expect(KnownHosts.load(file).check(['h@127.0.0.1'], blob(host))).toBe('ok');
    sshKeygen.require(ctx);
    const found = execFileSync('ssh-keygen', ['-F', `[127.0.0.1]:${port}`, '-f', file], { encoding: 'utf8' });
    expect(found).toContain(bare(host));
  });

  it('offers only the pinned key types, so a server holding several keys shows the pinned one', async () => {
    const [ed, ec] = [makeKey('h-ed'), makeKey('h-ec', 'ecdsa')];
    const port = await daemon([ed, ec]);
    // ssh2 prefers ed25519: without the pinned types offered first and alone, the server shows it.
    const pinnedEc = KnownHosts.parse(`[127.0.0.1]:${port} ${bare(ec)}`);
    expect(await dial(port, new HostTrust({ knownHosts: pinnedEc }, silentLogger))).toBeUndefined();
    const trust = new HostTrust({ knownHosts: pinnedEc }, silentLogger);
    expect(trust.hostKeyAlgorithms({ host: '127.0.0.1', port })).toEqual(['ecdsa-sha2-nistp256']);
    expect(trust.hostKeyAlgorithms({ host: '127.0.0.1', port: port + 1 })).toBeUndefined();
  });
});

describe('authorized_keys expiry-time', () => {
  const a = makeKey('a@host');
  const blobA = blob(a);

  it('an expiry-time that is not a time makes the line unusable, with the reason', () => {
    for (const bad of ['"20231399"', '"20230230"', '"202301012460"', '"2023"', 'soon', '"20230101T1200"']) {
      const ak = AuthorizedKeys.parse(`expiry-time=${bad} ${a.publicLine}`, 'ak');
      expect(ak.lookup(blobA), bad).toBeUndefined();
      expect(ak.problems, bad).toEqual([`ak:1: expiry-time=${bad} is not a time (YYYYMMDD[HHMM[SS]][Z]), so the key is not used`]);
    }
  });

  it('a valid one is read in local time, or UTC with Z', () => {
    expect(AuthorizedKeys.parse(`expiry-time="20991231235959Z" ${a.publicLine}`).lookup(blobA)?.expires?.toISOString()).toBe('2099-12-31T23:59:59.000Z');
    expect(AuthorizedKeys.parse(`expiry-time="20240229" ${a.publicLine}`).lookup(blobA)?.expires?.getTime()).toBe(new Date(2024, 1, 29).getTime());
  });

  it('the daemon refuses a login by a key whose line has a bad expiry-time, and logs why at start', async () => {
    const d = tempDir();
    const host = makeKey('h');
    const log = captureLog();
    const file = d.file('authorized_keys', `expiry-time="20231399" ${a.publicLine}\n`);
    const { AuthorizedKeysFile } = await import('../../src/keys/authorized-file.js');
    const keys = new AuthorizedKeysFile(file, log.logger);
    const daemon = new SshDaemon({ hostKeys: [host.privateKey], authorizedKeys: () => new Map([['echo', keys.current()]]), subsystems: new Map(), log: log.logger });
    try {
      expect(log.find('warn', 'authorized keys line skipped')[0]?.fields['problem']).toMatch(/expiry-time="20231399" is not a time/);
      const port = await daemon.listen('127.0.0.1', 0);
      const err = await SshClientConnection.dial({
        host: '127.0.0.1',
        port,
        user: a.name,
        privateKey: a.privateKey,
        trust: new HostTrust({ fingerprints: { [`[127.0.0.1]:${port}`]: fingerprint(blob(host)) } }, silentLogger),
        timeoutMs: 5000,
        log: silentLogger,
      }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'NOT_ALLOWED' });
      expect(log.find('warn', 'not in the authorized keys')).toHaveLength(1);
    } finally {
      await daemon.close();
      d.cleanup();
    }
  });
});
