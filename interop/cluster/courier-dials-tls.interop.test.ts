import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCluster, netnsPeer, randomCookie, sslDistOptfile, uniqueName, type Cluster } from '@courier/testkit';
import { erlPeer, hostCerts } from './cluster.js';
import { courierGp, erlGp, type GpNode } from './gp.js';

/**
 * The Courier node dials (erl-dials-Courier is erlang-hosts' TLS case): a Courier node on host a
 * over TLS, checking the dialled node's certificate against the host part of its name
 * (checkHostname), reaches erl nodes on host b named by host name and by address — b's
 * certificate names both (IP: for Courier, DNS:<address> for OTP, see docs/deploy.md) — and erl
 * checks Courier's client certificate against the CA (verify_peer, fail_if_no_peer_cert). A node on
 * host c whose certificate names another host is refused.
 */
const netns = netnsPeer();

let cluster: Cluster | undefined;
let certs: ReturnType<typeof hostCerts> | undefined;
const running: GpNode[] = [];

beforeAll(async () => {
  if (!netns.available || !erlPeer.available) return;
  cluster = await createCluster({ hosts: ['a', 'b', 'c'], subnet: 18 });
  const c = cluster;
  await Promise.all(['a', 'b', 'c'].map((h) => c.host(h).startEpmd()));
  certs = hostCerts(cluster.hosts);
}, 30_000);
afterAll(async () => {
  await Promise.all(running.map((n) => n.stop(3000)));
  await cluster?.teardown();
  if (certs !== undefined) rmSync(certs.certs.dir, { recursive: true, force: true });
});

describe('a Courier node dials erl on another host over TLS', () => {
  it('by host name and by address, the certificate checked against the name; a certificate for another host is refused', async (ctx) => {
    netns.require(ctx);
    erlPeer.require(ctx);
    const c = cluster as Cluster;
    const k = certs as ReturnType<typeof hostCerts>;
    const cookie = randomCookie();
    const optfile = (h: string): string => k.optfile.get(h) as string;
    // c's certificate names some other host: what a node gets when its certificate was made for another machine.
    const wrong = k.certs.issueFor('host-c-wrong', 'DNS:elsewhere.test,IP:10.99.0.1');
    const wrongOptfile = sslDistOptfile(k.certs.dir, 'dist-c-wrong', { cert: wrong.cert, key: wrong.key, ca: k.certs.ca });
    const nodes = await Promise.all([
      courierGp(c.host('a'), `${uniqueName('ct')}@a.cluster.test`, cookie, optfile('a'), true),
      erlGp(c.host('b'), `${uniqueName('byname')}@b.cluster.test`, cookie, optfile('b')),
      erlGp(c.host('b'), `${uniqueName('byaddr')}@${c.host('b').address}`, cookie, optfile('b')),
      erlGp(c.host('c'), `${uniqueName('wrong')}@c.cluster.test`, cookie, wrongOptfile),
    ]);
    running.push(...nodes);
    const [courier, byName, byAddr, wrongName] = nodes;

    for (const e of [byName, byAddr]) {
      expect(await courier.ask(`connect ${e.name}`)).toBe('true');
      // An erpc over the connection Courier dialled; erl lists the Courier node as visible.
      expect(await courier.ask(`call ${e.name} erlang node`)).toBe(`'${e.name}'`);
      expect(await courier.ask(`call ${e.name} erlang nodes`)).toContain(`'${courier.name}'`);
    }
    expect((await courier.ask('nodes')).split(' ')).toEqual(expect.arrayContaining([byName.name, byAddr.name]));
    expect(await courier.ask(`connect ${wrongName.name}`)).toBe('false');
    expect(await courier.ask('nodes')).not.toContain(wrongName.name);
  });
});
