import { Node, silentLogger, type Carrier } from '@courier/core';
import { HarnessNodes, silentTcpPeer, type CarrierHarness } from '@courier/carrier-compliance';
import { AuthorizedKeys, SshClientConnection, SshDaemon, SshChannelCarrier, HostTrust, fingerprint, sshDistHandshake, sshRpc, type SshTransport } from '@courier/transport-ssh';
import { authorized, makeKey, type TestKey } from './keys.js';

const PIPE = 'pipe@test.invalid';

function blobOf(k: TestKey): Buffer {
  return Buffer.from(k.publicLine.split(' ')[1] as string, 'base64');
}

/** Two carriers over one real SSH channel (ssh2 client ↔ Courier's daemon on loopback). */
async function sshPair(keys: { server: TestKey; client: TestKey }, track: (c: Carrier) => void, closers: Array<() => Promise<void> | void>): Promise<readonly [Carrier, Carrier]> {
  let accepted!: (c: Carrier) => void;
  const server = new Promise<Carrier>((r) => (accepted = r));
  const daemon = new SshDaemon({
    hostKeys: [keys.server.privateKey],
    authorizedKeys: () => new Map([['pipe', authorized(keys.client)]]),
    subsystems: new Map([[PIPE, { role: 'pipe', handler: (ch, ctx) => accepted(new SshChannelCarrier(ch, ctx.remote)) }]]),
    log: silentLogger,
  });
  const port = await daemon.listen('127.0.0.1', 0);
  const conn = await SshClientConnection.dial({
    host: '127.0.0.1',
    port,
    user: keys.client.name,
    privateKey: keys.client.privateKey,
    trust: new HostTrust({ fingerprints: { [`[127.0.0.1]:${port}`]: fingerprint(blobOf(keys.server)) } }, silentLogger),
    timeoutMs: 5000,
    log: silentLogger,
  });
  closers.push(
    () => conn.close(),
    () => daemon.close(),
  );
  const client = await conn.openSubsystem(PIPE);
  const pair = [client, await server] as const;
  pair.forEach(track);
  return pair;
}

/**
 * The SSH carrier as the compliance suite sees it. Every node gets its own key pair; the suite's
 * cookies are trust domains: a node's authorized keys hold the keys of the nodes that share its
 * cookie, while every host key is pinned everywhere, so a "wrong cookie" is refused by the daemon
 * at login (HandshakeError NOT_ALLOWED at the dialer, a NOT_ALLOWED warning at the daemon).
 */
export function sshHarness(): CarrierHarness {
  const registry = new HarnessNodes<SshTransport>();
  const members: Array<{ key: TestKey; cookie: string; t: SshTransport }> = [];
  const peers: Record<string, string> = {};
  const fingerprints: Record<string, string> = {};
  const carriers: Carrier[] = [];
  const closers: Array<() => Promise<void> | void> = [];
  const silent: Array<{ close(): Promise<void> }> = [];
  return {
    carrierPair: () => sshPair({ server: makeKey('server@localhost'), client: makeKey('client@localhost') }, (c) => carriers.push(c), closers),
    handshakePair(o) {
      return {
        initiator: sshDistHandshake({ role: 'initiator', self: o.initiator, peer: o.acceptor, creation: 1, hidden: false, cookie: o.initiatorCookie }),
        acceptor: sshDistHandshake({ role: 'acceptor', self: o.acceptor, identity: o.initiator.name, creation: 2, hidden: false, cookie: o.acceptorCookie, arbiter: o.arbiter }),
      };
    },
    async makeNodes(names, o) {
      const made: Node[] = [];
      for (const name of names) {
        const key = makeKey(name);
        const cookie = o.cookies?.[name] ?? o.cookie;
        fingerprints[name] = fingerprint(blobOf(key));
        const t = sshRpc({
          hostKey: key.privateKey,
          authorizedKeys: { dist: AuthorizedKeys.parse('') },
          fingerprints,
          peers,
          listen: { host: '127.0.0.1' },
          handshakeTimeoutMs: o.handshakeTimeoutMs,
        });
        members.push({ key, cookie, t });
        const node = await registry.start(name, t, o.log);
        peers[name] = `127.0.0.1:${t.port}`;
        made.push(node);
      }
      for (const m of members) m.t.setAuthorizedKeys({ dist: authorized(...members.filter((x) => x.cookie === m.cookie).map((x) => x.key)) });
      return made;
    },
    transportOf: (node) => registry.transportOf(node),
    async silentPeer(name) {
      const peer = await silentTcpPeer();
      peers[name] = `127.0.0.1:${peer.port}`;
      silent.push(peer);
    },
    openConnections: () => registry.all().reduce((n, t) => n + t.dialedConnections, 0),
    async teardown() {
      await registry.stopAll();
      for (const c of carriers) c.abort();
      for (const c of closers) await c();
      for (const p of silent) await p.close();
    },
  };
}
