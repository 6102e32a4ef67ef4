import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Pid, atom, type Term } from '@courier/term';
import { Node, type Process } from '@courier/core';
import { HostTrust, SSHRPC_SUBSYSTEM, SshClientConnection, SshRpcClient, SshRpcError, fingerprint, sshRpc, type SshTransport } from '@courier/transport-ssh';
import { silentLogger } from '@courier/core';
import { authorized, makeKey } from '../support/keys.js';

/** The sshrpc client against a Courier daemon over real SSH. */
describe('SshRpcClient', () => {
  const host = makeKey('srv@127.0.0.1');
  const me = makeKey('cli@127.0.0.1');
  let node: Node;
  let t: SshTransport;
  const gates: Array<(v: Term) => void> = [];
  const inbox: Term[] = [];
  const connect = (o: { channels?: number; maxFrame?: number } = {}) =>
    SshRpcClient.connect({
      host: '127.0.0.1',
      port: t.port as number,
      user: me.name,
      privateKey: me.privateKey,
      fingerprints: { [`[127.0.0.1]:${t.port}`]: fingerprint(Buffer.from(host.publicLine.split(' ')[1] as string, 'base64')) },
      ...o,
    });

  beforeAll(async () => {
    t = sshRpc({ hostKey: host.privateKey, authorizedKeys: authorized(me), listen: { host: '127.0.0.1' } });
    node = await new Node({ name: host.name, transports: [t] }).start();
    node.expose('m', {
      id: (x) => x,
      gate: () => new Promise<Term>((r) => gates.push(r)),
      big: (n) => Buffer.alloc(n as number, 1),
      async collect(this: Process) {
        inbox.push(await this.receive());
      },
    });
  });
  afterAll(() => node.stop());

  it('matches replies by id whatever their order, over several channels', async () => {
    const c = await connect({ channels: 3 });
    const slow = c.call('m', 'gate', []);
    const fast = await Promise.all(Array.from({ length: 30 }, (_, i) => c.call('m', 'id', [i])));
    expect(fast).toEqual(Array.from({ length: 30 }, (_, i) => i));
    gates.shift()?.(atom('late'));
    expect(await slow).toBe(atom('late'));
    c.close();
  });

  it('legacy forms are matched by position, alongside calls with ids', async () => {
    const c = await connect();
    const r = await Promise.all([c.mfa('m', 'id', [1]), c.call('m', 'id', [2]), c.mfa('m', 'id', [3], 'flat'), c.whoami()]);
    expect(r.slice(0, 3)).toEqual([1, 2, 3]);
    c.close();
  });

  it('spawn gives a pid this connection may send to', async () => {
    const c = await connect();
    const pid = await c.spawn('m', 'collect', []);
    expect(pid).toBeInstanceOf(Pid);
    c.send(pid, atom('hi'));
    await c.call('m', 'id', [0]);
    for (let i = 0; i < 50 && inbox.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(inbox).toEqual([atom('hi')]);
    await expect(c.spawn('os', 'cmd', [])).rejects.toMatchObject({ code: 'NOT_ALLOWED' });
    c.close();
  });

  it('calls still waiting fail with CLOSED when the channel goes', async () => {
    const c = await connect();
    const pending = c.call('m', 'gate', []);
    c.close();
    const err = await pending.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SshRpcError);
    expect((err as SshRpcError).code).toBe('CLOSED');
    gates.shift()?.(atom('x'));
    await expect(c.call('m', 'id', [1])).rejects.toMatchObject({ code: 'CLOSED' });
  });

  it("an answer over the client's frame limit fails the channel before it is buffered", async () => {
    const c = await connect({ maxFrame: 1000 });
    expect(((await c.call('m', 'big', [500])) as Uint8Array).length).toBe(500);
    await expect(c.call('m', 'big', [5000])).rejects.toMatchObject({ code: 'FRAME_TOO_LARGE' });
    c.close();
  });

  it('a channel that sends a malformed term or an oversized frame is closed; another channel of the same connection carries on', async () => {
    const fp = fingerprint(Buffer.from(host.publicLine.split(' ')[1] as string, 'base64'));
    const conn = await SshClientConnection.dial({
      host: '127.0.0.1',
      port: t.port as number,
      user: me.name,
      privateKey: me.privateKey,
      trust: new HostTrust({ fingerprints: { [`[127.0.0.1]:${t.port}`]: fp } }, silentLogger),
      timeoutMs: 3000,
      log: silentLogger,
    });
    const good = SshRpcClient.over([await conn.openSubsystem(SSHRPC_SUBSYSTEM)]);
    for (const garbage of [Buffer.from([0, 0, 0, 2, 131, 255]), Buffer.from([0x7f, 0xff, 0xff, 0xff])]) {
      const bad = await conn.openSubsystem(SSHRPC_SUBSYSTEM);
      const closed = new Promise<void>((r) => bad.setReceiver({ onData: () => {}, onDrain: () => {}, onClose: () => r() }));
      bad.write(garbage);
      await closed;
      expect(await good.call('m', 'id', [atom('alive')])).toBe(atom('alive'));
    }
    good.close();
    conn.close();
  });
});
