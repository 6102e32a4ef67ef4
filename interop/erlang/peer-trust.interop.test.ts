import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Node, rpcCall, type NodeEvent } from '@courier/core';
import { Pid, Tuple, atom, atoms, termEquals, tuple, type Atom } from '@courier/term';
import { tcpDist, type ErlDistTransport } from '@courier/transport-tcp';
import { randomCookie, uniqueName, type ErlNode } from '@courier/testkit';
import { erlNode, erlPeer, inProcess, startEpmd, type Epmd } from './harness.js';
import { collectingLogger, fakePeer, within, type LogEntry } from './fake-peer.js';
import { startEcho } from '../../examples/echo-node/echo-module.js';

/**
 * Which peers a Courier node trusts, against real `erl` nodes: the allow list (`net_kernel:allow/1`:
 * an erl not on it gets `pang`), `distAutoConnect` (OTP's `dist_auto_connect`: `never` and `once`
 * make no implicit connection), and signals whose sender is not on the peer that sent them (a fake
 * peer sends a LINK on behalf of a third node: that connection is closed and logged, the node goes
 * on serving a real erl).
 */
const PEER = atom('courier_peer');
const OK = atom('ok');

let epmd: Epmd;
let cookie: string;
const nodes: Node[] = [];
const erls: ErlNode[] = [];

beforeAll(async () => {
  if (!erlPeer.available) return;
  epmd = await startEpmd();
  cookie = randomCookie();
}, 30_000);

afterAll(async () => {
  for (const n of nodes) await n.stop();
  for (const e of erls) await e.stop();
  await epmd?.stop();
});

async function courier(opts: { allow?: readonly string[]; distAutoConnect?: 'on' | 'once' | 'never'; name?: string } = {}) {
  const c = collectingLogger();
  const transport: ErlDistTransport = tcpDist({ cookie, epmd: { port: epmd.port, embedded: false } });
  const node = new Node({ name: `${opts.name ?? uniqueName('trust')}@127.0.0.1`, log: c.log, transports: [transport], allow: opts.allow, distAutoConnect: opts.distAutoConnect });
  nodes.push(node);
  await node.start();
  return { node, transport, entries: c.entries };
}

async function erl(opts: { name?: string; eval?: string } = {}): Promise<ErlNode> {
  const e = await erlNode(epmd, cookie, opts);
  erls.push(e);
  return e;
}

/** An erl node whose first line after UP is `PING pong|pang` for `net_adm:ping(target)`. */
const pinging = (target: Atom, name?: string) => erl({ name, eval: `io:format("UP~n"), io:format("PING ~p~n", [net_adm:ping('${target.name}')]).` });

/** An erl node printing `NODEUP Node` for every node that connects to it (hidden ones too). */
const watching = () =>
  erl({
    eval:
      'Self = self(), spawn(fun() -> net_kernel:monitor_nodes(true, [{node_type, all}]), Self ! go, ' +
      '(fun L() -> receive {nodeup, N, _} -> io:format("NODEUP ~p~n", [N]), L(); _ -> L() end end)() end), ' +
      'receive go -> ok end, io:format("UP~n").',
  });

const warned = (entries: LogEntry[], code: string) => entries.some((e) => e.level === 'warn' && e.fields.code === code);

describe('allow list (net_kernel:allow/1)', () => {
  it('an erl not on the list gets pang and cannot be reached; one on the list gets pong', async (ctx) => {
    erlPeer.require(ctx);
    const allowedName = `${uniqueName('allowed')}@127.0.0.1`;
    const { node, entries } = await courier({ allow: [allowedName] });
    const denied = await pinging(node.name);
    expect(await denied.stdout.waitFor('PING', 10_000)).toBe('PING pang');
    expect(warned(entries, 'NOT_ALLOWED')).toBe(true);
    // Outgoing: a connect to a node not on the list fails without a dial.
    const dials = node.pipeline.metrics.dials;
    expect(await node.connect(denied.node as string)).toBe(false);
    expect(node.pipeline.metrics.dials).toBe(dials);
    const allowed = await pinging(node.name, allowedName.slice(0, allowedName.indexOf('@')));
    expect(await allowed.stdout.waitFor('PING', 10_000)).toBe('PING pong');
    expect(node.nodes('all')).toEqual([atom(allowedName)]);
  });
});

describe('distAutoConnect (dist_auto_connect)', () => {
  it('never: a send to an unconnected erl node does not connect; an explicit connect does', async (ctx) => {
    erlPeer.require(ctx);
    const e = await watching();
    const E = atom(e.node as string);
    const { node } = await courier({ distAutoConnect: 'never' });
    node.send({ name: atom('anyone'), node: E }, atom('hello'));
    const got = await inProcess(node, async (self) => {
      self.trapExit = true;
      self.link(new Pid(E, 1, 0, 1));
      return self.receive(undefined, 5000);
    });
    expect(got).toEqual(new Tuple([atoms.EXIT, new Pid(E, 1, 0, 1), atoms.noconnection]));
    expect(node.pipeline.metrics.dials).toBe(0);
    expect(node.nodes('all')).toEqual([]);
    // Explicit: connects, and erl sees this node come up (its first nodeup: none came before).
    expect(await node.connect(E)).toBe(true);
    expect(await e.stdout.waitFor('NODEUP', 10_000)).toBe(`NODEUP '${node.name.name}'`);
    expect(await inProcess(node, (self) => rpcCall(self, E, PEER, atom('ping'), [node.name]))).toBe(atom('pong'));
    // After it goes down, never still means never.
    node.disconnect(E);
    node.send({ name: atom('anyone'), node: E }, atom('again'));
    expect(node.pipeline.metrics.dials).toBe(1);
  });

  it('once: the first send connects; after that connection went down a send does not, an explicit connect does', async (ctx) => {
    erlPeer.require(ctx);
    const e = await erl();
    const E = atom(e.node as string);
    const { node } = await courier({ distAutoConnect: 'once' });
    const up = await inProcess(node, (self) => rpcCall(self, E, PEER, atom('ping'), [node.name]));
    expect(up).toBe(atom('pong'));
    expect(node.pipeline.metrics.dials).toBe(1);
    node.disconnect(E);
    node.send({ name: atom('anyone'), node: E }, atom('hello'));
    expect(node.pipeline.metrics.dials).toBe(1);
    expect(node.nodes('all')).toEqual([]);
    expect(await node.connect(E)).toBe(true);
    expect(node.pipeline.metrics.dials).toBe(2);
  });
});

describe('a signal on behalf of another node (OTP: invalid_message)', () => {
  it('a LINK whose sender is on a third node closes that connection with a warn; the node keeps serving erl', async (ctx) => {
    erlPeer.require(ctx);
    const { node, transport, entries } = await courier();
    startEcho(node);
    const e = await erl();
    const E = atom(e.node as string);
    const echo = () => inProcess(node, (self) => rpcCall(self, E, PEER, atom('echo_by_name'), [node.name, atom('hi')]));
    expect(await echo()).toEqual(tuple(OK, atom('hi')));
    const events: NodeEvent[] = [];
    node.events$.subscribe((ev) => events.push(ev));

    const got: unknown[] = [];
    const target = node.spawn(
      async (self) => {
        for (;;) got.push(await self.receive());
      },
      { trapExit: true },
    );
    const fake = await fakePeer(transport.port as number, node.name, { cookie });
    // A LINK from the fake peer's own process is fine (the echo after it proves it was handled).
    fake.send(new Tuple([1, fake.pid, target]));
    fake.regSend(atom('echo'), tuple(fake.pid, atom('after link')));
    await fake.waitFor((r) => r.payload !== undefined && termEquals(r.payload, tuple(atom('echo'), atom('after link'))), 5000, 'echo after a legitimate link');
    expect(node.info(target)?.linkCount).toBe(1);

    // Now one on behalf of a process of another node.
    const third = new Pid(atom(`${uniqueName('third')}@127.0.0.1`), 9, 0, 1);
    fake.send(new Tuple([1, third, target]));
    await within(fake.closed, 5000, 'the connection of the fake peer to close');
    expect(warned(entries, 'FOREIGN_SENDER')).toBe(true);
    const w = entries.find((x) => x.fields.code === 'FOREIGN_SENDER');
    expect(w?.fields.stack).toBeUndefined();
    // The link from the foreign pid was never made; the legitimate one broke with the connection.
    expect(node.isAlive(target)).toBe(true);
    expect(node.info(target)?.linkCount ?? 0).toBe(0);
    await inProcess(node, () => Promise.resolve());
    expect(got).toEqual([new Tuple([atoms.EXIT, fake.pid, atoms.noconnection])]);
    // Only the fake peer went down; erl's connection carries on.
    expect(events.filter((ev) => ev.type === 'nodedown').map((ev) => ev.node)).toEqual([fake.name]);
    expect(node.nodes('all')).toContain(E);
    expect(await echo()).toEqual(tuple(OK, atom('hi')));
  });
});
