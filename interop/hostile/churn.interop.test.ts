import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Node, TIMEOUT, type Process } from '@courier/core';
import { Tuple, atom, type Term } from '@courier/term';
import { tcpDist } from '@courier/transport-tcp';
import { tlsDist } from '@courier/transport-tls';
import { hasOpenssl, makeTestCerts, randomCookie, requirePeer, sslDistOptfile, startErl, uniqueName, type TestCerts } from '@courier/testkit';
import { erlPeer, inProcess, startEpmd, type Epmd } from '../erlang/harness.js';
import { retained, startEchoNode, type CollectedMemory, type EchoNodeProcess } from './echo-node-process.js';
import { memoryLine } from './window-checks.js';

/**
 * Authenticated connections that come and go leave nothing behind in the echo node process, over
 * TCP and over TLS: CYCLES times a Courier node (this process) and a real `erl` each connect,
 * monitor the node's `echo` process by name, make an echo round trip and disconnect (the monitor
 * then fires with noconnection). Afterwards the node, measured after full collections, holds less
 * than CHURN_BOUND more than after the warm-up cycles: sessions, monitors, atom-cache entries, TLS
 * state and timers of a connection are dropped with it (the hostile suites only see connections
 * that never authenticate).
 */
const CYCLES = Number(process.env['COURIER_CHURN_CYCLES'] ?? 200);
/**
 * 10 KiB per cycle at the default 400: a session kept per connection (its reader's 64 KiB buffer,
 * or even its state without one) exceeds it. Measured: −0.2 to +0.7 MiB over TCP (400 to 6,000
 * cycles), +0.1 and +0.8 MiB over TLS (400 and 2,000; RSS after collections +12 and +16 MiB:
 * OpenSSL's state is native memory, outside this figure, but a TLS connection kept would keep its
 * TLSSocket and buffers, inside it); +60 MiB with every carrier kept. (Here the peers close: the
 * node's own graceful close, whose linger timer the hostile suites caught, is theirs to check.)
 */
const CHURN_BOUND = 4 * 2 ** 20;
const WARM_UP_CYCLES = 10;
const ECHO = atom('echo');
const opensslPeer = requirePeer('openssl', hasOpenssl(), 'the openssl command is needed to make test certificates');

/** One cycle from the Courier client: connect, monitor {echo, Node}, echo round trip, disconnect, DOWN. */
async function courierCycle(self: Process, peer: string, i: number): Promise<void> {
  expect(await self.node.connect(peer)).toBe(true);
  const mref = self.monitor({ name: ECHO, node: peer });
  self.send(new Tuple([ECHO, atom(peer)]), new Tuple([self.pid, i]));
  const reply = await self.receive((m: Term) => m instanceof Tuple && m.elements[1] === i, 10_000);
  expect(reply).not.toBe(TIMEOUT);
  expect(self.node.disconnect(peer)).toBe(true);
  const down = await self.receive((m: Term) => m instanceof Tuple && m.elements[1] === mref, 10_000);
  expect(down, 'no DOWN after disconnect').not.toBe(TIMEOUT);
}

interface Setup {
  /** The echo node's arguments after --name and --cookie. */
  readonly nodeArgs: readonly string[];
  readonly erlArgs: readonly string[];
  readonly client: (cookie: string, epmd: Epmd) => Node;
  cleanup(): void;
}

function tcpSetup(): Setup {
  return {
    nodeArgs: [],
    erlArgs: [],
    client: (cookie, epmd) => new Node({ name: `${uniqueName('churnc')}@127.0.0.1`, transports: [tcpDist({ cookie, epmd: { port: epmd.port, embedded: false } })] }),
    cleanup: () => undefined,
  };
}

/** Mutual verification against a test CA: the echo node with `node`'s certificate, both clients with `other`'s. */
function tlsSetup(): Setup {
  const certs: TestCerts = makeTestCerts();
  const optfile = sslDistOptfile(certs.dir, 'churn', { cert: certs.other.cert, key: certs.other.key, ca: certs.ca });
  return {
    nodeArgs: ['--carrier', 'tls', '--tls-cert', certs.node.cert, '--tls-key', certs.node.key, '--tls-cacert', certs.ca, '--tls-verify', 'verify_peer'],
    erlArgs: ['-proto_dist', 'inet_tls', '-ssl_dist_optfile', optfile],
    client: (cookie, epmd) =>
      new Node({
        name: `${uniqueName('churnc')}@127.0.0.1`,
        transports: [
          tlsDist({ cookie, epmd: { port: epmd.port, embedded: false }, tls: { server: { certfile: certs.other.cert, keyfile: certs.other.key, cacertfile: certs.ca } } }),
        ],
      }),
    cleanup: () => rmSync(certs.dir, { recursive: true, force: true }),
  };
}

for (const [carrier, setUp, needs] of [
  ['tcp', tcpSetup, [erlPeer]],
  ['tls', tlsSetup, [erlPeer, opensslPeer]],
] as const) {
  describe(`connections that come and go over ${carrier} (${CYCLES} Courier and ${CYCLES} erl cycles)`, () => {
    let epmd: Epmd | undefined;
    let node: EchoNodeProcess | undefined;
    let client: Node | undefined;
    let setup: Setup | undefined;
    let cookie = '';
    let before: CollectedMemory | undefined;
    let after: CollectedMemory | undefined;
    const need = (ctx: Parameters<typeof erlPeer.require>[0]): void => {
      for (const p of needs) p.require(ctx);
    };

    beforeAll(async () => {
      if (!needs.every((p) => p.available)) return; // the private epmd is OTP's
      epmd = await startEpmd();
      cookie = randomCookie();
      setup = setUp();
      node = await startEchoNode(['--name', `${uniqueName('churn')}@127.0.0.1`, '--cookie', cookie, ...setup.nodeArgs], { ERL_EPMD_PORT: String(epmd.port) });
      client = setup.client(cookie, epmd);
      await client.start();
    }, 60_000);

    afterAll(async () => {
      await client?.stop();
      await node?.stop();
      await epmd?.stop();
      setup?.cleanup();
    });

    /** `n` cycles from a fresh erl: net_adm:ping, monitor {echo, Node}, echo round trip, disconnect_node, DOWN. */
    async function erlCycles(peer: string, n: number): Promise<void> {
      const erl = startErl({
        name: `${uniqueName('churnerl')}@127.0.0.1`,
        cookie,
        env: { ERL_EPMD_PORT: String(epmd?.port) },
        args: [...(setup?.erlArgs ?? [])],
        eval:
          `N = '${peer}', ` +
          `lists:foreach(fun(I) -> pong = net_adm:ping(N), R = erlang:monitor(process, {echo, N}), {echo, N} ! {self(), I}, ` +
          `receive {echo, I} -> ok after 10000 -> exit({no_echo, I}) end, true = erlang:disconnect_node(N), ` +
          `receive {'DOWN', R, _, _, noconnection} -> ok after 10000 -> exit({no_down, I}) end end, lists:seq(1, ${n})), ` +
          `io:format("CHURN done~n").`,
      });
      try {
        await erl.stdout.waitFor('CHURN done', 120_000);
      } finally {
        await erl.stop();
      }
    }

    async function cycles(n: number): Promise<void> {
      const rx = node as EchoNodeProcess;
      await inProcess(client as Node, async (self) => {
        for (let i = 0; i < n; i++) await courierCycle(self, rx.name, i);
      });
      await erlCycles(rx.name, n);
    }

    it('every cycle connects, echoes, disconnects and sees its monitor fire', async (ctx) => {
      need(ctx);
      // Warm up: code paths, the atom table's entries for both clients, V8's caches.
      await cycles(WARM_UP_CYCLES);
      before = await (node as EchoNodeProcess).memory();
      await cycles(CYCLES);
      after = await (node as EchoNodeProcess).memory();
      console.log(`[hostile] churn over ${carrier}: ${memoryLine(before, after)}`);
    }, 300_000);

    it(`the node holds less than ${CHURN_BOUND / 2 ** 20} MiB more than after the warm-up`, (ctx) => {
      need(ctx);
      if (before === undefined || after === undefined) throw new Error('the cycles did not run');
      expect(retained(after) - retained(before), memoryLine(before, after)).toBeLessThan(CHURN_BOUND);
    });
  });
}
