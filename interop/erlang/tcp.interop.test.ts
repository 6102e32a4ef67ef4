import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CallError, RpcError, TIMEOUT, rpcCall, type Node } from '@courier/core';
import { ErlMap, Pid, Ref, Tuple, atom, atoms, termEquals, tuple, type Term } from '@courier/term';
import { randomCookie, uniqueName, type ErlNode } from '@courier/testkit';
import { courierNode, erlNode, erlPeer, inProcess, startEpmd, until, type Epmd } from './harness.js';
import { startEcho } from '../../examples/echo-node/echo-module.js';

/**
 * Courier ⇄ real Erlang/OTP over TCP distribution. Each scenario runs on the Erlang side as an
 * Erlang user would write it (courier_peer.erl), driven by rpc from Courier, and on the Courier
 * side with the TypeScript API.
 */
const ok = atom('ok');
const peer = atom('courier_peer');

let epmd: Epmd;
let cookie: string;
let c: Node;
let e: ErlNode;
let E: ReturnType<typeof atom>;

beforeAll(async () => {
  if (!erlPeer.available) return;
  epmd = await startEpmd();
  cookie = randomCookie();
  c = await courierNode(epmd, cookie);
  startEcho(c);
  e = await erlNode(epmd, cookie);
  E = atom(e.node as string);
}, 60_000);

afterAll(async () => {
  await c?.stop();
  await e?.stop();
  await epmd?.stop();
});

/** Call courier_peer:F(Args) on the Erlang node. */
const onErl = (f: string, args: Term[], timeoutMs = 20_000) => inProcess(c, (self) => rpcCall(self, E, peer, atom(f), args, timeoutMs));

describe('Erlang → Courier', () => {
  it('net_adm:ping answers pong and the node appears in nodes(hidden)', async (ctx) => {
    erlPeer.require(ctx);
    const e2 = await erlNode(epmd, cookie, { eval: `io:format("UP~n"), io:format("PING ~p~n", [net_adm:ping('${c.name.name}')]).` });
    try {
      expect(await e2.stdout.waitFor('PING', 10_000)).toBe('PING pong');
    } finally {
      await e2.stop();
    }
    expect(await onErl('ping', [c.name])).toBe(atom('pong'));
    const seen = (await onErl('nodes_seen', [])) as Tuple;
    expect(seen.elements[1]).toContainEqual(c.name);
  });

  it('{echo, Node} ! {self(), Msg} and Pid ! Msg', async (ctx) => {
    erlPeer.require(ctx);
    expect(await onErl('echo_by_name', [c.name, atom('hi')])).toEqual(tuple(ok, atom('hi')));
    const echoPid = c.whereis(atom('echo')) as Pid;
    expect(termEquals(await onErl('echo_by_pid', [echoPid, Buffer.from('by pid'), 5000]), tuple(ok, Buffer.from('by pid')))).toBe(true);
  });

  it('terms travel and come back equal: maps, big integers, unicode atoms, pids, refs, funs', async (ctx) => {
    erlPeer.require(ctx);
    const ref = c.makeRef();
    const terms: Term[] = [
      new ErlMap([
        [atom('a'), new ErlMap([[Buffer.from('k'), [1, 2, 3]]])],
        [tuple(1, 2), -(2n ** 200n)],
      ]),
      2n ** 64n + 1n,
      -(2n ** 70n),
      atom('こんにちは_ünï'),
      [c.whereis(atom('echo')), ref],
      3.14159,
      tuple(),
      Buffer.alloc(0),
    ];
    for (const t of terms) expect(await onErl('roundtrip_term', [c.name, t])).toBe(true);
    // Erlang's own pids and refs come back equal too.
    const r = await inProcess(c, async (self) => {
      const made = (await rpcCall(self, E, atom('erlang'), atom('make_ref'), [])) as Ref;
      const back = await rpcCall(self, E, atom('erlang'), atom('is_reference'), [made]);
      const pid = (await rpcCall(self, E, atom('erlang'), atom('whereis'), [atom('init')])) as Pid;
      const same = await rpcCall(self, E, atom('erlang'), atom('whereis'), [atom('init')]);
      return [back, termEquals(pid, same)];
    });
    expect(r).toEqual([true, true]);
  });

  it('10k messages arrive in order (Erlang → Courier and Courier → Erlang)', async (ctx) => {
    erlPeer.require(ctx);
    const n = 10_000;
    const got = await inProcess(c, async (self) => {
      self.register(atom('sink_' + process.pid));
      await rpcCall(self, E, peer, atom('send_many'), [tuple(atom('sink_' + process.pid), c.name), n, atom('m')]);
      let i = 0;
      for (;;) {
        const m = (await self.receive()) as Tuple;
        if (m.elements[1] === atom('done')) break;
        if (m.elements[1] !== i + 1) throw new Error(`out of order at ${i}: ${String(m.elements[1])}`);
        i++;
      }
      return i;
    });
    expect(got).toBe(n);
    const name = atom(uniqueName('coll'));
    const result = await inProcess(c, async (self) => {
      await rpcCall(self, E, peer, atom('start_collector'), [name]);
      for (let i = 1; i <= n; i++) self.send(tuple(name, E), tuple(atom('m'), i));
      return rpcCall(self, E, peer, atom('collect'), [name, 10_000]);
    });
    expect(result).toEqual(tuple(n, true));
  });

  // 60 MiB: the largest round number under the default message limit (maxMessage, 64 MiB for the
  // whole frame: the binary and the control message around it).
  it('1 MiB and 60 MiB binaries cross both ways (fragments)', async (ctx) => {
    erlPeer.require(ctx);
    const echoPid = c.whereis(atom('echo')) as Pid;
    expect(await onErl('send_big', [echoPid, 1 << 20, 20_000])).toBe(true);
    expect(await onErl('send_big', [echoPid, 60 << 20, 60_000], 90_000)).toBe(true);
    const big = Buffer.alloc(60 << 20, 7);
    const back = await inProcess(c, async (self) => {
      const erlEcho = await rpcCall(self, E, peer, atom('register_echo'), [atom('erl_echo')]);
      self.send(erlEcho as Pid, tuple(self.pid, big));
      return self.receive(undefined, 60_000);
    });
    expect(back).not.toBe(TIMEOUT);
    expect(Buffer.compare(Buffer.from((back as Tuple).elements[1] as Uint8Array), big)).toBe(0);
  }, 120_000);

  it('rpc:call and erpc:call into Courier: return, exception, undef, timeout', async (ctx) => {
    erlPeer.require(ctx);
    const ce = atom('courier_echo');
    expect(await onErl('rpc', [c.name, ce, atom('add'), [2n ** 70n, 5], 5000])).toBe(2n ** 70n + 5n);
    expect(await onErl('rpc', [c.name, ce, atom('echo'), [[1, 2, 3]], 5000])).toEqual('\u0001\u0002\u0003');
    expect(await onErl('rpc', [c.name, ce, atom('sleep'), [10], 5000])).toBe(ok);
    expect(await onErl('rpc', [c.name, ce, atom('crash'), [atom('oops')], 5000])).toEqual(tuple(atom('badrpc'), tuple(atom('EXIT'), tuple(atom('oops'), []))));
    expect(await onErl('rpc', [c.name, ce, atom('sleep'), [3000], 200])).toEqual(tuple(atom('badrpc'), atom('timeout')));
    expect(await onErl('erpc', [c.name, ce, atom('crash'), [atom('oops')], 5000])).toEqual(tuple(atom('error'), tuple(atom('exception'), atom('oops'), [])));
    const undef = (await onErl('erpc', [c.name, ce, atom('nope'), [], 5000])) as Tuple;
    expect((undef.elements[1] as Tuple).elements[1]).toBe(atom('undef'));
  });

  it('links and monitors from Erlang to Courier processes: normal, crash, kill', async (ctx) => {
    erlPeer.require(ctx);
    const waiter = () =>
      c.spawn(async (self) => {
        const m = await self.receive();
        if (m instanceof Tuple && m.elements[0] === atom('stop')) self.exit(m.elements[1]);
        if (m === atom('crash')) throw new Error('crashed');
      });
    const p1 = waiter();
    expect(await onErl('link_and_wait', [p1, tuple(atom('stop'), atom('normal')), 5000])).toEqual(tuple(atom('exit'), atom('normal')));
    const p2 = waiter();
    const r2 = (await onErl('link_and_wait', [p2, atom('crash'), 5000])) as Tuple;
    expect(r2.elements[0]).toBe(atom('exit'));
    expect((r2.elements[1] as Tuple).elements[0]).toBe(atom('error'));
    const p3 = waiter();
    expect(await onErl('monitor_and_wait', [p3, tuple(atom('stop'), atom('bye')), 5000])).toEqual(tuple(atom('down'), p3, atom('bye')));
    const p4 = c.spawn(async (self) => {
      self.register(atom('named_waiter'));
      const m = await self.receive();
      self.exit(m);
    });
    expect(await onErl('monitor_name_and_wait', [atom('named_waiter'), c.name, atom('gone'), 5000])).toEqual(
      tuple(atom('down'), tuple(atom('named_waiter'), c.name), atom('gone')),
    );
    void p4;
    expect(await onErl('monitor_and_wait', [p1, atom('x'), 5000])).toEqual(tuple(atom('down'), p1, atoms.noproc));
  });
});

describe('Courier → Erlang', () => {
  it('connects, calls rpc into Erlang modules with return, exception and timeout', async (ctx) => {
    erlPeer.require(ctx);
    const r = await inProcess(c, async (self) => {
      const node = await rpcCall(self, E, atom('erlang'), atom('node'), []);
      const err = await rpcCall(self, E, atom('erlang'), atom('error'), [atom('boom')]).catch((x: unknown) => x);
      const thrown = await rpcCall(self, E, atom('erlang'), atom('throw'), [atom('ball')]).catch((x: unknown) => x);
      const slow = await rpcCall(self, E, atom('timer'), atom('sleep'), [2000], 200).catch((x: unknown) => x);
      const missing = await rpcCall(self, atom('nobody@127.0.0.1'), atom('erlang'), atom('node'), [], 3000).catch((x: unknown) => x);
      return { node, err, thrown, slow, missing };
    });
    expect(r.node).toBe(E);
    expect(r.err).toBeInstanceOf(RpcError);
    expect((r.err as RpcError).reason).toBe(atom('boom'));
    expect((r.thrown as RpcError).kind).toBe('throw');
    expect((r.slow as CallError).code).toBe('TIMEOUT');
    expect((r.missing as CallError).code).toBe('NOCONNECTION');
  });

  it('links and monitors to Erlang processes: normal, crash, kill, and exit/2', async (ctx) => {
    erlPeer.require(ctx);
    const r = await inProcess(c, async (self) => {
      self.trapExit = true;
      const spawnWaiter = async () => (await rpcCall(self, E, peer, atom('spawn_waiter'), [])) as Pid;
      const w1 = await spawnWaiter();
      self.link(w1);
      self.send(w1, tuple(atom('stop'), atom('normal')));
      const exit1 = await self.receive(undefined, 5000);
      const w2 = await spawnWaiter();
      const m2 = self.monitor(w2);
      self.send(w2, atom('crash'));
      const down2 = await self.receive(undefined, 5000);
      const w3 = await spawnWaiter();
      const m3 = self.monitor(w3);
      self.exit(w3, atoms.kill);
      const down3 = await self.receive(undefined, 5000);
      const w4 = await spawnWaiter();
      self.link(w4);
      self.exit(w4, atom('custom'));
      const exit4 = await self.receive(undefined, 5000);
      const mName = self.monitor(tuple(atom('no_such_name'), E));
      const downName = await self.receive(undefined, 5000);
      return { w1, exit1, m2, down2, m3, down3, w3, w4, exit4, mName, downName };
    });
    expect(r.exit1).toEqual(tuple(atoms.EXIT, r.w1, atoms.normal));
    const d2 = r.down2 as Tuple;
    expect(d2.elements[0]).toBe(atoms.DOWN);
    expect(termEquals(d2.elements[1], r.m2)).toBe(true);
    expect((d2.elements[4] as Tuple).elements[0]).toBe(atom('crashed'));
    expect((r.down3 as Tuple).elements[4]).toBe(atoms.killed);
    expect(r.exit4).toEqual(tuple(atoms.EXIT, r.w4, atom('custom')));
    expect((r.downName as Tuple).elements[3]).toEqual(tuple(atom('no_such_name'), E));
    expect((r.downName as Tuple).elements[4]).toBe(atoms.noproc);
  });

  it('remote spawn onto Erlang and an Erlang link to a Courier process across spawn', async (ctx) => {
    erlPeer.require(ctx);
    const r = await inProcess(c, async (self) => {
      const [pid, mref] = await self.spawnRemote(E, peer, atom('waiter'), [], { monitor: true });
      self.send(pid, tuple(atom('stop'), atom('spawned_done')));
      const down = await self.receive(undefined, 5000);
      return { pid, mref, down };
    });
    expect(r.pid.node).toBe(E);
    expect((r.down as Tuple).elements[4]).toBe(atom('spawned_done'));
  });
});

describe('failures', () => {
  it('the other node killed: noconnection to links and monitors, nodedown both ways', async (ctx) => {
    erlPeer.require(ctx);
    const e2 = await erlNode(epmd, cookie);
    const E2 = atom(e2.node as string);
    const downs: Term[] = [];
    const sub = c.events$.subscribe((ev) => {
      if (ev.type === 'nodedown' && ev.node === E2) downs.push(ev.node);
    });
    const watcher = inProcess(c, async (self) => {
      self.trapExit = true;
      const w = (await rpcCall(self, E2, peer, atom('spawn_waiter'), [])) as Pid;
      self.link(w);
      self.monitor(w);
      self.monitorNode(E2);
      await rpcCall(self, E2, atom('erlang'), atom('is_process_alive'), [w]);
      self.send(self.pid, atom('armed'));
      const got: Term[] = [];
      while (got.length < 4) {
        const m = await self.receive(undefined, 10_000);
        if (m === TIMEOUT) break;
        got.push(m);
      }
      return got;
    });
    await new Promise((r) => setTimeout(r, 300));
    process.kill(e2.pid, 'SIGKILL');
    const got = await watcher;
    sub.unsubscribe();
    await e2.stop();
    const reasons = got.filter((m) => m instanceof Tuple).map((m) => m.elements.at(-1));
    expect(got).toContain(atom('armed'));
    expect(reasons.filter((x) => x === atoms.noconnection)).toHaveLength(2);
    expect(got).toContainEqual(tuple(atom('nodedown'), E2));
    expect(downs).toEqual([E2]);
  });

  it('a Courier node killed: Erlang sees noconnection on its link', async (ctx) => {
    erlPeer.require(ctx);
    const c2 = await courierNode(epmd, cookie);
    const victim = c2.spawn((self) => self.receive());
    const result = inProcess(c, async (self) => {
      const monitorPid = await rpcCall(self, E, peer, atom('trap_and_link'), [victim, self.pid]);
      await self.receive(undefined, 5000);
      self.send(self.pid, atom('linked'));
      void monitorPid;
      return self.receive((m) => m instanceof Tuple && m.elements[0] === atom('got_exit'), 10_000);
    });
    await new Promise((r) => setTimeout(r, 500));
    await c2.stop();
    const r = (await result) as Tuple;
    expect(r.elements[2]).toBe(atoms.noconnection);
  });

  it('wrong cookie is refused both ways and both nodes carry on', async (ctx) => {
    erlPeer.require(ctx);
    const bad = await courierNode(epmd, 'not-the-cookie');
    try {
      expect(await bad.connect(E)).toBe(false);
      const e3 = await erlNode(epmd, 'also-wrong', { eval: `io:format("UP~n"), io:format("PING ~p~n", [net_adm:ping('${c.name.name}')]).` });
      try {
        expect(await e3.stdout.waitFor('PING', 10_000)).toBe('PING pang');
      } finally {
        await e3.stop();
      }
      expect(await onErl('echo_by_name', [c.name, atom('still here')])).toEqual(tuple(ok, atom('still here')));
    } finally {
      await bad.stop();
    }
  });

  it('simultaneous connect leaves one connection', async (ctx) => {
    erlPeer.require(ctx);
    const c3 = await courierNode(epmd, cookie, { name: uniqueName('zz') });
    const e4 = await erlNode(epmd, cookie, { name: uniqueName('aa') });
    const E4 = atom(e4.node as string);
    try {
      const fromErl = inProcess(c, (self) => rpcCall(self, E4, peer, atom('ping'), [c3.name]));
      const fromCourier = c3.connect(E4);
      expect(await fromCourier).toBe(true);
      expect(await fromErl).toBe(atom('pong'));
      await until(() => c3.nodes('all').filter((n) => n === E4).length === 1, 3000, 'one connection');
      const seen = (await inProcess(c, (self) => rpcCall(self, E4, peer, atom('nodes_seen'), []))) as Tuple;
      expect((seen.elements[1] as Term[]).filter((n) => n === c3.name)).toHaveLength(1);
    } finally {
      await c3.stop();
      await e4.stop();
    }
  });
});

describe('embedded EPMD', () => {
  it('an Erlang node started after Courier registers with Courier\u2019s embedded EPMD', async (ctx) => {
    erlPeer.require(ctx);
    const { freePort } = await import('./harness.js');
    const port = await freePort();
    const { Node } = await import('@courier/core');
    const { tcpDist, names } = await import('@courier/transport-tcp');
    const host = new Node({ name: `${uniqueName('emb')}@127.0.0.1`, transports: [tcpDist({ cookie, epmd: { port } })] });
    await host.start();
    startEcho(host);
    const fake: Epmd = { port, stop: () => Promise.resolve() };
    const late = await erlNode(fake, cookie, { eval: `io:format("UP~n"), io:format("PING ~p~n", [net_adm:ping('${host.name.name}')]).` });
    try {
      expect(await late.stdout.waitFor('PING', 10_000)).toBe('PING pong');
      const listed = await names({ host: '127.0.0.1', port });
      expect(listed.map((x) => x.name)).toContain((late.node as string).split('@')[0]);
      expect(listed.map((x) => x.name)).toContain(host.name.name.split('@')[0]);
    } finally {
      await late.stop();
      await host.stop();
    }
  });
});
