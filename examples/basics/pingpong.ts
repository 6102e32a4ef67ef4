/**
 * Ping-pong between two Courier nodes over one carrier, chosen on the command line:
 *
 *   node --conditions=source --import tsx examples/basics/pingpong.ts tcp|tls|ssh|aemp|memory
 *
 * The program is the same for every carrier: only the configuration given to `buildNode` changes
 * (memory, an in-process carrier without a plugin, is wired by hand). Prints one line per round
 * trip and `ping-pong over <carrier>: 3 round trips` at the end; exits 0.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import { Node, TIMEOUT } from '@courier/core';
import { Tuple, atom, formatErlang, tuple } from '@courier/term';
import { buildNode, validateConfig, type CarrierSection } from '@courier/cli';
import { MemoryNetwork, memoryDist } from '@courier/transport-memory';
import { hasOpenssl, makeTestCerts } from '@courier/testkit';
import { freePort, inProcess } from './util.js';

const ROUNDS = 3;
const carrier = process.argv[2] ?? 'tcp';
const PONG = atom('pong');
const tmp = mkdtempSync(join(tmpdir(), 'courier-pingpong-'));
let certDir: string | undefined;

async function nodes(): Promise<[Node, Node]> {
  const names = ['ping@127.0.0.1', 'pong@127.0.0.1'];
  if (carrier === 'memory') {
    const network = new MemoryNetwork();
    return names.map((name) => new Node({ name, transports: [memoryDist({ network, cookie: 'pingpong' })] })) as [Node, Node];
  }
  const ports = [await freePort(), await freePort()];
  const other = (i: number) => ports[1 - i] as number;
  let sections: CarrierSection[];
  switch (carrier) {
    case 'tcp':
      // EPMD-less: each node listens on a known port and dials its peer's.
      sections = ports.map((port, i) => ({ kind: 'tcp', epmd: false, listen: { host: '127.0.0.1', port }, peerPort: other(i) }));
      break;
    case 'tls': {
      if (!hasOpenssl()) throw new Error('tls needs openssl on PATH to make the example certificates');
      const c = makeTestCerts();
      certDir = c.dir;
      const certs = { certfile: c.node.cert, keyfile: c.node.key, cacertfile: c.ca };
      sections = ports.map((port, i) => ({ kind: 'tls', epmd: false, listen: { host: '127.0.0.1', port }, peerPort: other(i), server: certs, client: certs }));
      break;
    }
    case 'ssh': {
      // Each node's host key is its identity; both trust each other's key under the node name.
      const keys = names.map((n) => ssh2.utils.generateKeyPairSync('ecdsa', { bits: 256, comment: n }));
      const file = (n: string, text: string) => (writeFileSync(join(tmp, n), text, { mode: 0o600 }), join(tmp, n));
      const authorized = file('authorized_keys', keys.map((k) => k.public.trim()).join('\n') + '\n');
      const known = file('known_hosts', keys.map((k, i) => `${names[i]} ${k.public.trim().split(' ').slice(0, 2).join(' ')}`).join('\n') + '\n');
      sections = ports.map((port, i) => ({
        kind: 'ssh',
        hostKey: file(`${i}.key`, keys[i]?.private as string),
        authorizedKeys: { dist: authorized },
        knownHosts: known,
        bind: `127.0.0.1:${port}`,
        peers: { [names[1 - i] as string]: `127.0.0.1:${other(i)}` },
      }));
      break;
    }
    case 'aemp':
      // AnyEvent::MP's protocol: a shared secret, and where the other node listens.
      sections = ports.map((port, i) => ({ kind: 'aemp', secret: 'pingpong', bind: `127.0.0.1:${port}`, peers: { [names[1 - i] as string]: `127.0.0.1:${other(i)}` } }));
      break;
    default:
      throw new Error(`unknown carrier ${carrier}: tcp, tls, ssh, aemp or memory`);
  }
  return names.map((name, i) => buildNode(validateConfig({ node: { name, cookie: 'pingpong' }, carriers: [sections[i] as CarrierSection] }))) as [Node, Node];
}

async function main(): Promise<void> {
  const [a, b] = await nodes();
  await a.start();
  await b.start();
  try {
    // pong: answers {ping, N, From} with {pong, N}.
    b.spawn(
      async (self) => {
        for (;;) {
          const m = await self.receive();
          if (m instanceof Tuple && m.elements[0] === atom('ping')) self.send(m.elements[2] as never, tuple(PONG, m.elements[1]));
        }
      },
      { name: PONG },
    );
    await inProcess(a, async (self) => {
      for (let n = 1; n <= ROUNDS; n++) {
        const t0 = performance.now();
        self.send(new Tuple([PONG, b.name]), tuple(atom('ping'), n, self.pid));
        const r = await self.receive(undefined, 10_000);
        if (r === TIMEOUT) throw new Error(`no pong for ping ${n}`);
        console.log(`${formatErlang(r)} from ${b.name.name} in ${(performance.now() - t0).toFixed(1)} ms`);
      }
    });
    console.log(`ping-pong over ${a.dist.session(b.name)?.carrier ?? carrier}: ${ROUNDS} round trips`);
  } finally {
    await a.stop();
    await b.stop();
    rmSync(tmp, { recursive: true, force: true });
    if (certDir !== undefined) rmSync(certDir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(`pingpong: ${(err as Error).message}`);
  process.exitCode = 1;
});
