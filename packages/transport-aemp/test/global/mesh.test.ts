import { afterEach, describe, expect, it } from 'vitest';
import { atom } from '@courier/term';
import { freePort } from '@courier/testkit';
import { interfaceAddresses } from '@courier/transport-aemp';
import { Nodes, next, puppet, until, type TestNode } from '../nodes.js';

/** Courier AEMP nodes forming AnyEvent::MP's mesh among themselves, on loopback. */
const nodes = new Nodes();
afterEach(() => nodes.stopAll());

const fast = { retryMaxMs: 1000, queryTimeoutMs: 3000, peers: {} } as const;

/** The node, once started, with an echo process registered as `<id>#echo` in the family `echo`. */
async function withEcho(made: Promise<TestNode>): Promise<TestNode> {
  const n = await made;
  const id = n.node.name.name;
  n.node.spawn(
    async (self) => {
      for (;;) {
        const m = (await self.receive()) as string[];
        self.send(m[0] as string, m.slice(1));
      }
    },
    { name: atom('echo') },
  );
  n.t.registry.dbReg('echo', `${id}#echo`);
  return n;
}

const keys = async (n: TestNode, family = 'echo'): Promise<string[]> => (await n.t.registry.dbKeys(family)).sort();

describe('AEMP mesh: seeds that are the node itself', () => {
  it('a node whose seed is itself — localhost, its address, a wildcard bind — becomes global and releases waiters', async () => {
    const p1 = await freePort();
    const a = await nodes.make('self-localhost', { ...fast, binds: [`127.0.0.1:${p1}`], seeds: [`localhost:${p1}`] });
    await a.t.attached(2000);
    expect(a.t.registry.isGlobal).toBe(true);
    const lan = interfaceAddresses(false)[0] ?? '127.0.0.1';
    const p2 = await freePort();
    const b = await nodes.make('self-wildcard', { ...fast, binds: [`0.0.0.0:${p2}`], seeds: [`${lan}:${p2}`] });
    expect(b.t.registry.isGlobal).toBe(true);
    // A wildcard bind publishes the host's addresses, not 127.0.0.1 (unless loopback is all there is).
    expect(b.t.listening).toEqual(interfaceAddresses(false).length > 0 ? interfaceAddresses(false).map((h) => `${h}:${p2}`) : [`127.0.0.1:${p2}`]);
    expect(await b.t.registry.find('self-wildcard')).toEqual(b.t.listening);
  });

  it('a seed that is another of its addresses makes it global; queries already waiting are answered', async () => {
    const p = await freePort();
    // 127.0.0.2 is not an address we publish, but the 0.0.0.0 bind takes it.
    const a = await nodes.make('self-greeting', { ...fast, binds: [`0.0.0.0:${p}`], advertise: [`127.0.0.1:${p}`], seeds: ['127.0.0.2:1', `127.0.0.2:${p}`] });
    const waiting = a.t.registry.dbKeys('echo');
    await a.t.attached(3000);
    expect(a.t.registry.isGlobal).toBe(true);
    expect(await waiting).toEqual([]);
    expect(a.t.listening).toEqual([`127.0.0.1:${p}`]);
  });
});

describe('AEMP mesh among Courier nodes', () => {
  it('forms through the seeds, converges, survives a seed going away, and heals a cut link', async () => {
    const [pa, pb, pe] = await Promise.all([freePort(), freePort(), freePort()]);
    const seeds = [`127.0.0.1:${pa}`, `127.0.0.1:${pb}`, `127.0.0.1:${pe}`];
    const a = await withEcho(nodes.make('ga', { ...fast, binds: [seeds[0] as string], seeds }));
    const b = await withEcho(nodes.make('gb', { ...fast, binds: [seeds[1] as string], seeds }));
    const e = await withEcho(nodes.make('ge', { ...fast, binds: [seeds[2] as string], seeds }));
    for (const g of [a, b, e]) expect(g.t.registry.isGlobal).toBe(true);
    // The slaves know one seed each (c: two, so it can move).
    const c = await withEcho(nodes.make('sc', { ...fast, seeds: [seeds[0] as string, seeds[1] as string] }));
    const d = await withEcho(nodes.make('sd', { ...fast, seeds: [seeds[1] as string] }));
    await c.t.attached(3000);
    await d.t.attached(3000);

    const all = ['ga#echo', 'gb#echo', 'ge#echo', 'sc#echo', 'sd#echo'];
    await until(async () => JSON.stringify(await keys(d)) === JSON.stringify(all), 5000, 'every registration at every node');
    for (const g of [a, b, e]) {
      await until(() => g.t.registry.meshNodes().length === 2, 5000, `${g.node.name.name} meshed`);
      expect(await keys(g)).toEqual(all);
    }
    // d reaches c's echo by its port id: g_find at its master, then a connection of its own.
    const replyTo = puppet(d.node, 'answers');
    d.node.send('sc#echo', ['sd#answers', 'hi']);
    expect(await next(replyTo, 3000, 'the echo of sc')).toEqual(['hi']);

    // A cut link between two global nodes: the third still names both in 'g, so they redial.
    const bUp = (): boolean => a.node.nodes().some((n) => n.name === 'gb');
    a.node.disconnect('gb');
    await until(() => !bUp(), 2000, 'the link cut');
    await until(bUp, 5000, 'ga and gb connected again');
    await until(async () => JSON.stringify(await keys(a)) === JSON.stringify(all), 5000, 'ga converged after the heal');

    // A seed goes away — sc's master, whichever of ga and gb it took: its 'g entry and its
    // registrations go everywhere, and sc takes the other seed as master and hands it its database.
    const m = c.t.registry.master;
    expect(['ga', 'gb']).toContain(m);
    const [gone, other] = m === 'ga' ? [a, b] : [b, a];
    await gone.node.stop();
    // sd's only seed is gb: with gb gone it has no master, so its entries leave the view too (as in Perl).
    const rest = all.filter((k) => k !== `${m}#echo` && (m === 'ga' || k !== 'sd#echo'));
    await until(() => c.t.registry.master === other.node.name.name, 5000, 'sc takes the other seed as master');
    for (const n of [other, e, c]) await until(async () => JSON.stringify(await keys(n)) === JSON.stringify(rest), 8000, `${n.node.name.name} converged without ${m}`);
    for (const g of [other, e])
      await until(() => JSON.stringify(g.t.registry.meshNodes()) === JSON.stringify([g === e ? other.node.name.name : 'ge']), 5000, `${g.node.name.name}: ${m} out of 'g`);
  }, 30_000);
});
