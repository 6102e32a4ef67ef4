import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Node, rpcCall } from '@courier/core';
import { atom, tuple } from '@courier/term';
import { tcpDist } from '@courier/transport-tcp';
import { randomCookie, uniqueName } from '@courier/testkit';
import { startEcho } from '../../examples/echo-node/echo-module.js';
import { erlNode, erlPeer, freePort, inProcess } from './harness.js';

/**
 * EPMD-less distribution (OTP's `-start_epmd false -erl_epmd_port P`): no EPMD anywhere, every
 * node of the cluster listens on the one agreed port, so each needs its own IP (127.0.0.x).
 */
let cookie: string;
const nodes: Node[] = [];

async function epmdless(name: string, host: string, port: number, peerPort = port): Promise<Node> {
  const n = new Node({ name: `${name}@${host}`, transports: [tcpDist({ cookie, epmd: false, listen: { host, port }, peerPort })] });
  await n.start();
  startEcho(n);
  nodes.push(n);
  return n;
}

beforeAll(() => {
  cookie = randomCookie();
});
afterAll(async () => {
  for (const n of nodes) await n.stop();
});

describe('EPMD-less', () => {
  it('two Courier nodes on fixed ports find each other without any EPMD', async () => {
    const [p1, p2] = [await freePort(), await freePort()];
    const a = await epmdless(uniqueName('a'), '127.0.0.1', p1, p2);
    const b = await epmdless(uniqueName('b'), '127.0.0.1', p2, p1);
    const reply = await inProcess(a, async (self) => {
      self.send(tuple(atom('echo'), b.name), tuple(self.pid, atom('over fixed ports')));
      return self.receive(undefined, 5000);
    });
    expect(reply).toEqual(tuple(atom('echo'), atom('over fixed ports')));
    expect(a.nodes('all')).toEqual([b.name]);
    // And the other way, over the same connection.
    const sum = await inProcess(b, (self) => rpcCall(self, a.name, atom('courier_echo'), atom('add'), [40, 2], 5000));
    expect(sum).toBe(42);
  });

  it('a Courier node with nothing listening at peerPort fails to connect, quickly and cleanly', async () => {
    const [p1, dead] = [await freePort(), await freePort()];
    const a = await epmdless(uniqueName('lonely'), '127.0.0.1', p1, dead);
    expect(await a.connect(`nobody@127.0.0.1`)).toBe(false);
  });

  it('OTP 25 started with -start_epmd false -erl_epmd_port P pings a Courier node on P, and Courier dials it back', async (ctx) => {
    erlPeer.require(ctx);
    const port = await freePort();
    // Courier on 127.0.0.2:P and 127.0.0.3:P, erl on 127.0.0.1:P (inet_dist_use_interface).
    const c = await epmdless(uniqueName('c'), '127.0.0.2', port);
    const nowhere = { port: await freePort(), stop: () => Promise.resolve() }; // ERL_EPMD_PORT with nothing behind it
    const e = await erlNode(nowhere, cookie, {
      args: ['-start_epmd', 'false', '-erl_epmd_port', String(port), '-kernel', 'inet_dist_use_interface', '{127,0,0,1}'],
      eval: `io:format("UP~n"), io:format("PING ~p~n", [net_adm:ping('${c.name.name}')]), io:format("ECHO ~p~n", [courier_peer:echo_by_name('${c.name.name}', hi)]).`,
    });
    try {
      expect(await e.stdout.waitFor('PING', 10_000)).toBe('PING pong');
      expect(await e.stdout.waitFor('ECHO', 10_000)).toBe('ECHO {ok,hi}');
      const E = atom(e.node as string);
      const c2 = await epmdless(uniqueName('c2'), '127.0.0.3', port);
      const r = await inProcess(c2, async (self) => {
        const who = await rpcCall(self, E, atom('erlang'), atom('node'), [], 5000);
        const pong = await rpcCall(self, E, atom('net_adm'), atom('ping'), [c.name], 5000);
        return { who, pong };
      });
      expect(r).toEqual({ who: E, pong: atom('pong') });
      expect(c2.nodes('all')).toContain(E);
    } finally {
      await e.stop();
    }
  });
});
