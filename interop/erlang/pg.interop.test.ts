import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Node, rpcCall, type Process } from '@courier/core';
import { Pid, Ref, Tuple, atom, atoms, formatErlang, type Atom, type Term } from '@courier/term';
import { startPg, type PgScope } from '@courier/erl-dist';
import { compileErl, randomCookie, type ErlNode } from '@courier/testkit';
import { courierNode, erlNode, erlPeer, inProcess, startEpmd, tools, type Epmd } from './harness.js';

/**
 * OTP's pg against real OTP 25 nodes (two `erl` started with `-kernel start_pg true`) and visible
 * Courier nodes: membership joined on either side is seen on every node (pg:get_members on erl,
 * getMembers on Courier), leaves, process exits and node deaths remove members, a named scope is a
 * separate overlay, OTP 25.1+ monitors report both ways, and a hidden Courier node takes no part.
 */
const DEADLINE = 8000;
let epmd: Epmd;
let cookie: string;
let e1: ErlNode;
let e2: ErlNode;
let a: Node;
let pa: PgScope;
const extra: Node[] = [];
const G = new Tuple([atom('courier_pg_test'), 1]);
const PG = atom('pg');

beforeAll(async () => {
  if (!erlPeer.available) return;
  epmd = await startEpmd();
  cookie = randomCookie();
  const fx = await compileErl([fileURLToPath(new URL('./fixtures/courier_pg.erl', import.meta.url))], tools);
  const args = ['-pa', fx.dir, '-kernel', 'start_pg', 'true'];
  [e1, e2] = await Promise.all([erlNode(epmd, cookie, { args }), erlNode(epmd, cookie, { args })]);
  a = await courierNode(epmd, cookie, { hidden: false });
  pa = startPg(a);
  expect(await a.connect(e1.node as string)).toBe(true);
  expect(await a.connect(e2.node as string)).toBe(true);
  expect(await erl(e1, 'net_kernel', 'connect_node', [atom(e2.node as string)])).toBe(true);
  await eventually(
    () => Promise.resolve(pa.peers().length),
    (n) => n === 2,
    'the Courier scope to discover both erl scopes',
  );
}, 40_000);

afterAll(async () => {
  for (const n of extra) await n.stop();
  await a?.stop();
  await Promise.all([e1?.stop(), e2?.stop()]);
  await epmd?.stop();
});

/** erpc:call on an erl node from a fresh process of `from` (default: the visible Courier node). */
function erl(e: ErlNode, m: string, f: string, args: Term[], from: Node = a): Promise<Term> {
  return inProcess(from, (self: Process) => rpcCall(self, e.node as string, m, f, args, 5000));
}

async function eventually<T>(probe: () => Promise<T>, ok: (v: T) => boolean, what: string): Promise<T> {
  const end = Date.now() + DEADLINE;
  let v = await probe();
  while (!ok(v)) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; last: ${formatErlang(v as Term)}`);
    await new Promise((r) => setTimeout(r, 20));
    v = await probe();
  }
  return v;
}

/** A list of pids as a sorted list of their printed forms (a multiset: duplicates kept). */
const show = (pids: Term): string[] => (pids as Pid[]).map((p) => formatErlang(p)).sort();
const same = (x: Term, y: readonly Pid[]): boolean => show(x).join() === show([...y]).join();

/** The members of `group` on every node (the two erl, then Courier) equal `want`. */
async function seenEverywhere(group: Term, want: readonly Pid[], what: string, scope: Atom = PG, courier: PgScope = pa): Promise<void> {
  for (const e of [e1, e2])
    await eventually(
      () => erl(e, 'courier_pg', 'members', [scope, group]),
      (m) => same(m, want),
      `${what} on ${e.node}`,
    );
  await eventually(
    () => Promise.resolve(courier.getMembers(group)),
    (m) => same(m, want),
    `${what} on Courier`,
  );
}

const idle = (n: Node): Pid => n.spawn(async (self) => void (await self.receive(atom('stop'))));
const member = async (e: ErlNode): Promise<Pid> => (await erl(e, 'courier_pg', 'spawn_member', [])) as Pid;

/** A Courier process whose mailbox the test reads. */
async function inbox(n: Node): Promise<{ pid: Pid; proc: Process; take(): Promise<Term> }> {
  const proc = await new Promise<Process>((resolve) => n.spawn((self) => (resolve(self), new Promise(() => undefined))));
  return { pid: proc.pid, proc, take: () => proc.receive(undefined, DEADLINE) as Promise<Term> };
}

describe('pg: Courier among real OTP 25 nodes', () => {
  it('members joined on each side are seen on every node, a pid once per join; leave removes them', async (ctx) => {
    erlPeer.require(ctx);
    const m1 = await member(e1);
    const m2 = await member(e2);
    const c = idle(a);
    expect(await erl(e1, 'pg', 'join', [G, m1])).toBe(atoms.ok);
    expect(await erl(e2, 'pg', 'join', [G, [m2]])).toBe(atoms.ok);
    pa.join(G, c);
    pa.join(G, [c]);
    await seenEverywhere(G, [m1, m2, c, c], 'every member');
    expect(show(await erl(e1, 'pg', 'get_local_members', [G]))).toEqual(show([m1]));
    expect(show(pa.getLocalMembers(G))).toEqual(show([c, c]));
    expect((await erl(e2, 'pg', 'which_groups', [])) as Term[]).toContainEqual(G);

    expect(pa.leave(G, c)).toBe(true);
    await seenEverywhere(G, [m1, m2, c], 'one of c left');
    expect(await erl(e1, 'pg', 'leave', [G, m1])).toBe(atoms.ok);
    pa.leave(G, c);
    await seenEverywhere(G, [m2], 'm1 and c left');
    expect(await erl(e2, 'pg', 'leave', [G, m2])).toBe(atoms.ok);
    await seenEverywhere(G, [], 'the group emptied');
    expect(pa.whichGroups()).toEqual([]);
  });

  it('a member whose process exits leaves, on either side', async (ctx) => {
    erlPeer.require(ctx);
    const m1 = await member(e1);
    const c = idle(a);
    await erl(e1, 'pg', 'join', [G, m1]);
    pa.join(G, c);
    await seenEverywhere(G, [m1, c], 'm1 and c');
    a.exitSignal(undefined, c, atom('crash'));
    await seenEverywhere(G, [m1], 'c gone with its process');
    await erl(e1, 'erlang', 'exit', [m1, atoms.kill]);
    await seenEverywhere(G, [], 'm1 gone with its process');
  });

  it('OTP 25.1+ monitors: pg:monitor on erl and monitorScope on Courier see joins and leaves from both sides', async (ctx) => {
    erlPeer.require(ctx);
    const w = await inbox(a);
    const g = atom('courier_pg_watched');
    const relayed = (await erl(e1, 'courier_pg', 'relay_monitor', [PG, g, w.pid])) as Tuple;
    const [, erlRef, before] = relayed.elements as [Pid, Ref, Term];
    expect(before).toEqual([]);
    const ms = pa.monitorScope(w.proc);
    const c = idle(a);
    const m2 = await member(e2);
    pa.join(g, c);
    await erl(e2, 'pg', 'join', [g, m2]);
    const take = async (n: number): Promise<string[]> => {
      const out: string[] = [];
      for (let i = 0; i < n; i++) out.push(formatErlang(await w.take()));
      return out.sort();
    };
    const [E, C] = [formatErlang(erlRef), formatErlang(ms.ref)];
    const msgs = (verb: string): string[] =>
      [
        `{relayed,{${E},${verb},courier_pg_watched,[${formatErlang(c)}]}}`,
        `{relayed,{${E},${verb},courier_pg_watched,[${formatErlang(m2)}]}}`,
        `{${C},${verb},courier_pg_watched,[${formatErlang(c)}]}`,
        `{${C},${verb},courier_pg_watched,[${formatErlang(m2)}]}`,
      ].sort();
    expect(await take(4)).toEqual(msgs('join'));
    pa.leave(g, c);
    await erl(e2, 'erlang', 'exit', [m2, atoms.kill]);
    expect(await take(4)).toEqual(msgs('leave'));
    expect(pa.demonitor(ms.ref, w.proc)).toBe(true);

    // An Erlang process may monitor the Courier scope itself, as pg's gen_server calls do it.
    const viaCall = (await erl(e1, 'courier_pg', 'relay_remote_monitor', [PG, a.name, g, w.pid])) as Tuple;
    const [, callRef] = viaCall.elements as [Pid, Ref];
    const c2 = idle(a);
    pa.join(g, c2);
    // Both relays (e1's own pg:monitor above is still on) report it.
    const both = (verb: string): string[] => [callRef, erlRef].map((r) => `{relayed,{${formatErlang(r)},${verb},courier_pg_watched,[${formatErlang(c2)}]}}`).sort();
    expect(await take(2)).toEqual(both('join'));
    pa.leave(g, c2);
    expect(await take(2)).toEqual(both('leave'));
  });

  it('a named scope is a separate overlay, whichever side starts it first', async (ctx) => {
    erlPeer.require(ctx);
    const chat = atom('courier_chat');
    const started = (await erl(e1, 'pg', 'start', [chat])) as Tuple;
    expect(started.elements[0]).toBe(atoms.ok);
    const sa = startPg(a, chat);
    expect(((await erl(e2, 'pg', 'start', [chat])) as Tuple).elements[0]).toBe(atoms.ok);
    const m1 = await member(e1);
    const m2 = await member(e2);
    const c = idle(a);
    await erl(e1, 'pg', 'join', [chat, G, m1]);
    await erl(e2, 'pg', 'join', [chat, G, m2]);
    sa.join(G, c);
    await seenEverywhere(G, [m1, m2, c], 'the named scope', chat, sa);
    expect(pa.getMembers(G)).toEqual([]);
    expect(await erl(e1, 'pg', 'get_members', [G])).toEqual([]);
    await sa.stop();
    for (const e of [e1, e2])
      await eventually(
        () => erl(e, 'courier_pg', 'members', [chat, G]),
        (m) => same(m, [m1, m2]),
        `c gone with the stopped scope on ${e.node}`,
      );
  });

  it('a hidden Courier node takes no part', async (ctx) => {
    erlPeer.require(ctx);
    const h = await courierNode(epmd, cookie); // hidden: the default
    extra.push(h);
    const ph = startPg(h);
    expect(await h.connect(e1.node as string)).toBe(true);
    const hm = idle(h);
    ph.join(G, hm);
    const m1 = await member(e1);
    await erl(e1, 'pg', 'join', [G, m1]);
    // The visible side sees m1; a join from h would have come over the same connection before it.
    await seenEverywhere(G, [m1], 'm1 without the hidden member');
    expect(ph.getMembers(G).map((p) => formatErlang(p))).toEqual([formatErlang(hm)]);
    expect(ph.peers()).toEqual([]);
    expect(await erl(e1, 'erlang', 'nodes', [atom('hidden')])).toContainEqual(h.name);
    await erl(e1, 'erlang', 'exit', [m1, atoms.kill]);
    await seenEverywhere(G, [], 'm1 gone');
  });

  it('a node that dies takes its members: a Courier node stopped, an erl node stopped', async (ctx) => {
    erlPeer.require(ctx);
    const b = await courierNode(epmd, cookie, { hidden: false });
    extra.push(b);
    const pb = startPg(b);
    expect(await b.connect(e1.node as string)).toBe(true);
    expect(await b.connect(e2.node as string)).toBe(true);
    // pg needs a full mesh; Erlang nodes get it from global's connect_all, Courier nodes connect.
    expect(await b.connect(a.name)).toBe(true);
    const cb = idle(b);
    pb.join(G, cb);
    const m2 = await member(e2);
    await erl(e2, 'pg', 'join', [G, m2]);
    await seenEverywhere(G, [cb, m2], 'the member of the second Courier node');
    await b.stop();
    await seenEverywhere(G, [m2], "the stopped Courier node's member gone");
    await e2.stop();
    await eventually(
      () => Promise.resolve(pa.getMembers(G)),
      (m) => same(m, []),
      "the stopped erl node's member gone from Courier",
    );
    await eventually(
      () => erl(e1, 'courier_pg', 'members', [PG, G]),
      (m) => same(m, []),
      "the stopped erl node's member gone from erl",
    );
    expect(pa.peers().map((p) => p.node)).toEqual([atom(e1.node as string)]);
  });
});
