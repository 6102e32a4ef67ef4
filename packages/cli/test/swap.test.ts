import { afterEach, describe, expect, it } from 'vitest';
import { rpcCall, type Node } from '@courier/core';
import { atom } from '@courier/term';
import { inProcess, uniqueName } from '@courier/testkit';
import { buildNode, startEcho, validateConfig, type CarrierSection } from '@courier/cli';
import { makeKey, tempDir } from '../../transport-ssh/test/support/keys.js';
import { freePort } from '../../../interop/erlang/harness.js';

/** The same program on two carriers: only the configuration changes. */
const started: Node[] = [];
afterEach(async () => {
  for (const n of started.splice(0)) await n.stop();
});

async function pair(carrier: (i: number) => CarrierSection): Promise<[Node, Node]> {
  const names = [`${uniqueName('sa')}@127.0.0.1`, `${uniqueName('sb')}@127.0.0.1`];
  const nodes = names.map((name, i) => buildNode(validateConfig({ node: { name, cookie: 'swap' }, carriers: [carrier(i)] })));
  for (const n of nodes) {
    startEcho(n);
    await n.start();
    started.push(n);
  }
  return nodes as [Node, Node];
}

async function callAcross(a: Node, b: Node): Promise<unknown> {
  return inProcess(a, (self) => rpcCall(self, b.name, atom('courier_echo'), atom('add'), [40, 2], 10_000));
}

describe('swapping carriers is a configuration change', () => {
  it('tcp (EPMD-less) and then ssh run the same call', async () => {
    const ports = [await freePort(), await freePort(), await freePort(), await freePort()] as [number, number, number, number];
    const [a1, b1] = await pair((i) => ({ kind: 'tcp', epmd: false, listen: { host: '127.0.0.1', port: ports[i] }, peerPort: ports[1 - i] }));
    expect(await callAcross(a1, b1)).toBe(42);
    expect(a1.dist.session(b1.name)?.carrier).toBe('tcp');

    // SSH: keys are the credentials; each node trusts the other's key under its node name.
    const tmp = tempDir();
    const names = [`${uniqueName('ka')}@127.0.0.1`, `${uniqueName('kb')}@127.0.0.1`];
    const keys = names.map((n) => makeKey(n));
    const authorized = tmp.file('authorized_keys', keys.map((k) => k.publicLine).join('\n') + '\n');
    const known = tmp.file('known_hosts', keys.map((k) => `${k.name} ${k.publicLine.split(' ').slice(0, 2).join(' ')}`).join('\n') + '\n');
    const sections: CarrierSection[] = keys.map((k, i) => ({
      kind: 'ssh',
      hostKey: tmp.file(`${i}.key`, k.privateKey),
      authorizedKeys: { dist: authorized },
      knownHosts: known,
      bind: `127.0.0.1:${ports[2 + i]}`,
      peerPort: ports[3 - i],
    }));
    const nodes = names.map((name, i) => buildNode(validateConfig({ node: { name }, carriers: [sections[i] as CarrierSection] })));
    for (const n of nodes) {
      startEcho(n);
      await n.start();
      started.push(n);
    }
    const [a2, b2] = nodes as [Node, Node];
    expect(await callAcross(a2, b2)).toBe(42);
    expect(a2.dist.session(b2.name)?.carrier).toBe('ssh');
    tmp.cleanup();
  });
});
