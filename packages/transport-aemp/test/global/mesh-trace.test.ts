import { afterEach, describe, expect, it } from 'vitest';
import { atom, type Term } from '@courier/term';
import type { HandshakeAttempt } from '@courier/core';
import { AempProtocol, parseGreeting } from '@courier/transport-aemp';
import { Nodes, puppet, until } from '../nodes.js';
import { PerlPeer } from '../perl-peer.js';

/**
 * The exchanges of ../../../../../shared/vectors/aemp/global-mesh/ (four real Perl 2.02 nodes)
 * replayed against Courier: a PerlPeer plays one Perl node's side as the trace has it, Courier
 * plays the other, and its answers are checked against what the Perl node sent there.
 */
const nodes = new Nodes();
const peers: PerlPeer[] = [];
afterEach(async () => {
  for (const p of peers.splice(0)) p.close();
  await nodes.stopAll();
});

async function perl(address: string, nodeid: string): Promise<PerlPeer> {
  const p = await PerlPeer.connect(address, { nodeid, secret: 'scenario-secret', framing: 'json' });
  peers.push(p);
  return p;
}

const node =
  (tag: string, ...first: Term[]) =>
  (p: Term[]) =>
    p[0] === '' && p[1] === tag && first.every((f, i) => JSON.stringify(p[i + 2]) === JSON.stringify(f));
const sorted = (x: Term): string[] => [...(x as string[])].sort();

describe('the global-mesh trace, Courier as seedA', () => {
  it('meets seedB, takes slaveC, answers clientD, relays and cleans up as A.trace does', async () => {
    const a = await nodes.make('seedA', { global: true, framings: ['json'], peers: {} });
    puppet(a.node, 'echo');
    a.t.registry.dbReg('echo', 'seedA#echo');
    const B_L = ['127.0.0.1:4302'];

    // B.trace: SND seedA g_slave, g_global, g_slave.
    const b = await perl(a.addr, 'seedB');
    await b.next(node('g_global'), 3000, 'A greets B with g_global');
    b.send(['', 'g_slave']);
    b.send(['', 'g_global']);
    b.send(['', 'g_slave']);
    // A.trace: SND seedB g_upd 'g {seedB} [] (relayed: A's own change), then g_set with A's database.
    expect(await b.next(node('g_upd', "'g"))).toEqual(['', 'g_upd', "'g", { seedB: null }, []]);
    const set = await b.next(node('g_set'));
    expect(set[2]).toEqual({ echo: { 'seedA#echo': null }, "'l": { seedA: [a.addr] }, "'g": { seedA: null, seedB: null } });
    // B's g_set: A mirrors B's 'l into its own database and relays it (A.trace: SND seedB g_upd 'l {seedB} []).
    b.send(['', 'g_set', { echo: { 'seedB#echo': null }, "'g": { seedB: null, seedA: null }, "'l": { seedB: B_L } }]);
    expect(await b.next(node('g_upd', "'l"))).toEqual(['', 'g_upd', "'l", { seedB: B_L }, []]);
    expect(a.t.registry.local.get("'l")?.get('seedB')).toEqual(B_L);
    expect(a.t.registry.meshNodes()).toEqual(['seedB']);

    // C.trace: slaveC (bound to *:4303) hands A its database; A relays the slave's own entries to seedB.
    const c = await perl(a.addr, 'slaveC');
    const C_L = ['192.0.2.2:4303', '[fd00::2]:4303'];
    c.send(['', 'g_slave']);
    c.send(['', 'g_slave', { echo: { 'slaveC#echo': null }, "'l": { slaveC: C_L } }]);
    const relayed = [await b.next(node('g_upd')), await b.next(node('g_upd'))].sort((x, y) => String(x[2]).localeCompare(String(y[2])));
    expect(relayed).toEqual([
      ['', 'g_upd', "'l", { slaveC: C_L }, []],
      ['', 'g_upd', 'echo', { 'slaveC#echo': null }, []],
    ]);
    c.send(['', 'g_find', 'seedA']);
    expect(await c.next(node('g_found', 'seedA'))).toEqual(['', 'g_found', 'seedA', [a.addr]]);

    // D.trace (against seedB in the trace; the same requests): find, db_keys, find the slave.
    const d = await perl(a.addr, 'clientD');
    d.send(['', 'g_slave']);
    d.send(['', 'g_slave', { "'l": { clientD: ['127.0.0.1:4304'] } }]);
    expect(await b.next(node('g_upd', "'l"))).toEqual(['', 'g_upd', "'l", { clientD: ['127.0.0.1:4304'] }, []]);
    d.send(['', 'g_find', 'seedB']);
    expect(await d.next(node('g_found', 'seedB'))).toEqual(['', 'g_found', 'seedB', B_L]);
    d.send(['', 'g_db_keys', 'echo', 'b']);
    expect(sorted((await d.next(node('g_reply', 'b')))[3])).toEqual(['seedA#echo', 'seedB#echo', 'slaveC#echo']);
    d.send(['', 'g_find', 'slaveC']);
    expect(await d.next(node('g_found', 'slaveC'))).toEqual(['', 'g_found', 'slaveC', C_L]);

    // clientD and slaveC leave: A relays their deletes (A.trace: g_upd 'l {} [clientD], echo {} [slaveC#echo], 'l {} [slaveC]).
    d.close();
    expect(await b.next(node('g_upd', "'l"))).toEqual(['', 'g_upd', "'l", {}, ['clientD']]);
    c.close();
    const gone = [await b.next(node('g_upd')), await b.next(node('g_upd'))].sort((x, y) => String(x[2]).localeCompare(String(y[2])));
    expect(gone).toEqual([
      ['', 'g_upd', "'l", {}, ['slaveC']],
      ['', 'g_upd', 'echo', {}, ['slaveC#echo']],
    ]);

    // seedB leaves: A drops it from 'g and 'l, and its registrations.
    b.close();
    await until(() => !a.t.registry.local.get("'g")?.has('seedB'), 3000, "seedB out of A's 'g");
    expect(a.t.registry.meshNodes()).toEqual([]);
    expect(await a.t.registry.dbKeys('echo')).toEqual(['seedA#echo']);
    expect(a.t.registry.local.get("'l")?.has('seedB')).toBe(false);
  });

  it('a node made global by g_slave tells the global node it is already connected to', async () => {
    const n = await nodes.make('promoted', { framings: ['json'], peers: {} });
    expect(n.t.registry.isGlobal).toBe(false);
    const g = await perl(n.addr, 'seedB');
    g.send(['', 'g_global']);
    await until(() => n.node.nodes().length === 1);
    const s = await perl(n.addr, 'slaveC');
    s.send(['', 'g_slave', { echo: { 'slaveC#echo': null }, "'l": { slaveC: ['192.0.2.2:4303'] } }]);
    // Global.pm post_configure: g_global to every node up, and g_global_connect for the global ones.
    await g.next(node('g_global'), 3000, 'g_global to the global node');
    const set = await g.next(node('g_set'), 3000, 'g_set to the global node');
    expect((set[2] as Record<string, Term>)["'g"]).toEqual({ promoted: null, seedB: null });
    // The slave's registration is relayed to the global node.
    await g.next(node('g_upd', 'echo'), 3000, "the slave's echo relayed");
    expect(n.t.registry.isGlobal).toBe(true);
  });

  it("a node's greeting carries mproto and gproto as Perl's does", () => {
    const protocol = new AempProtocol({
      self: atom('greeter'),
      secret: 's',
      framings: ['json'],
      tls: false,
      whereis: () => undefined,
      service: { request: () => undefined },
      up: () => undefined,
      down: () => undefined,
    });
    const attempt = { role: 'initiator', peer: atom('p'), carrier: { remote: '127.0.0.1:1' } } as unknown as HandshakeAttempt;
    const start = protocol.handshake(attempt).start()[0] as { bytes: Uint8Array };
    const greeting = parseGreeting(Buffer.from(start.bytes).toString('utf8').split('\n')[0] as string);
    expect(greeting?.kv).toMatchObject({ mproto: '1', gproto: '1' });
  });

  it('a kil1 without a reason is a normal exit (monitors get no reason)', async () => {
    const n = await nodes.make('killee', { framings: ['json'], peers: {} });
    const target = puppet(n.node, 'target');
    const p = await perl(n.addr, 'killer');
    p.send(['', 'mon1', 'target']);
    await until(() => true);
    p.send(['', 'kil1', 'target']);
    expect(await p.next(node('kil0', 'target'))).toEqual(['', 'kil0', 'target']);
    expect(n.node.isAlive(target.pid)).toBe(false);
    expect(n.node.whereis(atom('target'))).toBeUndefined();
  });
});
