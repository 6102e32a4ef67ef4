import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { Node, multicall, rpcCall, rpcMulticall, type NodeEvent, type Process } from '@courier/core';
import { Tuple, atom, type Atom, type Term } from '@courier/term';
import { tcpDist } from '@courier/transport-tcp';
import { compileErl, faultProxy, freePort, randomCookie, uniqueName, type ErlNode, type FaultProxy } from '@courier/testkit';
import { erlNode, erlPeer, fixtures, startEpmd, tools, until, type Epmd } from './harness.js';

/**
 * net_kernel parity against OTP 25: monitor_nodes on `erl` with `nodedown_reason` sees
 * `connection_closed` when the Courier node closes, `net_tick_timeout` when Courier stops ticking
 * (a fault proxy stops forwarding its bytes), `disconnect` when `erl` disconnects it; Courier's
 * monitorNodes sees the same from its side. Also nodes/1 kinds, disconnectNode, the EPMD creation
 * in Courier pids, and rpc/erpc multicall from Courier.
 */
const TICKTIME = 2;

let epmd: Epmd;
let cookie: string;
let erl: ErlNode;
let erlName: Atom;
let erlPort: number;
let nkDir: string;

/** Lines printed by erl from now on, as a cursor. */
function cursor(e: ErlNode): { seen(line: string, ms?: number): Promise<void>; text(): string } {
  const mark = e.stdout.text.length;
  return {
    text: () => e.stdout.text.slice(mark),
    seen: (line, ms = 10_000) => until(() => e.stdout.text.slice(mark).includes(line), ms, `erl to print ${line}\n--- got:\n${e.stdout.text.slice(mark)}`),
  };
}

/** A Courier process subscribed to monitorNodes with `opts`, keeping what it gets. */
function watcher(node: Node, opts?: Parameters<Node['monitorNodes']>[2]): { got: Term[]; proc: Process } {
  const got: Term[] = [];
  let proc!: Process;
  node.spawn(async (self) => {
    proc = self;
    node.monitorNodes(self, true, opts);
    for (;;) got.push(await self.receive());
  });
  return {
    got,
    get proc() {
      return proc;
    },
  };
}

const str = (t: Term[]): string[] => t.map((x) => String(x));

beforeAll(async () => {
  if (!erlPeer.available) return;
  epmd = await startEpmd();
  cookie = randomCookie();
  nkDir = (await compileErl([fileURLToPath(new URL('./fixtures/courier_nk.erl', import.meta.url))], tools)).dir;
  erlPort = await freePort();
  erl = await erlNode(epmd, cookie, {
    eval: [
      'courier_nk:watch("r", [nodedown_reason, {node_type, all}])',
      'courier_nk:watch("plain", none)',
      'courier_nk:watch("hid", [{node_type, hidden}])',
      'courier_nk:watch("map", #{nodedown_reason => true, node_type => all})',
      'io:format("UP~n")',
    ]
      .join(', ')
      .concat('.'),
    args: ['-pa', nkDir, '-kernel', 'net_ticktime', String(TICKTIME), '-kernel', 'inet_dist_listen_min', String(erlPort), '-kernel', 'inet_dist_listen_max', String(erlPort)],
  });
  erlName = atom(erl.node as string);
  await fixtures();
}, 60_000);

afterAll(async () => {
  await erl?.stop();
  await epmd?.stop();
});

describe('monitor_nodes: nodedown reasons on both sides', () => {
  let proxy: FaultProxy;
  let node: Node;

  beforeAll(async () => {
    if (!erlPeer.available) return;
    proxy = await faultProxy({ target: { host: '127.0.0.1', port: erlPort } });
    // Dials every peer at the proxy; listens elsewhere (erl never dials back here).
    node = new Node({
      name: `${uniqueName('nk')}@127.0.0.1`,
      transports: [tcpDist({ cookie, epmd: false, peerPort: proxy.port, listen: { port: 0 }, netTicktime: TICKTIME })],
    });
    await node.start();
  });
  afterAll(async () => {
    await node?.stop();
    await proxy?.close();
  });

  it('erl disconnects Courier: erl says disconnect, Courier connection_closed; types and shapes as OTP', async (ctx) => {
    erlPeer.require(ctx);
    const w = watcher(node, { nodeType: 'all', nodedownReason: true });
    const plain = watcher(node);
    const events: NodeEvent[] = [];
    const sub = node.events$.subscribe((e) => events.push(e));
    const c = cursor(erl);
    expect(await node.connect(erlName)).toBe(true);
    const me = node.name.name;
    await c.seen(`NK r {nodeup,'${me}',[{node_type,hidden}]}`);
    await c.seen(`NK hid {nodeup,'${me}',[{node_type,hidden}]}`);
    await c.seen(`NK map {nodeup,'${me}',#{node_type => hidden}}`);
    // Courier is hidden: a plain (visible-only) subscriber on erl hears nothing, nor here.
    node.spawn(async (self) => {
      await rpcCall(self, erlName, 'erlang', 'disconnect_node', [node.name]);
    });
    await c.seen(`NK r {nodedown,'${me}',[{nodedown_reason,disconnect},{node_type,hidden}]}`);
    await c.seen(`NK map {nodedown,'${me}',#{node_type => hidden,nodedown_reason => disconnect}}`);
    await until(() => w.got.length === 2, 5000, 'Courier nodedown');
    expect(str(w.got)).toEqual([`{nodeup,'${erlName.name}',[{node_type,hidden}]}`, `{nodedown,'${erlName.name}',[{nodedown_reason,connection_closed},{node_type,hidden}]}`]);
    expect(plain.got).toEqual([]);
    expect(c.text()).not.toContain('NK plain');
    const down = events.find((e) => e.type === 'nodedown');
    expect(down).toMatchObject({ type: 'nodedown', node: erlName, reason: atom('connection_closed'), nodeType: 'hidden', hidden: true });
    expect(events[0]).toMatchObject({ type: 'nodeup', nodeType: 'hidden', hidden: true });
    sub.unsubscribe();
  });

  it('Courier stops ticking (proxy holds its bytes): erl says net_tick_timeout, Courier connection_closed', async (ctx) => {
    erlPeer.require(ctx);
    const w = watcher(node, { nodeType: 'hidden', nodedownReason: true });
    const c = cursor(erl);
    expect(await node.connect(erlName)).toBe(true);
    const me = node.name.name;
    await c.seen(`NK r {nodeup,'${me}'`);
    const t0 = Date.now();
    proxy.stall('toTarget');
    try {
      await c.seen(`NK r {nodedown,'${me}',[{nodedown_reason,net_tick_timeout},{node_type,hidden}]}`, 10_000);
      // OTP: down after ticktime of silence, within 1.25 × ticktime plus a tick.
      expect(Date.now() - t0).toBeGreaterThanOrEqual(TICKTIME * 1000 * 0.75);
      await until(() => w.got.length === 2, 5000, 'Courier nodedown');
      expect(String(w.got[1])).toBe(`{nodedown,'${erlName.name}',[{nodedown_reason,connection_closed},{node_type,hidden}]}`);
    } finally {
      proxy.resume('toTarget');
    }
  });

  it('erl stops being heard (proxy holds its bytes): Courier says net_tick_timeout, erl connection_closed', async (ctx) => {
    erlPeer.require(ctx);
    const w = watcher(node, { nodedownReason: true, nodeType: 'all', info: 'map' });
    const c = cursor(erl);
    expect(await node.connect(erlName)).toBe(true);
    const me = node.name.name;
    await c.seen(`NK r {nodeup,'${me}'`);
    proxy.stall('toClient');
    try {
      await until(() => w.got.length === 2, 10_000, 'Courier nodedown');
      expect(String(w.got[1])).toBe(`{nodedown,'${erlName.name}',#{node_type => hidden,nodedown_reason => net_tick_timeout}}`);
      await c.seen(`NK r {nodedown,'${me}',[{nodedown_reason,connection_closed},{node_type,hidden}]}`);
    } finally {
      proxy.resume('toClient');
    }
  });

  it('Courier disconnects: Courier says disconnect, erl connection_closed; disconnectNode answers as OTP', async (ctx) => {
    erlPeer.require(ctx);
    const w = watcher(node, { nodeType: 'all', nodedownReason: true, connectionId: true });
    const c = cursor(erl);
    expect(await node.connect(erlName)).toBe(true);
    const me = node.name.name;
    await c.seen(`NK r {nodeup,'${me}'`);
    expect(node.nodes('hidden')).toEqual([erlName]);
    expect(node.nodes()).toEqual([]);
    expect(node.nodes('connected')).toEqual([erlName]);
    expect(node.nodes(['this', 'hidden'])).toEqual([node.name, erlName]);
    expect(node.disconnectNode(erlName)).toBe(true);
    expect(node.disconnectNode(erlName)).toBe(false);
    expect(node.nodes('connected')).toEqual([]);
    expect(node.nodes('known')).toEqual([node.name, erlName]);
    await c.seen(`NK r {nodedown,'${me}',[{nodedown_reason,connection_closed},{node_type,hidden}]}`);
    await until(() => w.got.length === 2, 5000, 'Courier nodedown');
    const [up, down] = w.got as [Tuple, Tuple];
    const id = ((up.elements[2] as Term[])[0] as Tuple).elements[1];
    expect(typeof id).toBe('number');
    expect(String(down)).toBe(`{nodedown,'${erlName.name}',[{connection_id,${String(id)}},{nodedown_reason,disconnect},{node_type,hidden}]}`);
  });
});

describe('a visible Courier node', () => {
  it('plain subscribers on both sides get {nodeup, N} / {nodedown, N}, twice when subscribed twice; stop is connection_closed on erl', async (ctx) => {
    erlPeer.require(ctx);
    const node = new Node({
      name: `${uniqueName('nkv')}@127.0.0.1`,
      transports: [tcpDist({ cookie, hidden: false, epmd: { port: epmd.port, embedded: false } })],
    });
    await node.start();
    const got: Term[] = [];
    node.spawn(async (self) => {
      node.monitorNodes(self, true);
      node.monitorNodes(self, true);
      node.monitorNodes(self, true, { nodedownReason: true });
      for (;;) got.push(await self.receive());
    });
    const c = cursor(erl);
    try {
      expect(await node.connect(erlName)).toBe(true);
      const me = node.name.name;
      await c.seen(`NK plain {nodeup,'${me}'}`);
      await c.seen(`NK r {nodeup,'${me}',[{node_type,visible}]}`);
      expect(c.text()).not.toContain(`NK hid {nodeup,'${me}'`);
      await until(() => got.length === 3, 5000, 'three nodeups');
      expect(str(got).sort()).toEqual([`{nodeup,'${erlName.name}',[]}`, `{nodeup,'${erlName.name}'}`, `{nodeup,'${erlName.name}'}`]);
      expect(node.nodes()).toEqual([erlName]);
    } finally {
      await node.stop();
    }
    await c.seen(`NK plain {nodedown,'${node.name.name}'}`);
    await c.seen(`NK r {nodedown,'${node.name.name}',[{nodedown_reason,connection_closed},{node_type,visible}]}`);
  });
});

describe('creation from EPMD', () => {
  it('the node adopts the creation of ALIVE2_X_RESP; erl sees it in Courier pids, also in a pid made before start', async (ctx) => {
    erlPeer.require(ctx);
    const node = new Node({ name: `${uniqueName('nkc')}@127.0.0.1`, transports: [tcpDist({ cookie, epmd: { port: epmd.port, embedded: false } })] });
    const before = node.creation;
    const early: Term[] = [];
    const earlyPid = node.spawn(async (self) => {
      early.push(await self.receive());
    });
    await node.start();
    try {
      expect(node.creation).not.toBe(before);
      // A second registration of another name: OTP's epmd hands out creations per node, never 0.
      expect(node.creation).toBeGreaterThan(0);
      let seen: Term | undefined;
      node.spawn(async (self) => {
        seen = await rpcCall(self, erlName, 'courier_nk', 'creation', [self.pid]);
        // The pid made before start still reaches its process from erl.
        await rpcCall(self, erlName, 'erlang', 'send', [earlyPid, atom('hello')]);
      });
      await until(() => seen !== undefined, 10_000, 'erl to read the creation');
      expect(seen).toBe(node.creation);
      expect(node.makeRef().creation).toBe(node.creation);
      await until(() => early.length === 1, 5000, 'the early process to get the message');
      expect(early[0]).toBe(atom('hello'));
      expect(earlyPid.creation).toBe(before);
    } finally {
      await node.stop();
    }
  });
});

describe('multicall from Courier', () => {
  it('erpc:multicall shapes per node, and rpc:multicall {Results, BadNodes}', async (ctx) => {
    erlPeer.require(ctx);
    const node = new Node({ name: `${uniqueName('nkm')}@127.0.0.1`, transports: [tcpDist({ cookie, epmd: { port: epmd.port, embedded: false } })] });
    await node.start();
    const bogus = atom(`${uniqueName('gone')}@127.0.0.1`);
    let out: { ok: Tuple[]; err: Tuple[]; thr: Tuple[]; slow: Tuple[]; rpc: { results: Term[]; badNodes: Atom[] } } | undefined;
    try {
      node.spawn(async (self) => {
        const ok = await multicall(self, [erlName, bogus], 'erlang', 'node', [], 5000);
        const err = await multicall(self, [erlName], 'erlang', 'error', [atom('x')], 5000);
        const thr = await multicall(self, [erlName], 'erlang', 'throw', [atom('t')], 5000);
        const slow = await multicall(self, [erlName], 'timer', 'sleep', [2000], 300);
        const rpc = await rpcMulticall(self, [erlName, bogus, erlName], 'erlang', 'exit', [atom('bye')], 5000);
        out = { ok, err, thr, slow, rpc };
      });
      await until(() => out !== undefined, 20_000, 'the multicalls');
      const o = out as NonNullable<typeof out>;
      expect(str(o.ok)).toEqual([`{ok,'${erlName.name}'}`, '{error,{erpc,noconnection}}']);
      const e = o.err[0] as Tuple;
      expect(String(e.elements[0])).toBe('error');
      expect(String((e.elements[1] as Tuple).elements.slice(0, 2))).toBe('exception,x');
      expect(str(o.thr)).toEqual(['{throw,t}']);
      expect(str(o.slow)).toEqual(['{error,{erpc,timeout}}']);
      expect(str(o.rpc.results)).toEqual(["{badrpc,{'EXIT',bye}}", "{badrpc,{'EXIT',bye}}"]);
      expect(o.rpc.badNodes).toEqual([bogus]);
    } finally {
      await node.stop();
    }
  });
});
