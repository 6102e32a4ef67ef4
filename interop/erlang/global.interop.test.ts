import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rpcCall, type Node, type Process } from '@courier/core';
import { erlGlobal, type ErlGlobal } from '@courier/erl-dist';
import { Pid, Tuple, atom, atoms, termEquals, tuple, type Atom, type Term } from '@courier/term';
import { compileErl, randomCookie, uniqueName, type ErlNode } from '@courier/testkit';
import { courierNode, erlNode, erlPeer, inProcess, startEpmd, tools, until, type Epmd } from './harness.js';

/**
 * A visible Courier node in OTP 25's `global`: three real `erl` nodes and two visible Courier
 * nodes — `cg_…` sorts before the erl nodes and `zg_…` after them, so conflicts are resolved once
 * by Courier and once by Erlang — and a hidden Courier node that stays out of it. The Erlang side
 * runs courier_global.erl, what an Erlang user of global writes.
 */
const G = atom('courier_global');

let epmd: Epmd;
let cookie: string;
let beams: string;
let e1: ErlNode, e2: ErlNode, e3: ErlNode;
let E1: Atom, E2: Atom, E3: Atom;
let c1: Node, c2: Node;
let g1: ErlGlobal, g2: ErlGlobal;

const onErl = (E: Atom, f: string, args: Term[], timeoutMs = 30_000): Promise<Term> => inProcess(c1, (self) => rpcCall(self, E, G, atom(f), args, timeoutMs));
const erlGlobalCall = (E: Atom, f: string, args: Term[]): Promise<Term> => inProcess(c1, (self) => rpcCall(self, E, atom('global'), atom(f), args, 30_000));

/** Every node of the cluster sees `name` at `pid` (or nowhere, for undefined). */
async function seenEverywhere(name: Term, pid: Pid | undefined, ms = 15_000): Promise<void> {
  const want: Term = pid ?? atoms.undefined;
  const end = Date.now() + ms;
  for (;;) {
    const onErls = (await onErl(E1, 'where_all', [[E1, E2, E3], name])) as Tuple[];
    const ok =
      onErls.every((x) => termEquals(x.elements[1], want)) && termEquals(g1.whereis(name) ?? atoms.undefined, want) && termEquals(g2.whereis(name) ?? atoms.undefined, want);
    if (ok) return;
    if (Date.now() > end) throw new Error(`${String(name)}: erl ${String(onErls)}, courier ${String(g1.whereis(name))} ${String(g2.whereis(name))}; wanted ${String(want)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A Courier process answering `{From, M}` with `{echo, M}` until told `stop`. */
function echoProc(node: Node): Pid {
  return node.spawn(async (self) => {
    for (;;) {
      const m = await self.receive();
      if (m === atom('stop')) return;
      if (m instanceof Tuple && m.elements[0] instanceof Pid) self.send(m.elements[0], tuple(atom('echo'), m.elements[1]));
    }
  });
}

async function syncAll(): Promise<void> {
  for (const E of [E1, E2, E3]) expect(((await onErl(E, 'sync', [0])) as Tuple).elements[0]).toBe(atoms.ok);
  await g1.sync();
  await g2.sync();
}

beforeAll(async () => {
  if (!erlPeer.available) return;
  epmd = await startEpmd();
  cookie = randomCookie();
  beams = (await compileErl([fileURLToPath(new URL('./fixtures/courier_global.erl', import.meta.url))], tools)).dir;
  const args = ['-pa', beams];
  [e2, e3] = await Promise.all([erlNode(epmd, cookie, { args }), erlNode(epmd, cookie, { args })]);
  E2 = atom(e2.node as string);
  E3 = atom(e3.node as string);
  // e1 joins e2 and e3 first: an Erlang cluster of three, in sync, before Courier comes.
  e1 = await erlNode(epmd, cookie, { args, eval: `pong = net_adm:ping('${E2.name}'), pong = net_adm:ping('${E3.name}'), ok = global:sync(), io:format("UP~n").` });
  E1 = atom(e1.node as string);
  c1 = await courierNode(epmd, cookie, { name: uniqueName('cg'), hidden: false });
  c2 = await courierNode(epmd, cookie, { name: uniqueName('zg'), hidden: false });
  g1 = erlGlobal(c1);
  g2 = erlGlobal(c2);
}, 90_000);

afterAll(async () => {
  await c1?.stop();
  await c2?.stop();
  await Promise.all([e1?.stop(), e2?.stop(), e3?.stop()]);
  await epmd?.stop();
});

describe('a visible Courier node in global', () => {
  it('joins through one erl and is connected to every node (connect_all); global:sync() returns ok everywhere', async (ctx) => {
    erlPeer.require(ctx);
    expect(await c1.connect(E1)).toBe(true);
    expect(await c2.connect(E3)).toBe(true);
    await until(() => [E1, E2, E3].every((E) => c1.nodes('visible').includes(E) && c2.nodes('visible').includes(E)), 20_000, 'the Courier nodes connected to every erl');
    await until(() => c1.nodes('visible').includes(c2.name), 20_000, 'the Courier nodes connected to each other');
    await syncAll();
    for (const E of [E1, E2, E3]) {
      const seen = (await inProcess(c1, (self) => rpcCall(self, E, atom('erlang'), atom('nodes'), []))) as Atom[];
      expect(seen).toEqual(expect.arrayContaining([c1.name, c2.name]));
    }
  });

  it('names registered on either side are seen on every node, and global:send reaches them', async (ctx) => {
    erlPeer.require(ctx);
    const p = echoProc(c1);
    expect(await g1.register(atom('c_echo'), p)).toBe(true);
    await seenEverywhere(atom('c_echo'), p);
    const [yes, w] = ((await onErl(E2, 'register_waiter', [atom('e_waiter')])) as Tuple).elements as [Term, Pid];
    expect(yes).toBe(atom('yes'));
    await seenEverywhere(atom('e_waiter'), w);
    // global:send from Erlang to the Courier process, and from Courier to the Erlang one.
    expect(await onErl(E3, 'send_and_wait', [atom('c_echo'), atom('hi'), 5000])).toEqual(tuple(atom('echo'), atom('hi')));
    const pong = await inProcess(c2, async (self: Process) => {
      g2.send(atom('e_waiter'), tuple(self.pid, atom('ping')));
      return self.receive(undefined, 5000);
    });
    expect(pong).toEqual(tuple(atom('pong'), w));
    // Taken names are refused on both sides.
    expect(await g2.register(atom('e_waiter'), echoProc(c2))).toBe(false);
    expect(((await onErl(E1, 'register_waiter', [atom('c_echo')])) as Tuple).elements[0]).toBe(atom('no'));
  });

  it('a name goes when its process exits, when it is unregistered, and when its node goes', async (ctx) => {
    erlPeer.require(ctx);
    const p = echoProc(c1);
    expect(await g1.register(atom('c_short'), p)).toBe(true);
    await seenEverywhere(atom('c_short'), p);
    c1.send(p, atom('stop'));
    await seenEverywhere(atom('c_short'), undefined);
    const q = echoProc(c2);
    expect(await g2.register(atom('c_unreg'), q)).toBe(true);
    await seenEverywhere(atom('c_unreg'), q);
    await g2.unregister(atom('c_unreg'));
    await seenEverywhere(atom('c_unreg'), undefined);
    expect(await erlGlobalCall(E1, 'unregister_name', [atom('e_waiter')])).toBeDefined();
    await seenEverywhere(atom('e_waiter'), undefined);
  });

  it('global:trans excludes across Erlang and Courier (a counter on Courier, incremented under the lock from two erls and Courier)', async (ctx) => {
    erlPeer.require(ctx);
    const res = atom('courier_counter');
    let value = 0;
    const owner = c1.spawn(async (self) => {
      for (;;) {
        const m = (await self.receive()) as Tuple;
        if (m.elements[0] === atom('get')) self.send(m.elements[0 + 1] as Pid, tuple(atom('value'), value));
        else if (m.elements[0] === atom('set')) value = m.elements[1] as number;
      }
    });
    const n = 15;
    const fromCourier = inProcess(c2, async (self) => {
      for (let i = 0; i < n; i++) {
        const r = await g2.trans(self, { resource: res, requester: self.pid }, async () => {
          self.send(owner, tuple(atom('get'), self.pid));
          const v = (await self.receive((x) => x instanceof Tuple && x.elements[0] === atom('value'))) as Tuple;
          await self.sleep(1);
          self.send(owner, tuple(atom('set'), (v.elements[1] as number) + 1));
        });
        expect(r).not.toBe('aborted');
      }
    });
    await Promise.all([onErl(E1, 'trans_counter', [owner, res, n], 120_000), onErl(E2, 'trans_counter', [owner, res, n], 120_000), fromCourier]);
    await until(() => value === 3 * n, 2000, `the counter at ${3 * n} (it is ${value}: an increment was lost, so the lock did not exclude)`);
  }, 180_000);

  it('a lock held on Erlang blocks Courier (retries 0: aborted), and one held by Courier blocks Erlang', async (ctx) => {
    erlPeer.require(ctx);
    const res = atom('courier_lock');
    const [set, holder] = ((await onErl(E3, 'hold_lock', [tuple(res, atom('erl_side')), 10_000])) as Tuple).elements as [Term, Pid];
    expect(set).toBe(true);
    const aborted = await inProcess(c1, (self) => g1.trans(self, { resource: res, requester: self.pid }, () => 'ran', undefined, 0));
    expect(aborted).toBe('aborted');
    await onErl(E3, 'release', [holder]);
    const ran = await inProcess(c1, (self) =>
      g1.trans(self, { resource: res, requester: self.pid }, async () => {
        expect(await onErl(E2, 'try_lock', [tuple(res, atom('erl_again'))])).toBe(false);
        return 'ran';
      }),
    );
    expect(ran).toBe('ran');
    expect(await onErl(E2, 'try_lock', [tuple(res, atom('erl_again'))])).toBe(true);
  });

  it('a name registered on both sides of a partition is resolved as OTP resolves it when the partition heals (Courier resolving, then Erlang resolving)', async (ctx) => {
    erlPeer.require(ctx);
    // c1 leaves quietly (global:disconnect/0): the erl nodes stay connected to each other and to c2.
    g1.disconnect();
    await until(() => c1.nodes('visible').length === 0, 10_000, 'c1 disconnected');
    const pc = echoProc(c1);
    expect(await g1.register(atom('split'), pc)).toBe(true);
    const [, w] = ((await onErl(E2, 'register_waiter', [atom('split')])) as Tuple).elements as [Term, Pid];
    // Heal. cg_… < erl_…: c1 resolves with random_exit_name, which keeps the pid on the smaller node.
    expect(await c1.connect(E1)).toBe(true);
    await until(() => [E1, E2, E3, c2.name].every((n) => c1.nodes('visible').includes(n)), 20_000, 'c1 back in the cluster');
    await syncAll();
    await seenEverywhere(atom('split'), pc);
    expect(await onErl(E1, 'alive', [w])).toBe(false);

    // Now c2 (zg_… > erl_…) leaves; a name of c1, which the erl nodes hold, meets c2's. An erl
    // node resolves it: it asks c1 (the node of the pid it holds) to run resolve_it, and c1 kills c2's.
    g2.disconnect();
    await until(() => c2.nodes('visible').length === 0 && !c1.nodes('visible').includes(c2.name), 10_000, 'c2 disconnected');
    const p1 = echoProc(c1);
    const p2 = echoProc(c2);
    expect(await g1.register(atom('split2'), p1)).toBe(true);
    expect(await g2.register(atom('split2'), p2)).toBe(true);
    expect(await c2.connect(E1)).toBe(true);
    await until(() => [E1, E2, E3, c1.name].every((n) => c2.nodes('visible').includes(n)), 20_000, 'c2 back in the cluster');
    await syncAll();
    await seenEverywhere(atom('split2'), p1);
    await until(() => !c2.isAlive(p2), 5000, "c2's process killed by the resolution");
  });

  it('a Courier node that stops takes its names with it on every erl', async (ctx) => {
    erlPeer.require(ctx);
    const c3 = await courierNode(epmd, cookie, { name: uniqueName('mg'), hidden: false });
    try {
      expect(await c3.connect(E2)).toBe(true);
      const p = echoProc(c3);
      expect(await erlGlobal(c3).register(atom('c3_name'), p)).toBe(true);
      await seenEverywhere(atom('c3_name'), p);
    } finally {
      await c3.stop();
    }
    await seenEverywhere(atom('c3_name'), undefined);
  });

  it('a hidden Courier node (the default) stays out: not in nodes(), no global, erl sync unaffected', async (ctx) => {
    erlPeer.require(ctx);
    const h = await courierNode(epmd, cookie, { name: uniqueName('hg') });
    try {
      expect(await h.connect(E1)).toBe(true);
      const seen = (await inProcess(c1, (self) => rpcCall(self, E1, atom('erlang'), atom('nodes'), [atom('hidden')]))) as Atom[];
      expect(seen).toContain(h.name);
      const visible = (await inProcess(c1, (self) => rpcCall(self, E1, atom('erlang'), atom('nodes'), []))) as Atom[];
      expect(visible).not.toContain(h.name);
      expect(() => erlGlobal(h)).toThrow(/global is not running/);
      const [r, ms] = ((await onErl(E1, 'sync', [0])) as Tuple).elements as [Term, number];
      expect(r).toBe(atoms.ok);
      expect(ms).toBeLessThan(5000);
    } finally {
      await h.stop();
    }
  });
});

/**
 * The runnable echo node's visible contract (checked independently): `--visible` puts `echo` in
 * global as `{courier_echo, NodeName}` and in the pg group `courier_echo` of scope `pg`; an erl
 * sees the node in nodes(), global:sync() and global:register_name/2 work, and a killed node's
 * name and members go.
 */
describe('npm run -s echo-node -- --visible', () => {
  it('is visible, in global and pg; killing it removes its global name and pg members on the erl side', async (ctx) => {
    erlPeer.require(ctx);
    const { startEchoNode } = await import('../hostile/echo-node-process.js');
    const ePort = await startEpmd();
    const ck = randomCookie();
    const name = `${uniqueName('vecho')}@127.0.0.1`;
    const echo = await startEchoNode(['--name', name, '--cookie', ck, '--visible'], { ERL_EPMD_PORT: String(ePort.port) });
    const N = `'${name}'`;
    const erl = await erlNode(ePort, ck, {
      args: ['-pa', beams, '-kernel', 'start_pg', 'true'],
      eval: [
        `pong = net_adm:ping(${N}),`,
        `io:format("VISIBLE ~p ~p~n", [lists:member(${N}, nodes()), lists:member(${N}, nodes(hidden))]),`,
        `io:format("SYNC ~p~n", [global:sync()]),`,
        `P = global:whereis_name({courier_echo, ${N}}),`,
        `P ! {self(), hi}, R = receive M -> M after 5000 -> timeout end,`,
        `io:format("GLOBAL ~p ~p~n", [node(P), R]),`,
        `io:format("REGISTER ~p~n", [global:register_name(erl_side, self())]),`,
        `timer:sleep(500), io:format("PG ~p~n", [pg:get_members(courier_echo) =:= [P]]),`,
        `io:format("UP~n"),`,
        // After the test kills the node: wait (up to 30 s) for its name and members to go.
        `Gone = fun W(0) -> still_there; W(K) -> case {global:whereis_name({courier_echo, ${N}}), pg:get_members(courier_echo)} of {undefined, []} -> gone; _ -> timer:sleep(100), W(K - 1) end end,`,
        `io:format("AFTER ~p~n", [Gone(300)]).`,
      ].join(' '),
    });
    try {
      const lines = erl.stdout.text.split('\n');
      for (const want of ['VISIBLE true false', 'SYNC ok', `GLOBAL ${N} {echo,hi}`, 'REGISTER yes', 'PG true']) expect(lines).toContain(want);
      process.kill(echo.pid, 'SIGKILL');
      await echo.exited;
      expect(await erl.stdout.waitFor(/^AFTER /, 40_000)).toBe('AFTER gone');
    } finally {
      await erl.stop();
      await echo.stop();
      await ePort.stop();
    }
  }, 90_000);
});
