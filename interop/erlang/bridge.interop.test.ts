import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Node, TIMEOUT, rpcCall, type Process } from '@courier/core';
import { Pid, Tuple, atom, formatErlang, type Term } from '@courier/term';
import { aemp } from '@courier/transport-aemp';
import { randomCookie, uniqueName, type ErlNode } from '@courier/testkit';
import { buildNode, startBridge, validateConfig, type Bridge } from '@courier/cli';
import { erlNode, erlPeer, freePort, inProcess, startEpmd, type Epmd } from './harness.js';

/**
 * The bridge (docs/bridge.md): a real `erl` node, a Courier AEMP node speaking the Perl dialect
 * (extended: false, so it sees what a Perl node would), and a Courier bridge node on both.
 */
let epmd: Epmd;
let e: ErlNode;
let bridgeNode: Node;
let bridge: Bridge;
let peer: Node;
let peerId: string;
const secret = 'bridge-secret';

beforeAll(async () => {
  if (!erlPeer.available) return;
  epmd = await startEpmd();
  const cookie = randomCookie();
  e = await erlNode(epmd, cookie);
  const [bridgePort, peerPort] = [await freePort(), await freePort()];
  const bridgeName = `${uniqueName('bridge')}@127.0.0.1`;
  peerId = uniqueName('aemp-peer');
  bridgeNode = buildNode(
    validateConfig({
      node: { name: bridgeName, cookie },
      carriers: [
        { kind: 'tcp', epmd: { port: epmd.port, embedded: false } },
        { kind: 'aemp', secret, bind: `127.0.0.1:${bridgePort}`, peers: { [peerId]: `127.0.0.1:${peerPort}` }, extended: false },
      ],
    }),
    process.env['BRIDGE_DEBUG'] ? { log: (await import('pino')).default({ level: 'debug' }, (await import('pino')).default.destination(2)) } : {},
  );
  await bridgeNode.start();
  bridge = startBridge(bridgeNode);
  peer = new Node({
    name: peerId,
    transports: [aemp({ secret, binds: [`127.0.0.1:${peerPort}`], peers: { [bridgeName]: [`127.0.0.1:${bridgePort}`] }, extended: false })],
    log: process.env['BRIDGE_DEBUG'] ? (await import('pino')).default({ level: 'trace' }, (await import('pino')).default.destination(2)) : undefined,
  });
  await peer.start();
}, 60_000);

afterAll(async () => {
  bridge?.stop();
  await peer?.stop();
  await bridgeNode?.stop();
  await e?.stop();
  await epmd?.stop();
});

const erl = () => atom(e.node as string);
const bin = (s: string) => Buffer.from(s);
const callErl = (fun: string, args: Term[]) => inProcess(bridgeNode, (self) => rpcCall(self, erl(), atom('courier_peer'), atom(fun), args, 15_000));
const waitFor = async (self: Process, ms = 10_000): Promise<Term> => {
  const m = await self.receive(undefined, ms);
  if (m === TIMEOUT) throw new Error('timed out');
  return m;
};

describe('Erlang ⇄ AEMP bridge', () => {
  it('an Erlang process sends to an AEMP port and gets the answer', async (ctx) => {
    erlPeer.require(ctx);
    // The AEMP side, as a Perl echo port: [ReplyPort, @args] → snd ReplyPort, "got", @args.
    peer.spawn(
      async (self) => {
        for (;;) {
          const m = (await self.receive()) as Term[];
          self.send(m[0] as string, ['got', ...m.slice(1)]);
        }
      },
      { name: atom('echo') },
    );
    const r = await callErl('bridge_call', [bridgeNode.name, bin(`${peerId}#echo`), atom('hello'), 10_000]);
    // {self(), hello} crossed as [proxy port id, "hello"]; the answer ["got", "hello"] came back as a tuple of binaries.
    expect(formatErlang(r)).toBe('{ok,{<<"got">>,<<"hello">>}}');
  });

  it('an AEMP port sends to an Erlang registered name and gets the answer', async (ctx) => {
    erlPeer.require(ctx);
    const name = uniqueName('aecho');
    await callErl('register_aemp_echo', [atom(name), bridgeNode.name]);
    const got = await inProcess(peer, async (self) => {
      self.register(atom('rep'));
      self.send(`${bridgeNode.name.name}#erlang`, [name, e.node, `${peerId}#rep`, 'hi']);
      return waitFor(self);
    });
    expect(got).toEqual(['echo', 'hi']);
  });

  it('an Erlang monitor on an AEMP port (through its proxy pid) gets DOWN when the port dies', async (ctx) => {
    erlPeer.require(ctx);
    peer.spawn(
      async (self) => {
        const m = await self.receive();
        if (process.env['BRIDGE_DEBUG']) console.log('worker got', m);
        self.exit(atom('boom'));
      },
      { name: atom('worker') },
    );
    const r = await inProcess(bridgeNode, async (self) => {
      await rpcCall(self, erl(), atom('courier_peer'), atom('bridge_monitor'), [bridgeNode.name, bin(`${peerId}#worker`), self.pid], 10_000);
      const monitoring = (await waitFor(self)) as Tuple;
      expect(monitoring.elements[0]).toBe(atom('monitoring'));
      expect(monitoring.elements[1]).toBeInstanceOf(Pid);
      expect((monitoring.elements[1] as Pid).node).toBe(bridgeNode.name);
      // Told over the bridge's AEMP connection, after the proxy's mon1: no race with the monitor.
      self.send(`${peerId}#worker`, 'stop');
      return waitFor(self);
    });
    // Perl's kil0 carries the reason as a string; it reaches Erlang as a binary.
    expect(formatErlang(r)).toBe('{down,<<"boom">>}');
  });

  it('an AEMP monitor on an Erlang pid (through its proxy port) fires when the process exits', async (ctx) => {
    erlPeer.require(ctx);
    const down = inProcess(peer, async (self) => {
      self.register(atom('watcher'));
      const hello = (await waitFor(self)) as Term[];
      expect(hello[0]).toBe('hello');
      const port = hello[1] as string;
      expect(port.startsWith(`${bridgeNode.name.name}#~`)).toBe(true);
      const [nodeid, name] = [port.slice(0, port.indexOf('#')), port.slice(port.indexOf('#') + 1)];
      const ref = self.monitor({ name, node: nodeid });
      self.send(port, 'die');
      const d = (await waitFor(self)) as Tuple;
      expect(d.elements[0]).toBe(atom('DOWN'));
      expect(d.elements[1]).toBe(ref);
      return d.elements[4];
    });
    await new Promise((r) => setTimeout(r, 50));
    await callErl('bridge_hello_then_exit', [bridgeNode.name, bin(`${peerId}#watcher`)]);
    expect(await down).toBe('bye');
  });
});
