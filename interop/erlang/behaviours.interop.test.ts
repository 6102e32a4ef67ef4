import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  abcast,
  call,
  cast,
  keepStateAndData,
  multiCall,
  nextState,
  noreply,
  replyAction,
  reply,
  rpcCall,
  startDynamicSupervisor,
  startServer,
  startStatem,
  type GenServer,
  type GenStatem,
  type Node,
} from '@courier/core';
import { Pid, Tuple, atom, formatErlang, type Term } from '@courier/term';
import { compileErl, randomCookie, type ErlNode } from '@courier/testkit';
import { courierNode, erlNode, erlPeer, inProcess, startEpmd, tools, type Epmd } from './harness.js';

/**
 * OTP behaviours across a real OTP 25 node: gen_server:multi_call and abcast both ways (a
 * Courier multiCall reaching an erl gen_server, erl's multi_call reaching a Courier one),
 * gen_statem:call both ways, and a Courier dynamic supervisor driven from erl with
 * supervisor:start_child/which_children/count_children/terminate_child.
 */
let epmd: Epmd;
let cookie: string;
let e: ErlNode;
let c: Node;
let erlName: string;

const A = atom;
const MC = A('courier_mc');

beforeAll(async () => {
  if (!erlPeer.available) return;
  epmd = await startEpmd();
  cookie = randomCookie();
  const fx = await compileErl([fileURLToPath(new URL('./fixtures/courier_behaviours.erl', import.meta.url))], tools);
  e = await erlNode(epmd, cookie, { args: ['-pa', fx.dir], eval: 'ok = courier_behaviours:start(), io:format("UP~n").' });
  erlName = e.node as string;
  c = await courierNode(epmd, cookie, { hidden: false });
  expect(await c.connect(erlName)).toBe(true);
}, 40_000);

afterAll(async () => {
  await c?.stop();
  await e?.stop();
  await epmd?.stop();
});

/** erpc:call on the erl node from a fresh Courier process. */
function erl(m: string, f: string, args: Term[]): Promise<Term> {
  return inProcess(c, (self) => rpcCall(self, erlName, m, f, args, 8000));
}

/** A Courier gen_server answering `{node(), Request}` like the fixture's, and keeping its casts. */
function courierMc(node: Node, casts: Term[]): GenServer<null, null> {
  return {
    init: () => null,
    handleCall: (req, _from, st) => reply(new Tuple([node.name, req]), st),
    handleCast: (msg, st) => (casts.push(msg), noreply(st)),
  };
}

describe('gen_server multi_call and abcast with OTP', () => {
  it('Courier multiCall reaches the erl gen_server and itself; a missing node is a bad node', async (ctx) => {
    erlPeer.require(ctx);
    const casts: Term[] = [];
    const pid = await startServer(c, courierMc(c, casts), null, { name: MC });
    try {
      const ghost = `ghost_${process.pid}@127.0.0.1`;
      const r = await multiCall(c, MC, A('hello'), { nodes: [c.name, erlName, ghost], timeoutMs: 5000 });
      expect(r.replies.map(([n, v]) => [n.name, formatErlang(v)])).toEqual([
        [c.name.name, `{'${c.name.name}',hello}`],
        [erlName, `{'${erlName}',hello}`],
      ]);
      expect(r.badNodes.map((n) => n.name)).toEqual([ghost]);

      // erl's own gen_server:multi_call reaches the Courier server (tag {Ref, Node}, reply to the pid).
      const back = (await erl('courier_behaviours', 'multi_call', [[A(erlName), c.name], MC, A('ping'), 5000])) as Tuple;
      const [good, bad] = back.elements as [Term[], Term[]];
      expect(good.map((t) => formatErlang(t)).sort()).toEqual([`{'${c.name.name}',{'${c.name.name}',ping}}`, `{'${erlName}',{'${erlName}',ping}}`].sort());
      expect(bad).toEqual([]);

      // abcast both ways.
      abcast(c, MC, A('from_courier'), [erlName]);
      expect(await inProcess(c, (self) => call(self, new Tuple([MC, A(erlName)]), A('casts')))).toEqual([A('from_courier')]);
      await erl('gen_server', 'abcast', [[c.name], MC, A('from_erl')]);
      await inProcess(c, async (self) => {
        for (let i = 0; i < 200 && casts.length === 0; i++) await self.sleep(10);
      });
      expect(casts).toEqual([A('from_erl')]);

      // gen_server:stop from erl: proc_lib:stop's {system, From, {terminate, Reason}}.
      expect(await erl('gen_server', 'stop', [new Tuple([MC, c.name])])).toBe(A('ok'));
      expect(c.isAlive(pid)).toBe(false);
    } finally {
      if (c.isAlive(pid)) c.exitSignal(undefined, pid, A('kill'));
    }
  });
});

describe('gen_statem with OTP', () => {
  it('erl gen_statem:call and cast a Courier state machine', async (ctx) => {
    erlPeer.require(ctx);
    const lock: GenStatem<number, number> = {
      callbackMode: 'state_functions',
      init: (_self, code) => nextState(A('locked'), code),
      states: {
        locked(ev, content, code) {
          if (ev.type === 'call' && content instanceof Tuple && content.elements[1] === code) return nextState(A('open'), code, [replyAction(ev.from, A('ok'))]);
          if (ev.type === 'call') return keepStateAndData([replyAction(ev.from, content === A('state') ? A('locked') : A('wrong'))]);
          return keepStateAndData();
        },
        open(ev, content, code) {
          if (ev.type === 'cast' && content === A('lock')) return nextState(A('locked'), code);
          if (ev.type === 'call') return keepStateAndData([replyAction(ev.from, A('open'))]);
          return keepStateAndData();
        },
      },
    };
    const name = A('courier_lock');
    const pid = await startStatem(c, lock, 7, { name });
    try {
      const ref = new Tuple([name, c.name]);
      const unlock = (code: number): Promise<Term> => erl('courier_behaviours', 'statem_call', [ref, new Tuple([A('unlock'), code]), 5000]);
      expect(await unlock(1)).toBe(A('wrong'));
      expect(await unlock(7)).toBe(A('ok'));
      expect(await erl('courier_behaviours', 'statem_call', [pid, A('state'), 5000])).toBe(A('open'));
      await erl('courier_behaviours', 'statem_cast', [ref, A('lock')]);
      expect(await erl('courier_behaviours', 'statem_call', [ref, A('state'), 5000])).toBe(A('locked'));
      expect(await erl('gen_statem', 'stop', [ref, A('normal'), 5000])).toBe(A('ok'));
      expect(c.isAlive(pid)).toBe(false);
    } finally {
      if (c.isAlive(pid)) c.exitSignal(undefined, pid, A('kill'));
    }
  });

  it('a Courier process calls and casts the erl gen_statem', async (ctx) => {
    erlPeer.require(ctx);
    const door = new Tuple([A('courier_door'), A(erlName)]);
    await inProcess(c, async (self) => {
      expect(await call(self, door, new Tuple([A('unlock'), 1]))).toBe(A('wrong'));
      expect(await call(self, door, new Tuple([A('unlock'), 42]))).toBe(A('ok'));
      expect(await call(self, door, A('state'))).toBe(A('open'));
      cast(self, door, A('lock'));
      expect(await call(self, door, A('state'))).toBe(A('locked'));
    });
  });
});

describe('a Courier dynamic supervisor driven from erl', () => {
  it('supervisor:start_child/which_children/count_children/terminate_child, and the children answer gen_server:call', async (ctx) => {
    erlPeer.require(ctx);
    const holder: GenServer<Term, Term> = {
      init: (_self, arg) => arg,
      handleCall: (req, _from, st) => reply(new Tuple([req, st]), st),
    };
    const name = A('courier_pool');
    const sup = await startDynamicSupervisor(c, { id: 'holder', start: (s, arg) => startServer(c, holder, arg, { linkTo: s }) }, { maxChildren: 2 }, { name });
    try {
      const ref = new Tuple([name, c.name]);
      const sv = (f: string, args: Term[]): Promise<Term> => erl('courier_behaviours', 'sup', [A(f), ref, args]);
      const started = (await sv('start_child', [[A('hello')]])) as Tuple;
      expect(started.elements[0]).toBe(A('ok'));
      const child = started.elements[1] as Pid;
      expect(child.node).toBe(c.name);
      expect(formatErlang(await sv('start_child', [[A('second')]]))).toMatch(/^\{ok,/);
      expect(formatErlang(await sv('start_child', [[A('third')]]))).toBe('{error,max_children}');
      expect(await erl('gen_server', 'call', [child, A('arg')])).toEqual(new Tuple([A('arg'), A('hello')]));
      expect(formatErlang(await sv('count_children', []))).toBe('[{specs,1},{active,2},{supervisors,0},{workers,2}]');
      const which = (await sv('which_children', [])) as Tuple[];
      expect(which.map((t) => formatErlang(new Tuple([t.elements[0], t.elements[2], t.elements[3]])))).toEqual(['{undefined,worker,[]}', '{undefined,worker,[]}']);
      expect(which.some((t) => formatErlang(t.elements[1]) === formatErlang(child))).toBe(true);
      expect(await sv('terminate_child', [child])).toBe(A('ok'));
      expect(c.isAlive(child)).toBe(false);
      expect(formatErlang(await sv('terminate_child', [A('holder')]))).toBe('{error,simple_one_for_one}');
      expect(formatErlang(await sv('count_children', []))).toBe('[{specs,1},{active,1},{supervisors,0},{workers,1}]');
    } finally {
      c.exitSignal(undefined, sup, A('kill'));
    }
  });
});
