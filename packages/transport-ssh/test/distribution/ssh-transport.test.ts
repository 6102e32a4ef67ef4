import { afterEach, describe, expect, it } from 'vitest';
import { atom, listItems } from '@courier/term';
import { HandshakeError, Node, driveHandshake, rpcCall, silentLogger } from '@courier/core';
import { captureLog, inProcess } from '@courier/testkit';
import {
  COURIER_SUBSYSTEM,
  HostKeyError,
  HostTrust,
  SshClientConnection,
  fingerprint,
  sshDistHandshake,
  sshRpc,
  type SshTransport,
  type SshTransportOptions,
} from '@courier/transport-ssh';
import { utimesSync, writeFileSync } from 'node:fs';
import { SshRpcClient } from '@courier/transport-ssh';
import { networkInterfaces } from 'node:os';
import { connect } from 'node:net';
import { authorized, makeKey, tempDir, type TestKey } from '../support/keys.js';

/** Both roles (sshrpc and the distribution subsystem) for these keys. */
const both = (...keys: TestKey[]) => ({ sshrpc: authorized(...keys), dist: authorized(...keys) });

const blob = (k: TestKey): Buffer => Buffer.from(k.publicLine.split(' ')[1] as string, 'base64');

describe('SshTransport', () => {
  const started: Node[] = [];
  afterEach(async () => {
    for (const n of started.splice(0)) await n.stop();
  });

  async function node(key: TestKey, o: Partial<SshTransportOptions> = {}): Promise<{ node: Node; t: SshTransport; log: ReturnType<typeof captureLog> }> {
    const log = captureLog();
    const t = sshRpc({ hostKey: key.privateKey, authorizedKeys: authorized(), listen: { host: '127.0.0.1' }, ...o });
    const n = await new Node({ name: key.name, transports: [t], log: log.logger }).start();
    started.push(n);
    return { node: n, t, log };
  }

  it('carries erpc both ways over one SSH connection, shared with sshrpc channels', async () => {
    const [ka, kb] = [makeKey('a@127.0.0.1'), makeKey('b@127.0.0.1')];
    const peers: Record<string, string> = {};
    const fingerprints = { [ka.name]: fingerprint(blob(ka)), [kb.name]: fingerprint(blob(kb)) };
    const a = await node(ka, { authorizedKeys: both(kb), peers, fingerprints });
    const b = await node(kb, { authorizedKeys: both(ka), peers, fingerprints });
    peers[ka.name] = `127.0.0.1:${a.t.port}`;
    peers[kb.name] = `127.0.0.1:${b.t.port}`;
    a.node.expose('m', { who: () => atom('a') });
    b.node.expose('m', { who: () => atom('b') });
    expect(await inProcess(a.node, (p) => rpcCall(p, b.node.name, 'm', 'who', []))).toBe(atom('b'));
    expect(await inProcess(b.node, (p) => rpcCall(p, a.node.name, 'm', 'who', []))).toBe(atom('a'));
    const rpc = await a.t.rpc(b.node.name, 2);
    expect(await rpc.call('m', 'who', [])).toBe(atom('b'));
    expect(a.t.dialedConnections + b.t.dialedConnections).toBe(1);
    expect(a.node.nodes()).toEqual([b.node.name]);
    rpc.close();
  });

  it('refuses a login whose distribution handshake names another node than its SSH user', async () => {
    const [kb, kx] = [makeKey('b@127.0.0.1'), makeKey('x@127.0.0.1')];
    const b = await node(kb, { authorizedKeys: { dist: authorized(kx) } });
    const conn = await SshClientConnection.dial({
      host: '127.0.0.1',
      port: b.t.port as number,
      user: kx.name,
      privateKey: kx.privateKey,
      trust: new HostTrust({ trustUnknown: true }, silentLogger),
      timeoutMs: 3000,
      log: silentLogger,
    });
    const c = await conn.openSubsystem(COURIER_SUBSYSTEM);
    const hs = sshDistHandshake({ role: 'initiator', self: atom('y@127.0.0.1'), peer: b.node.name, creation: 1, hidden: false });
    const err = await driveHandshake(c, hs, { timeoutMs: 3000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HandshakeError);
    expect((err as HandshakeError).code).toBe('NOT_ALLOWED');
    const warned = b.log.find('warn', 'names another node');
    expect(warned[0]?.fields).toMatchObject({ user: 'x@127.0.0.1', claimed: 'y@127.0.0.1', code: 'NAME_MISMATCH' });
    expect(b.node.nodes()).toEqual([]);
    conn.close();
  });

  it('refuses a host key pinned for nobody, and the key of another node at the address of the one dialed', async () => {
    const [ka, kb, kc] = [makeKey('a@127.0.0.1'), makeKey('b@127.0.0.1'), makeKey('c@127.0.0.1')];
    const b = await node(kb, { authorizedKeys: both(ka) });
    const c = await node(kc, { authorizedKeys: both(ka) });
    const peers = { [kb.name]: `127.0.0.1:${b.t.port}`, [kc.name]: `127.0.0.1:${b.t.port}` };
    const a = await node(ka, { peers, fingerprints: { [kc.name]: fingerprint(blob(kc)) } });
    const unknown = await a.node.pipeline.dial(b.node.name, a.t.dialer(b.node.name)).catch((e: unknown) => e);
    expect(unknown).toBeInstanceOf(HostKeyError);
    expect((unknown as HostKeyError).code).toBe('UNKNOWN_HOST_KEY');
    expect((unknown as Error).message).toContain(fingerprint(blob(kb)));
    const impostor = await a.node.pipeline.dial(c.node.name, a.t.dialer(c.node.name)).catch((e: unknown) => e);
    expect((impostor as HostKeyError).code).toBe('HOST_KEY_MISMATCH');
    expect(a.log.find('warn', 'set-up failed').map((e) => e.fields['code'])).toEqual(['UNKNOWN_HOST_KEY', 'HOST_KEY_MISMATCH']);
    expect(await a.node.connect(b.node.name)).toBe(false);
    void c;
  });

  it('without an sshrpc subsystem (sshrpc: false) the daemon refuses it; listen: false dials only', async () => {
    const [ka, kb] = [makeKey('a@127.0.0.1'), makeKey('b@127.0.0.1')];
    const b = await node(kb, { authorizedKeys: both(ka), sshrpc: false });
    const a = await node(ka, { listen: false, peers: { [kb.name]: `127.0.0.1:${b.t.port}` }, fingerprints: { [kb.name]: fingerprint(blob(kb)) } });
    expect(a.t.port).toBeUndefined();
    await expect(a.t.rpc(b.node.name)).rejects.toMatchObject({ code: 'SUBSYSTEM_REFUSED' });
    expect(await a.node.connect(b.node.name)).toBe(true);
    b.node.expose('m', { seq: () => [1, 2] });
    expect(listItems(await inProcess(a.node, (p) => rpcCall(p, b.node.name, 'm', 'seq', [])))).toEqual([1, 2]);
  });

  it('an authorized_keys file given by path is re-read when it changes: the next login sees the change', async () => {
    const [kb, kx] = [makeKey('b@127.0.0.1'), makeKey('x@127.0.0.1')];
    const d = tempDir();
    try {
      const file = d.file('authorized_keys', '');
      const b = await node(kb, { authorizedKeys: file });
      const login = () =>
        SshRpcClient.connect({
          host: '127.0.0.1',
          port: b.t.port as number,
          user: kx.name,
          privateKey: kx.privateKey,
          fingerprints: { [`[127.0.0.1]:${b.t.port}`]: fingerprint(blob(kb)) },
        });
      await expect(login()).rejects.toMatchObject({ code: 'NOT_ALLOWED' });
      writeFileSync(file, `${kx.publicLine}\n`);
      utimesSync(file, new Date(), new Date(Date.now() + 5000));
      const c = await login();
      expect(await c.whoami()).toBeDefined();
      c.close();
      writeFileSync(file, '');
      utimesSync(file, new Date(), new Date(Date.now() + 10_000));
      await expect(login()).rejects.toMatchObject({ code: 'NOT_ALLOWED' });
      expect(b.log.find('info', 'authorized keys reloaded')).toHaveLength(2);
    } finally {
      d.cleanup();
    }
  });

  describe('keys carry roles: one authorized_keys table per role', () => {
    const dial = (port: number, k: TestKey, host: TestKey) =>
      SshClientConnection.dial({
        host: '127.0.0.1',
        port,
        user: k.name,
        privateKey: k.privateKey,
        trust: new HostTrust({ fingerprints: { [`[127.0.0.1]:${port}`]: fingerprint(blob(host)) } }, silentLogger),
        timeoutMs: 3000,
        log: silentLogger,
      });

    it('an sshrpc key is refused the distribution subsystem (logged) and still calls sshrpc; a dist key is refused sshrpc', async () => {
      const [kb, rpcKey, distKey] = [makeKey('b@127.0.0.1'), makeKey('rpc@127.0.0.1'), makeKey('d@127.0.0.1')];
      const b = await node(kb, { authorizedKeys: { sshrpc: authorized(rpcKey), dist: authorized(distKey) } });
      b.node.expose('m', { who: () => atom('b') });
      const r = await dial(b.t.port as number, rpcKey, kb);
      await expect(r.openSubsystem(COURIER_SUBSYSTEM)).rejects.toMatchObject({ code: 'SUBSYSTEM_REFUSED' });
      expect(b.log.find('warn', 'does not carry its role')[0]?.fields).toMatchObject({ peer: rpcKey.name, subsystem: COURIER_SUBSYSTEM, role: 'dist', code: 'NOT_ALLOWED' });
      const rpc = SshRpcClient.over([await r.openSubsystem('sshrpc@k2r.org')], {});
      expect(await rpc.call('m', 'who', [])).toBe(atom('b'));
      rpc.close();
      r.close();
      const d = await dial(b.t.port as number, distKey, kb);
      await expect(d.openSubsystem('sshrpc@k2r.org')).rejects.toMatchObject({ code: 'SUBSYSTEM_REFUSED' });
      const c = await d.openSubsystem(COURIER_SUBSYSTEM);
      c.close();
      d.close();
    });

    it('one plain table means sshrpc only, and the node warns at start that it no longer grants dist', async () => {
      const [ka, kb] = [makeKey('a@127.0.0.1'), makeKey('b@127.0.0.1')];
      const b = await node(kb, { authorizedKeys: authorized(ka) });
      expect(b.log.find('warn', 'no longer the distribution subsystem')).toHaveLength(1);
      const a = await node(ka, { listen: false, peers: { [kb.name]: `127.0.0.1:${b.t.port}` }, fingerprints: { [kb.name]: fingerprint(blob(kb)) } });
      expect(await a.node.connect(b.node.name)).toBe(false);
      expect(b.node.nodes()).toEqual([]);
      const rpc = await a.t.rpc(b.node.name);
      expect(await rpc.whoami()).toBeDefined();
      rpc.close();
    });

    it('an unknown role is a UsageError', async () => {
      const kb = makeKey('b@127.0.0.1');
      await expect(node(kb, { authorizedKeys: { shell: authorized() } as unknown as SshTransportOptions['authorizedKeys'] })).rejects.toMatchObject({ code: 'SSH_ROLE' });
    });
  });

  it('the daemon listens on loopback unless told otherwise', async () => {
    const kb = makeKey('b@127.0.0.1');
    const b = await node(kb, { listen: {} });
    const outside = Object.values(networkInterfaces())
      .flat()
      .find((i) => i !== undefined && i.family === 'IPv4' && !i.internal);
    expect(b.log.find('info', 'SSH daemon listening')[0]?.fields).toMatchObject({ host: '127.0.0.1' });
    const reach = (host: string) =>
      new Promise<boolean>((resolve) => {
        const s = connect({ host, port: b.t.port as number }, () => {
          s.destroy();
          resolve(true);
        });
        s.on('error', () => resolve(false));
      });
    expect(await reach('127.0.0.1')).toBe(true);
    // A machine with no other interface has nothing more to show.
    if (outside !== undefined) expect(await reach(outside.address)).toBe(false);
  });
});
