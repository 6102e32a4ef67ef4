import { afterEach, describe, expect, it } from 'vitest';
import { Pid, Ref, Tuple, atom, atoms, formatErlang, type Term } from '@courier/term';
import { Node, UsageError, type Process } from '@courier/core';
import { MemoryNetwork, memoryDist } from '@courier/transport-memory';
import { startPg, type PgChange } from '@courier/erl-dist';

/**
 * pg scopes between Courier nodes over the in-memory carrier (the real Erlang handshake and
 * session): membership exchange, duplicates, exits, node and scope loss, monitors, and the exact
 * messages pg.erl's scopes exchange, checked against a bare process standing in for a peer scope.
 */
const DEADLINE = 5000;
let made: Node[] = [];

afterEach(async () => {
  for (const n of made) await n.stop();
  made = [];
});

async function node(network: MemoryNetwork, name: string, hidden = false): Promise<Node> {
  const n = new Node({ name, transports: [memoryDist({ network, cookie: 'c', hidden })] });
  made.push(n);
  return n.start();
}

async function until(cond: () => boolean, what: string): Promise<void> {
  const end = Date.now() + DEADLINE;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A process that waits until told `stop` (or killed). */
const idle = (n: Node): Pid => n.spawn(async (self) => void (await self.receive(atom('stop'))));

const show = (pids: readonly Pid[]): string[] => pids.map((p) => p.toString()).sort();
const G = new Tuple([atom('room'), 1]);
/** A term as Erlang prints it. */
const e = (t: Term): string => formatErlang(t);

/** A process that keeps its mailbox for the test to read (`take`). */
function inbox(n: Node): { pid: Pid; proc: Process; take(): Promise<Term> } {
  let proc!: Process;
  const pid = n.spawn((self) => {
    proc = self;
    return new Promise(() => undefined);
  });
  return {
    pid,
    get proc() {
      return proc;
    },
    take: () => proc.receive(undefined, DEADLINE) as Promise<Term>,
  };
}

describe('pg between Courier nodes', () => {
  it('members joined on each node are seen on every node, any term as group, a pid once per join', async () => {
    const net = new MemoryNetwork();
    const [a, b, c] = [await node(net, 'a@h'), await node(net, 'b@h'), await node(net, 'c@h')];
    const [pa, pb, pc] = [startPg(a), startPg(b), startPg(c)];
    expect(startPg(a)).toBe(pa);
    await a.connect(b.name);
    await a.connect(c.name);
    await b.connect(c.name);
    const x = idle(a);
    const y = idle(b);
    const z = idle(c);
    pa.join(G, x);
    pb.join(G, [y]);
    pc.join(G, z);
    pc.join(G, z); // twice: listed twice
    const want = show([x, y, z, z]);
    await until(() => [pa, pb, pc].every((s) => show(s.getMembers(G)).join() === want.join()), 'every node to see every member');
    expect(show(pa.getLocalMembers(G))).toEqual(show([x]));
    expect(show(pc.getLocalMembers(G))).toEqual(show([z, z]));
    expect(pb.whichGroups().map(formatErlang)).toEqual(['{room,1}']);
    expect(pb.getMembers(new Tuple([atom('room'), 2]))).toEqual([]);

    expect(pc.leave(G, z)).toBe(true);
    await until(() => pa.getMembers(G).filter((p) => p.toString() === z.toString()).length === 1, 'one of z to leave');
    expect(pc.leave(G, z)).toBe(true);
    expect(pc.leave(G, z)).toBe(false); // pg's not_joined
    await until(() => !show(pa.getMembers(G)).includes(z.toString()), 'z to have left on a');
    expect(pc.whichLocalGroups()).toEqual([]);
  });

  it('a member that exits leaves every group on every node; changes$ reports it', async () => {
    const net = new MemoryNetwork();
    const [a, b] = [await node(net, 'a@h'), await node(net, 'b@h')];
    const [pa, pb] = [startPg(a), startPg(b)];
    await a.connect(b.name);
    await until(() => pa.peers().length === 1 && pb.peers().length === 1, 'the scopes to discover each other');
    const seenA: PgChange[] = [];
    const seenB: PgChange[] = [];
    pa.changes$.subscribe((e) => seenA.push(e));
    pb.changes$.subscribe((e) => seenB.push(e));
    const x = idle(a);
    pa.join(G, x);
    pa.join(atom('other'), x);
    await until(() => pb.whichGroups().length === 2, 'both groups on b');
    a.exitSignal(undefined, x, atom('crash'));
    await until(() => pb.whichGroups().length === 0 && pa.whichGroups().length === 0, 'the groups to empty');
    expect(seenA.map((e) => `${e.type} ${formatErlang(e.group)} ${e.local}`)).toEqual(['join {room,1} true', 'join other true', 'leave other true', 'leave {room,1} true']);
    expect(seenB.map((e) => `${e.type} ${formatErlang(e.group)} ${e.local}`)).toEqual(['join {room,1} false', 'join other false', 'leave other false', 'leave {room,1} false']);
    expect(seenB.every((e) => e.scope === atom('pg') && show(e.pids).join() === x.toString())).toBe(true);
  });

  it('a node that goes takes its members; back, it syncs them again; a stopped scope takes its members', async () => {
    const net = new MemoryNetwork();
    const [a, b] = [await node(net, 'a@h'), await node(net, 'b@h')];
    const [pa, pb] = [startPg(a), startPg(b)];
    await a.connect(b.name);
    const y = idle(b);
    pb.join(G, y);
    await until(() => pa.getMembers(G).length === 1, 'y on a');
    a.disconnect(b.name);
    await until(() => pa.getMembers(G).length === 0 && pa.peers().length === 0, 'y gone from a with its node');
    expect(pb.getMembers(G)).toHaveLength(1);
    await a.connect(b.name);
    await until(() => pa.getMembers(G).length === 1, 'y back on a after nodeup');

    await pb.stop();
    expect(pb.alive).toBe(false);
    expect(() => pb.join(G, y)).toThrow(UsageError);
    await until(() => pa.getMembers(G).length === 0, 'y gone with its scope');
    const pb2 = startPg(b);
    expect(pb2).not.toBe(pb);
    await until(() => pa.peers().length === 1 && pb2.peers().length === 1, 'the new scope to be discovered');
  });

  it('named scopes are separate overlays; only local pids may join', async () => {
    const net = new MemoryNetwork();
    const [a, b] = [await node(net, 'a@h'), await node(net, 'b@h')];
    const [pa, sa, sb] = [startPg(a), startPg(a, 'chat'), startPg(b, 'chat')];
    await a.connect(b.name);
    const y = idle(b);
    sb.join(G, y);
    await until(() => sa.getMembers(G).length === 1, 'y in scope chat on a');
    expect(pa.getMembers(G)).toEqual([]);
    const err = (() => {
      try {
        sa.join(G, y);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(UsageError);
    expect((err as UsageError).code).toBe('NOT_LOCAL');
    b.spawn(() => undefined, { name: atom('taken') });
    expect(() => startPg(b, 'taken')).toThrow(/registered under that name/);
  });

  it('a hidden connection is no pg peer', async () => {
    const net = new MemoryNetwork();
    const a = await node(net, 'a@h');
    const h = await node(net, 'h@h', true);
    const [pa, ph] = [startPg(a), startPg(h)];
    // A visible node too, so that a positive exchange shows the hidden one had its chance.
    const b = await node(net, 'b@h');
    const pb = startPg(b);
    await h.connect(a.name);
    await b.connect(a.name);
    ph.join(G, idle(h));
    pb.join(G, idle(b));
    pa.join(G, idle(a));
    await until(() => pa.getMembers(G).length === 2 && pb.getMembers(G).length === 2, 'a and b to exchange');
    await new Promise((r) => setTimeout(r, 50));
    expect(show(pa.peers())).toEqual(show([pb.pid]));
    expect(ph.peers()).toEqual([]);
    expect(ph.getMembers(G)).toHaveLength(1);
  });
});

describe('pg monitors', () => {
  it('monitorScope and monitor(group) deliver {Ref, join|leave, Group, Pids}; demonitor stops and flushes', async () => {
    const net = new MemoryNetwork();
    const [a, b] = [await node(net, 'a@h'), await node(net, 'b@h')];
    const [pa, pb] = [startPg(a), startPg(b)];
    await a.connect(b.name);
    const early = idle(b);
    pb.join(G, early);
    await until(() => pa.getMembers(G).length === 1, 'early on a');
    const w = inbox(a);
    await until(() => w.proc !== undefined, 'the watcher to run');
    const ms = pa.monitorScope(w.proc);
    expect(formatErlang(ms.groups)).toBe(`#{{room,1} => [${e(early)}]}`);
    const mg = pa.monitor(w.pid, atom('g2'));
    expect(mg.members).toEqual([]);
    const y = idle(b);
    pb.join(atom('g2'), [y]);
    const m1 = (await w.take()) as Tuple;
    const m2 = (await w.take()) as Tuple;
    const refs = [m1, m2].map((m) => (m.elements[0] as Ref).toString()).sort();
    expect(refs).toEqual([ms.ref.toString(), mg.ref.toString()].sort());
    for (const m of [m1, m2]) expect(formatErlang(new Tuple(m.elements.slice(1)))).toBe(`{join,g2,[${e(y)}]}`);

    expect(pa.demonitor(mg.ref)).toBe(true);
    expect(pa.demonitor(mg.ref)).toBe(false);
    b.exitSignal(undefined, y, atoms.kill);
    const m3 = (await w.take()) as Tuple;
    expect(m3.elements[0]).toEqual(ms.ref);
    expect(formatErlang(new Tuple(m3.elements.slice(1)))).toBe(`{leave,g2,[${e(y)}]}`);
    // A message already queued for a monitor goes with demonitor.
    pb.leave(G, early);
    await until(() => w.proc.mailbox.length > 0, 'the leave of early');
    expect(pa.demonitor(ms.ref, w.proc)).toBe(true);
    expect(w.proc.mailbox.length).toBe(0);
  });
});

describe('the pg.erl wire protocol, against a bare process as the peer scope', () => {
  it('discover, sync, join, leave: the shapes and order pg.erl uses', async () => {
    const net = new MemoryNetwork();
    const [a, b] = [await node(net, 'a@h'), await node(net, 'b@h')];
    const pa = startPg(a);
    const x = idle(a);
    const x2 = idle(a);
    pa.join(G, x);
    pa.join(atom('g2'), x);
    const peer = inbox(b);
    await until(() => peer.proc !== undefined, 'the bare peer to run');
    b.register(atom('pg'), peer.pid);
    await a.connect(b.name);
    const fmt = async (): Promise<string> => formatErlang(await peer.take());
    const A = e(pa.pid);
    // On nodeup: {discover, Scope} to {pg, Node}.
    expect(await fmt()).toBe(`{discover,${A}}`);
    peer.proc.send(pa.pid, new Tuple([atom('discover'), peer.pid]));
    // The answer: a gen_server cast of sync with every local member, then discover back.
    const sync = await fmt();
    expect([`{'$gen_cast',{sync,${A},[{{room,1},[${e(x)}]},{g2,[${e(x)}]}]}}`, `{'$gen_cast',{sync,${A},[{g2,[${e(x)}]},{{room,1},[${e(x)}]}]}}`]).toContain(sync);
    expect(await fmt()).toBe(`{discover,${A}}`);
    await until(() => pa.peers().length === 1, 'the peer to be known');
    pa.join(G, x2);
    expect(await fmt()).toBe(`{join,${A},{room,1},${e(x2)}}`);
    pa.join(G, [x2]);
    expect(await fmt()).toBe(`{join,${A},{room,1},[${e(x2)}]}`);
    pa.leave(G, [x2, x2]);
    expect(await fmt()).toBe(`{leave,${A},[${e(x2)},${e(x2)}],[{room,1}]}`);
    a.exitSignal(undefined, x, atoms.kill);
    expect(await fmt()).toBe(`{leave,${A},${e(x)},[g2,{room,1}]}`);

    // The peer's join and sync: a sync replaces all a knew of the peer.
    const r1 = idle(b);
    const r2 = idle(b);
    peer.proc.send(pa.pid, new Tuple([atom('join'), peer.pid, G, [r1, r2]]));
    await until(() => pa.getMembers(G).length === 2, 'r1, r2 on a');
    expect(pa.getMembers(G).map(String)).toEqual([r1, r2].map(String));
    peer.proc.send(pa.pid, new Tuple([atom('$gen_cast'), new Tuple([atom('sync'), peer.pid, [new Tuple([atom('g3'), [r2]])]])]));
    await until(() => pa.getMembers(G).length === 0 && pa.getMembers(atom('g3')).length === 1, 'the sync to replace');
    peer.proc.send(pa.pid, new Tuple([atom('leave'), peer.pid, r2, [atom('g3')]]));
    await until(() => pa.whichGroups().length === 0, 'r2 to leave');
    // From a scope it does not know, joins are ignored (pg.erl's race handling); junk is logged, not fatal.
    const stranger = inbox(b);
    await until(() => stranger.proc !== undefined, 'the stranger to run');
    stranger.proc.send(pa.pid, new Tuple([atom('join'), stranger.pid, G, [r1]]));
    stranger.proc.send(pa.pid, new Tuple([atom('join'), peer.pid, G, atom('not_pids')]));
    peer.proc.send(pa.pid, new Tuple([atom('join'), peer.pid, atom('g4'), r1]));
    await until(() => pa.getMembers(atom('g4')).length === 1, 'the join after the junk');
    expect(pa.getMembers(G)).toEqual([]);
    expect(pa.alive).toBe(true);
  });
});
