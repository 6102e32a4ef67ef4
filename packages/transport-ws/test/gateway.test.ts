import { afterEach, describe, expect, it } from 'vitest';
import { Node, TIMEOUT, call, type Process } from '@courier/core';
import { Pid, Tuple, atom, formatErlang, type Term } from '@courier/term';
import { inProcess, uniqueName } from '@courier/testkit';
import { startGateway, wsDist, type Gateway, type WsDistTransport } from '@courier/transport-ws';

/**
 * The gateway's proxies between Courier nodes only (the real-browser and erl ones are in
 * browser-gateway.test.ts): `web…` nodes play the pages, `cl…` the cluster; all dial the gateway.
 */
const started: Node[] = [];
let gateway: Gateway | undefined;
afterEach(async () => {
  gateway?.stop();
  gateway = undefined;
  for (const n of started.splice(0).reverse()) await n.stop();
});

async function setup(): Promise<{ gw: Node; page: Node; cl: Node }> {
  const t: WsDistTransport = wsDist({ cookie: 'c', listen: { host: '127.0.0.1' } });
  const gw = await new Node({ name: `${uniqueName('gw')}@127.0.0.1`, transports: [t] }).start();
  started.push(gw);
  gateway = startGateway(gw, { isPage: (n) => n.name.startsWith('web') });
  const dial = async (prefix: string) => {
    const n = await new Node({ name: `${uniqueName(prefix)}@127.0.0.1`, transports: [wsDist({ cookie: 'c', urlFor: () => t.url })] }).start();
    started.push(n);
    expect(await n.connect(gw.name)).toBe(true);
    return n;
  };
  return { gw, page: await dial('web'), cl: await dial('cl') };
}

const next = async (self: Process, ms = 3000): Promise<Term> => {
  const m = await self.receive(undefined, ms);
  if (m === TIMEOUT) throw new Error('timed out');
  return m;
};

describe('startGateway', () => {
  it('a page calls for a proxy of a cluster name; pids are translated both ways; DOWN carries the reason', async () => {
    const { gw, page, cl } = await setup();
    // A cluster service: {From, ping} → From ! {pong, self()}; {_, stop} → exit(done).
    cl.spawn(
      async (self) => {
        for (;;) {
          const m = (await self.receive()) as Tuple;
          if (m.elements[1] === atom('stop')) self.exit(atom('done'));
          self.send(m.elements[0] as Pid, new Tuple([atom('pong'), self.pid]));
        }
      },
      { name: atom('svc') },
    );
    const got = await inProcess(page, async (self) => {
      const proxy = (await call(self, new Tuple([atom('gateway'), gw.name]), new Tuple([atom('proxy'), new Tuple([atom('svc'), cl.name])]))) as Pid;
      const ref = self.monitor(proxy);
      self.send(proxy, new Tuple([self.pid, atom('ping')]));
      const pong = (await next(self)) as Tuple;
      self.send(proxy, new Tuple([self.pid, atom('stop')]));
      const down = (await next(self)) as Tuple;
      return { proxy, pong, ref, down };
    });
    expect(got.proxy.node).toBe(gw.name);
    // The service saw a gateway pid for the page's, and the page sees a gateway pid for the service's.
    expect(got.pong.elements[0]).toBe(atom('pong'));
    expect((got.pong.elements[1] as Pid).node).toBe(gw.name);
    expect(got.down.elements[0]).toBe(atom('DOWN'));
    expect(String(got.down.elements[1])).toBe(String(got.ref));
    expect(got.down.elements[4]).toBe(atom('done'));
  });

  it('links through a proxy work both ways: a cluster process linked to a page process takes it down when it dies', async () => {
    const { gw, page, cl } = await setup();
    const pageProc = page.spawn((self) => self.receive());
    const pageDown = new Promise<Term>((resolve) => page.exits$.subscribe((e) => e.pid === pageProc && resolve(e.reason)));
    await inProcess(cl, async (self) => {
      self.send(new Tuple([atom('gateway'), gw.name]), new Tuple([atom('proxy'), self.pid, pageProc]));
      const r = (await next(self)) as Tuple;
      self.spawn(async (linker) => {
        linker.link(r.elements[2] as Pid);
        await linker.sleep(50);
        linker.exit(atom('cluster_side_gone'));
      });
    });
    expect(await pageDown).toBe(atom('cluster_side_gone'));
  });

  it('a cluster monitor on a page process (via its proxy) gets noconnection when the page goes', async () => {
    const { gw, page, cl } = await setup();
    const pageProc = page.spawn((self) => self.receive());
    const down = inProcess(cl, async (self) => {
      self.send(new Tuple([atom('gateway'), gw.name]), new Tuple([atom('proxy'), self.pid, pageProc]));
      const r = (await next(self)) as Tuple;
      expect(r.elements[0]).toBe(atom('gateway_proxy'));
      self.monitor(r.elements[2] as Pid);
      return ((await next(self, 10_000)) as Tuple).elements[4];
    });
    await new Promise((r) => setTimeout(r, 100));
    await page.stop();
    expect(await down).toBe(atom('noconnection'));
  });

  it('refuses what it cannot stand for', async () => {
    const { gw, page } = await setup();
    const got = await inProcess(page, async (self) => {
      const ask = async (target: Term) => {
        self.send(new Tuple([atom('gateway'), gw.name]), new Tuple([atom('proxy'), self.pid, target]));
        return formatErlang(((await next(self)) as Tuple).elements[2]);
      };
      return [await ask(atom('nothing')), await ask(new Tuple([atom('svc'), atom('nowhere@127.0.0.1')]))];
    });
    expect(got).toEqual(['{error,badarg}', '{error,noconnection}']);
  });
});
