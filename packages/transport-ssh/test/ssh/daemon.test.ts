import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import ssh2 from 'ssh2';
import { CarrierError, HandshakeError } from '@courier/core';
import { captureLog } from '@courier/testkit';
import { HostTrust, SshChannelCarrier, SshClientConnection, SshDaemon, fingerprint } from '@courier/transport-ssh';
import { authorized, makeKey } from '../support/keys.js';

const blob = (line: string): Buffer => Buffer.from(line.split(' ')[1] as string, 'base64');

/**
 * The daemon offers its subsystems and nothing else: every other session request and every
 * forwarding is refused and logged, and the connection (and its other channels) carries on.
 */
describe('SshDaemon', () => {
  const host = makeKey('d@host');
  const me = makeKey('me@host');
  let log: ReturnType<typeof captureLog>;
  let daemon: SshDaemon;
  let port: number;
  let raw: InstanceType<typeof ssh2.Client>;
  let conn: SshClientConnection | undefined;
  const trust = () => new HostTrust({ fingerprints: { [`[127.0.0.1]:${port}`]: fingerprint(blob(host.publicLine)) } }, log.logger);

  beforeEach(async () => {
    log = captureLog();
    daemon = new SshDaemon({
      hostKeys: [host.privateKey],
      authorizedKeys: () => new Map([['echo', authorized(me)]]),
      subsystems: new Map([['echo@test.invalid', { role: 'echo', handler: (ch) => ch.pipe(ch) }]]),
      log: log.logger,
      loginGraceMs: 300,
    });
    port = await daemon.listen('127.0.0.1', 0);
  });
  afterEach(async () => {
    raw?.end();
    conn?.close();
    await daemon.close();
  });

  const rawClient = (o: Record<string, unknown> = {}): Promise<InstanceType<typeof ssh2.Client>> =>
    new Promise((resolve, reject) => {
      raw = new ssh2.Client();
      raw.on('ready', () => resolve(raw)).on('error', reject);
      raw.connect({ host: '127.0.0.1', port, username: me.name, privateKey: me.privateKey, hostVerifier: () => true, ...o });
    });
  const refused = (fn: (cb: (err?: Error) => void) => void): Promise<Error | undefined> => new Promise((r) => fn((err) => r(err)));

  it('refuses shell, exec, pty, sftp, unknown subsystems and forwarding, each logged; a subsystem channel carries on', async () => {
    const c = await rawClient();
    const echo = await new Promise<ssh2.ClientChannel>((r, j) => c.subsys('echo@test.invalid', (e, ch) => (e ? j(e) : r(ch))));
    expect(await refused((cb) => c.shell(false, (e) => cb(e)))).toBeInstanceOf(Error);
    expect(await refused((cb) => c.exec('id', (e) => cb(e)))).toBeInstanceOf(Error);
    expect(await refused((cb) => c.exec('id', { pty: true }, (e) => cb(e)))).toBeInstanceOf(Error);
    expect(await refused((cb) => c.sftp((e) => cb(e)))).toBeInstanceOf(Error);
    expect(await refused((cb) => c.subsys('nope@test.invalid', (e) => cb(e)))).toBeInstanceOf(Error);
    expect(await refused((cb) => c.forwardOut('127.0.0.1', 1, '127.0.0.1', 22, (e) => cb(e)))).toBeInstanceOf(Error);
    expect(await refused((cb) => c.forwardIn('127.0.0.1', 0, (e) => cb(e)))).toBeInstanceOf(Error);
    const warned = log.find('warn').map((e) => `${String(e.fields['request'] ?? e.fields['subsystem'])}`);
    expect(warned).toEqual(expect.arrayContaining(['shell', 'exec', 'pty', 'sftp', 'nope@test.invalid', 'direct-tcpip', 'tcpip-forward']));
    expect(log.find('warn').every((e) => e.fields['code'] === 'NOT_OFFERED')).toBe(true);
    const back = new Promise<Buffer>((r) => echo.once('data', r));
    echo.write('still here');
    expect((await back).toString()).toBe('still here');
  });

  it('refuses passwords and keyboard-interactive: public keys only', async () => {
    const err = await rawClient({ privateKey: undefined, password: 'secret', tryKeyboard: true }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect(log.find('warn', 'public keys only').length).toBeGreaterThan(0);
    expect(JSON.stringify(log.entries)).not.toContain('secret');
  });

  it('the dialer reports an unauthorized key as HandshakeError NOT_ALLOWED, a dead port as CarrierError', async () => {
    const other = makeKey('other@host');
    const err = await SshClientConnection.dial({ host: '127.0.0.1', port, user: other.name, privateKey: other.privateKey, trust: trust(), timeoutMs: 3000, log: log.logger }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(HandshakeError);
    expect((err as HandshakeError).code).toBe('NOT_ALLOWED');
    expect(log.find('warn', 'not in the authorized keys')[0]?.fields['fingerprint']).toBe(fingerprint(blob(other.publicLine)));
    await daemon.close();
    const dead = await SshClientConnection.dial({ host: '127.0.0.1', port, user: me.name, privateKey: me.privateKey, trust: trust(), timeoutMs: 3000, log: log.logger }).catch(
      (e: unknown) => e,
    );
    expect(dead).toBeInstanceOf(CarrierError);
    expect((dead as CarrierError).code).toBe('CONNECT_FAILED');
  });

  it('drops a connection that does not log in within the grace time', async () => {
    const { connect } = await import('node:net');
    const s = connect({ host: '127.0.0.1', port });
    const closed = new Promise<void>((r) => s.on('close', () => r()));
    s.on('error', () => undefined);
    s.resume(); // read the server's greeting, so that its close is seen
    await closed;
    expect(log.find('warn', 'login took too long')).toHaveLength(1);
  });

  it('a channel carrier closes gracefully after queued bytes, both ends told once', async () => {
    conn = await SshClientConnection.dial({ host: '127.0.0.1', port, user: me.name, privateKey: me.privateKey, trust: trust(), timeoutMs: 3000, log: log.logger });
    const c = await conn.openSubsystem('echo@test.invalid');
    const got: Buffer[] = [];
    let closes = 0;
    const done = new Promise<void>((r) =>
      c.setReceiver({
        onData: (b) => got.push(Buffer.from(b)),
        onDrain: () => {},
        onClose: () => {
          closes++;
          r();
        },
      }),
    );
    c.write(Buffer.from('abc'));
    await new Promise((r) => setTimeout(r, 20));
    c.close();
    await done;
    expect(Buffer.concat(got).toString()).toBe('abc');
    expect(closes).toBe(1);
    expect(c).toBeInstanceOf(SshChannelCarrier);
    await new Promise((r) => setTimeout(r, 50));
    expect(conn.channels).toBe(0);
  });
});

/** The daemon's limits on peers, after OpenSSH's MaxAuthTries, MaxSessions and MaxStartups. */
describe('SshDaemon limits', () => {
  const host = makeKey('d@host');
  const me = makeKey('me@host');
  let log: ReturnType<typeof captureLog>;
  let daemon: SshDaemon;
  let port: number;
  const clients: InstanceType<typeof ssh2.Client>[] = [];

  beforeEach(async () => {
    log = captureLog();
    daemon = new SshDaemon({
      hostKeys: [host.privateKey],
      authorizedKeys: () => new Map([['echo', authorized(me)]]),
      subsystems: new Map([['echo@test.invalid', { role: 'echo', handler: (ch) => ch.pipe(ch) }]]),
      log: log.logger,
      maxAuthTries: 3,
      maxSessions: 2,
      maxStartups: 4,
      maxStartupsPerAddress: 3,
    });
    port = await daemon.listen('127.0.0.1', 0);
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.end();
    await daemon.close();
  });

  const login = (authHandler: ssh2.AnyAuthMethod[]): Promise<{ ready: boolean; client: InstanceType<typeof ssh2.Client> }> =>
    new Promise((resolve) => {
      const client = new ssh2.Client();
      clients.push(client);
      let ready = false;
      client.on('ready', () => {
        ready = true;
        resolve({ ready, client });
      });
      client.on('error', () => undefined);
      client.on('close', () => resolve({ ready, client }));
      client.connect({ host: '127.0.0.1', port, username: me.name, hostVerifier: () => true, authHandler });
    });
  const key = (k: { privateKey: string }): ssh2.AnyAuthMethod => ({ type: 'publickey', username: me.name, key: k.privateKey });

  it('drops a connection after maxAuthTries failed attempts, even if a good key comes next', async () => {
    const strangers = [makeKey('s1@host'), makeKey('s2@host'), makeKey('s3@host')];
    const r = await login([{ type: 'none', username: me.name }, ...strangers.map(key), key(me)]);
    expect(r.ready).toBe(false);
    expect(log.find('warn', 'too many authentication failures')[0]?.fields).toMatchObject({ code: 'AUTH_TRIES', failures: 3 });
    // One failure less, and the good key gets in: `none` does not count.
    const ok = await login([{ type: 'none', username: me.name }, ...strangers.slice(0, 2).map(key), key(me)]);
    expect(ok.ready).toBe(true);
  });

  it('refuses a channel past maxSessions open on one connection; closing one makes room', async () => {
    const { client } = await login([key(me)]);
    const open = () => new Promise<ssh2.ClientChannel | Error>((r) => client.subsys('echo@test.invalid', (e, ch) => r(e ?? ch)));
    const first = await open();
    expect(await open()).not.toBeInstanceOf(Error);
    expect(await open()).toBeInstanceOf(Error);
    expect(log.find('warn', 'too many channels')[0]?.fields['code']).toBe('SESSION_LIMIT');
    const closed = new Promise((r) => (first as ssh2.ClientChannel).once('close', r));
    (first as ssh2.ClientChannel).resume().close();
    await closed;
    expect(await open()).not.toBeInstanceOf(Error);
  });

  it('past maxStartupsPerAddress connections not logged in, the oldest is dropped at once', async () => {
    const { connect } = await import('node:net');
    const sockets = Array.from({ length: 4 }, () => {
      const s = connect({ host: '127.0.0.1', port });
      s.on('error', () => undefined);
      s.resume();
      return s;
    });
    const firstClosed = new Promise<void>((r) => sockets[0]?.once('close', () => r()));
    await firstClosed;
    expect(log.find('warn', 'not logged in: the oldest is dropped')[0]?.fields['code']).toBe('PENDING_LIMIT');
    expect(sockets.slice(1).every((s) => !s.destroyed)).toBe(true);
    // A real login still gets through (it evicts the oldest silent one).
    expect((await login([key(me)])).ready).toBe(true);
    for (const s of sockets) s.destroy();
  });
});
