import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { Node, RpcError, rpcCall, type Logger } from '@courier/core';
import { Pid, Tuple, atom, atoms, tuple, type Atom, type Term } from '@courier/term';
import { tlsDist, tcpTlsDist, type TlsDistOptions } from '@courier/transport-tls';
import { captureLog, hasOpenssl, makeTestCerts, randomCookie, requirePeer, sslDistOptfile, uniqueName, type ErlNode, type TestCerts } from '@courier/testkit';
import { erlNode, erlPeer, inProcess, startEpmd, until, type Epmd } from './harness.js';
import { startEcho } from '../../examples/echo-node/echo-module.js';

/**
 * Courier ⇄ real Erlang/OTP over TLS distribution (`-proto_dist inet_tls`), mutual
 * authentication with certificates made at test time.
 */
const opensslPeer = requirePeer('openssl', hasOpenssl(), 'the openssl command is needed to make test certificates');
const peer = atom('courier_peer');

let epmd: Epmd;
let certs: TestCerts;
let cookie: string;
let c: Node;
let cLog: ReturnType<typeof captureLog>;
let e: ErlNode;
let E: Atom;

function tlsOpts(cert = certs.node, ca = certs.ca, extra: Partial<TlsDistOptions> = {}): TlsDistOptions {
  return { server: { certfile: cert.cert, keyfile: cert.key, cacertfile: ca }, ...extra };
}

async function tlsNode(opts: TlsDistOptions, o: { cookie?: string; log?: Logger; both?: boolean } = {}): Promise<Node> {
  const make = o.both ? tcpTlsDist : tlsDist;
  const node = new Node({
    name: `${uniqueName('tls')}@127.0.0.1`,
    log: o.log,
    transports: [make({ cookie: o.cookie ?? cookie, epmd: { port: epmd.port, embedded: false }, tls: opts })],
  });
  await node.start();
  return node;
}

function erlTls(name: string, conf: string, evalExpr?: string, cookieOverride?: string): Promise<ErlNode> {
  return erlNode(epmd, cookieOverride ?? cookie, { name, eval: evalExpr, args: ['-proto_dist', 'inet_tls', '-ssl_dist_optfile', conf] });
}

const pingExpr = (target: Node) => `io:format("UP~n"), io:format("PING ~p~n", [net_adm:ping('${target.name.name}')]).`;

beforeAll(async () => {
  if (!erlPeer.available || !opensslPeer.available) return;
  epmd = await startEpmd();
  certs = makeTestCerts();
  cookie = randomCookie();
  cLog = captureLog();
  c = await tlsNode(tlsOpts(), { log: cLog.logger });
  startEcho(c);
  const conf = sslDistOptfile(certs.dir, 'good', { cert: certs.other.cert, key: certs.other.key, ca: certs.ca });
  e = await erlTls(uniqueName('etls'), conf);
  E = atom(e.node as string);
}, 90_000);

afterAll(async () => {
  await c?.stop();
  await e?.stop();
  await epmd?.stop();
});

describe('TLS distribution with real Erlang (mutual authentication)', () => {
  it('Courier → Erlang: connect, rpc, send, monitor', async (ctx) => {
    erlPeer.require(ctx);
    opensslPeer.require(ctx);
    const r = await inProcess(c, async (self) => {
      const node = await rpcCall(self, E, atom('erlang'), atom('node'), [], 15_000);
      const err = await rpcCall(self, E, atom('erlang'), atom('error'), [atom('boom')]).catch((x: unknown) => x);
      const w = (await rpcCall(self, E, peer, atom('spawn_waiter'), [])) as Pid;
      self.monitor(w);
      self.send(w, atom('crash'));
      const down = await self.receive(undefined, 5000);
      return { node, err, down };
    });
    expect(r.node).toBe(E);
    expect((r.err as RpcError).reason).toBe(atom('boom'));
    expect(((r.down as Tuple).elements[4] as Tuple).elements[0]).toBe(atom('crashed'));
    expect(c.dist.session(E)?.carrier).toBe('tls');
  });

  it('Erlang → Courier: ping, {echo, Node} !, rpc, links, 1 MiB and 10k messages', async (ctx) => {
    erlPeer.require(ctx);
    opensslPeer.require(ctx);
    const onErl = (f: string, args: Term[], t = 20_000) => inProcess(c, (self) => rpcCall(self, E, peer, atom(f), args, t));
    expect(await onErl('ping', [c.name])).toBe(atom('pong'));
    expect(await onErl('echo_by_name', [c.name, atom('over_tls')])).toEqual(tuple(atom('ok'), atom('over_tls')));
    expect(await onErl('rpc', [c.name, atom('courier_echo'), atom('add'), [40, 2], 5000])).toBe(42);
    const echo = c.whereis(atom('echo')) as Pid;
    expect(await onErl('send_big', [echo, 1 << 20, 20_000])).toBe(true);
    const w = c.spawn(async (self) => {
      const m = await self.receive();
      self.exit(m);
    });
    expect(await onErl('link_and_wait', [w, atom('tls_bye'), 5000])).toEqual(tuple(atom('exit'), atom('tls_bye')));
    const n = 10_000;
    const name = atom(uniqueName('coll'));
    const result = await inProcess(c, async (self) => {
      await rpcCall(self, E, peer, atom('start_collector'), [name]);
      for (let i = 1; i <= n; i++) self.send(tuple(name, E), tuple(atom('m'), i));
      return rpcCall(self, E, peer, atom('collect'), [name, 15_000]);
    });
    expect(result).toEqual(tuple(n, true));
  });

  it('an Erlang node that starts later pings Courier over TLS 1.3', async (ctx) => {
    erlPeer.require(ctx);
    opensslPeer.require(ctx);
    const conf = sslDistOptfile(certs.dir, 'tls13', { cert: certs.other.cert, key: certs.other.key, ca: certs.ca, versions: ['tlsv1.3'] });
    const e13 = await erlTls(uniqueName('e13'), conf, pingExpr(c));
    try {
      expect(await e13.stdout.waitFor('PING', 20_000)).toBe('PING pong');
    } finally {
      await e13.stop();
    }
  });
});

describe('TLS refusals, each logged, with other connections carrying on', () => {
  async function stillServes(): Promise<void> {
    const r = await inProcess(c, (self) => rpcCall(self, E, peer, atom('echo_by_name'), [c.name, atom('alive')], 10_000));
    expect(r).toEqual(tuple(atom('ok'), atom('alive')));
  }

  it('an Erlang client with an untrusted certificate is refused by Courier', async (ctx) => {
    erlPeer.require(ctx);
    opensslPeer.require(ctx);
    const before = cLog.find('warn').length;
    const conf = sslDistOptfile(certs.dir, 'untrusted-client', { cert: certs.untrusted.cert, key: certs.untrusted.key, ca: certs.ca });
    const bad = await erlTls(uniqueName('ebad'), conf, pingExpr(c));
    try {
      expect(await bad.stdout.waitFor('PING', 20_000)).toBe('PING pang');
    } finally {
      await bad.stop();
    }
    await until(
      () =>
        cLog
          .find('warn')
          .slice(before)
          .some((x) => /certificate/i.test(JSON.stringify(x.fields))),
      5000,
      'a logged refusal',
    );
    await stillServes();
  });

  it('an expired client certificate, and no client certificate under fail_if_no_peer_cert, are refused', async (ctx) => {
    erlPeer.require(ctx);
    opensslPeer.require(ctx);
    const expired = sslDistOptfile(certs.dir, 'expired-client', { cert: certs.expired.cert, key: certs.expired.key, ca: certs.ca });
    const x1 = await erlTls(uniqueName('eexp'), expired, pingExpr(c));
    const nocert = sslDistOptfile(certs.dir, 'nocert-client', { cert: certs.other.cert, key: certs.other.key, ca: certs.ca, clientCert: false });
    const x2 = await erlTls(uniqueName('enoc'), nocert, pingExpr(c));
    try {
      expect(await x1.stdout.waitFor('PING', 20_000)).toBe('PING pang');
      expect(await x2.stdout.waitFor('PING', 20_000)).toBe('PING pang');
    } finally {
      await x1.stop();
      await x2.stop();
    }
    expect(cLog.find('warn').some((x) => /expired/i.test(JSON.stringify(x.fields)))).toBe(true);
    expect(cLog.find('warn').some((x) => /no certificate|fail_if_no_peer_cert/i.test(JSON.stringify(x.fields)))).toBe(true);
    await stillServes();
  });

  it('Courier refuses an untrusted or expired server certificate, and Erlang refuses Courier’s untrusted one', async (ctx) => {
    erlPeer.require(ctx);
    opensslPeer.require(ctx);
    // Courier trusts only the untrusted CA: the real Erlang node's certificate fails verification.
    const log = captureLog();
    const wary = await tlsNode(tlsOpts(certs.node, certs.untrustedCa), { log: log.logger });
    // Courier presents a certificate from the untrusted CA: the Erlang node refuses it.
    const stranger = await tlsNode(tlsOpts(certs.untrusted, certs.ca));
    // Courier presents an expired certificate.
    const stale = await tlsNode(tlsOpts(certs.expired, certs.ca));
    try {
      expect(await wary.connect(E)).toBe(false);
      expect(log.find('warn').some((x) => /certificate/i.test(JSON.stringify(x.fields)))).toBe(true);
      expect(await stranger.connect(E)).toBe(false);
      expect(await stale.connect(E)).toBe(false);
    } finally {
      await wary.stop();
      await stranger.stop();
      await stale.stop();
    }
    await stillServes();
  });

  it('a wrong cookie inside TLS is refused both ways', async (ctx) => {
    erlPeer.require(ctx);
    opensslPeer.require(ctx);
    const wrong = await tlsNode(tlsOpts(), { cookie: 'wrong-cookie' });
    try {
      expect(await wrong.connect(E)).toBe(false);
    } finally {
      await wrong.stop();
    }
    const conf = sslDistOptfile(certs.dir, 'good2', { cert: certs.other.cert, key: certs.other.key, ca: certs.ca });
    const x = await erlTls(uniqueName('ecookie'), conf, pingExpr(c), 'another-wrong-cookie');
    try {
      expect(await x.stdout.waitFor('PING', 20_000)).toBe('PING pang');
    } finally {
      await x.stop();
    }
    await stillServes();
  });

  it('a plain-TCP Erlang node cannot reach a TLS-only Courier node', async (ctx) => {
    erlPeer.require(ctx);
    opensslPeer.require(ctx);
    const plain = await erlNode(epmd, cookie, { eval: pingExpr(c) });
    try {
      expect(await plain.stdout.waitFor('PING', 20_000)).toBe('PING pang');
    } finally {
      await plain.stop();
    }
    await stillServes();
  });
});

describe('TCP and TLS together; certificate reload', () => {
  it('one node serves a plain-TCP and a TLS Erlang node on the same port and name', async (ctx) => {
    erlPeer.require(ctx);
    opensslPeer.require(ctx);
    const both = await tlsNode(tlsOpts(), { both: true });
    const conf = sslDistOptfile(certs.dir, 'both', { cert: certs.other.cert, key: certs.other.key, ca: certs.ca });
    const viaTls = await erlTls(uniqueName('eboth'), conf, pingExpr(both));
    const viaTcp = await erlNode(epmd, cookie, { eval: pingExpr(both) });
    try {
      expect(await viaTls.stdout.waitFor('PING', 20_000)).toBe('PING pong');
      expect(await viaTcp.stdout.waitFor('PING', 20_000)).toBe('PING pong');
      expect(both.dist.session(atom(viaTls.node as string))?.carrier).toBe('tls');
      expect(both.dist.session(atom(viaTcp.node as string))?.carrier).toBe('tcp');
    } finally {
      await viaTls.stop();
      await viaTcp.stop();
      await both.stop();
    }
  });

  it('dials TLS or TCP per peer by a name pattern (layerFor)', async (ctx) => {
    erlPeer.require(ctx);
    opensslPeer.require(ctx);
    const tlsName = uniqueName('secure');
    const conf = sslDistOptfile(certs.dir, 'dialed', { cert: certs.other.cert, key: certs.other.key, ca: certs.ca });
    const viaTls = await erlTls(tlsName, conf);
    const viaTcp = await erlNode(epmd, cookie);
    const mixed = new Node({
      name: `${uniqueName('mixed')}@127.0.0.1`,
      transports: [tcpTlsDist({ cookie, epmd: { port: epmd.port, embedded: false }, tls: tlsOpts(), layerFor: (p) => (/^secure_/.test(p.name) ? 'tls' : 'tcp') })],
    });
    await mixed.start();
    try {
      expect(await mixed.connect(atom(viaTls.node as string))).toBe(true);
      expect(await mixed.connect(atom(viaTcp.node as string))).toBe(true);
      expect(mixed.dist.session(atom(viaTls.node as string))?.carrier).toBe('tls');
      expect(mixed.dist.session(atom(viaTcp.node as string))?.carrier).toBe('tcp');
    } finally {
      await mixed.stop();
      await viaTls.stop();
      await viaTcp.stop();
    }
  });

  it('checkHostname refuses a server certificate that does not name the host; a CRL revokes a certificate', async (ctx) => {
    opensslPeer.require(ctx);
    // A certificate from the trusted CA that names another host only.
    const elsewhere = certs.issueFor('elsewhere', 'DNS:elsewhere.example');
    const server = await tlsNode(tlsOpts(elsewhere));
    const strict = await tlsNode(tlsOpts(certs.node, certs.ca, { checkHostname: true }));
    const lax = await tlsNode(tlsOpts(certs.node, certs.ca));
    try {
      expect(await strict.connect(server.name)).toBe(false);
      expect(await lax.connect(server.name)).toBe(true);
    } finally {
      await strict.stop();
      await lax.stop();
      await server.stop();
    }
    // Revoke `other` and give the CRL to a server: a client presenting `other` is refused.
    const crl = certs.revoke(certs.other.cert);
    const guarded = await tlsNode({ server: { certfile: certs.node.cert, keyfile: certs.node.key, cacertfile: certs.ca, crlfile: crl } });
    const revoked = await tlsNode(tlsOpts(certs.other));
    const fine = await tlsNode(tlsOpts(certs.issueFor('fresh', 'DNS:localhost,IP:127.0.0.1')));
    try {
      expect(await revoked.connect(guarded.name)).toBe(false);
      expect(await fine.connect(guarded.name)).toBe(true);
    } finally {
      await revoked.stop();
      await fine.stop();
      await guarded.stop();
    }
  });

  it('new connections use a renewed certificate after the files change, without a restart', async (ctx) => {
    opensslPeer.require(ctx);
    const live = { cert: join(certs.dir, 'live.pem'), key: join(certs.dir, 'live.key') };
    copyFileSync(certs.node.cert, live.cert);
    copyFileSync(certs.node.key, live.key);
    const n = await tlsNode(tlsOpts(live));
    const port = (await import('@courier/transport-tcp')).portPlease;
    const entry = await port({ host: '127.0.0.1', port: epmd.port }, n.name.name.split('@')[0] as string);
    const serial = () =>
      new Promise<string>((resolve, reject) => {
        const s = tlsConnect({ host: '127.0.0.1', port: entry!.port, rejectUnauthorized: false, cert: undefined }, () => {
          resolve(s.getPeerCertificate().serialNumber);
          s.destroy();
        });
        s.once('error', reject);
      });
    try {
      const first = await serial();
      const renewed = certs.issue('renewed');
      copyFileSync(renewed.key, live.key);
      copyFileSync(renewed.cert, live.cert);
      let now = first;
      await until(() => now !== first, 5000, 'the renewed certificate').catch(() => undefined);
      for (let i = 0; i < 50 && now === first; i++) {
        await new Promise((r) => setTimeout(r, 100));
        now = await serial();
      }
      expect(now).not.toBe(first);
    } finally {
      await n.stop();
    }
  });

  it('refuses to start a TLS listener without a certificate, saying what to pass', (ctx) => {
    opensslPeer.require(ctx);
    expect(() => tlsDist({ cookie: 'x', tls: { server: { verify: 'verify_peer' } } })).toThrow(/cacertfile/);
    expect(() => tlsDist({ cookie: 'x', tls: { client: { cacertfile: certs.ca } } })).toThrow(/needs a certificate.*--tls-cert/);
  });
});

void atoms;
