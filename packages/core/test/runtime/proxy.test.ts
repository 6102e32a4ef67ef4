import { describe, expect, it } from 'vitest';
import { ProxyTable, TIMEOUT, type ProxySpec } from '@courier/core';
import { Tuple, atom, type Term } from '@courier/term';
import { inProcess, localNode } from './helpers.js';

describe('ProxyTable', () => {
  it('a proxy forwards to its target, is made once per key, and exits with the target reason', async () => {
    const node = localNode();
    const proxies = new ProxyTable(node);
    const got: Term[] = [];
    const target = node.spawn(async (self) => {
      for (;;) {
        const m = (await self.receive()) as Tuple;
        if (m.elements[1] === 'die') self.exit(atom('boom'));
        got.push(m);
      }
    });
    const spec: ProxySpec = { key: 'k', watch: (p) => p.monitor(target), forward: (p, m) => p.send(target, new Tuple([atom('via'), m])) };
    const proxy = proxies.get(spec);
    expect(proxies.get(spec)).toBe(proxy);
    expect(proxies.lookup('k')).toBe(proxy);
    const down = await inProcess(node, async (self) => {
      const ref = self.monitor(proxy);
      self.send(proxy, 'hi');
      await self.sleep(10);
      self.send(proxy, 'die');
      const m = await self.receive(undefined, 2000);
      return m === TIMEOUT ? 'timeout' : [(m as Tuple).elements[1] === ref, (m as Tuple).elements[4]];
    });
    expect(got).toEqual([new Tuple([atom('via'), 'hi'])]);
    expect(down).toEqual([true, atom('boom')]);
    expect(proxies.lookup('k')).toBeUndefined();
    expect(proxies.pids()).toEqual([]);
  });

  it('maps the reason and stops every proxy on stopAll', async () => {
    const node = localNode();
    const proxies = new ProxyTable(node);
    const target = node.spawn(async (self) => {
      await self.receive();
      self.exit(atom('boom'));
    });
    const proxy = proxies.get({ key: 'a', watch: (p) => p.monitor(target), forward: (p, m) => p.send(target, m), reason: () => atom('mapped') });
    const other = proxies.get({ key: 'b', watch: (p) => p.monitor(node.spawn((s) => s.receive())), forward: () => undefined });
    const reason = await inProcess(node, async (self) => {
      self.monitor(proxy);
      await self.sleep(5);
      self.send(proxy, 'go');
      return ((await self.receive(undefined, 2000)) as Tuple).elements[4];
    });
    expect(reason).toBe(atom('mapped'));
    expect(node.isAlive(other)).toBe(true);
    proxies.stopAll();
    await new Promise((r) => setTimeout(r, 10));
    expect(node.isAlive(other)).toBe(false);
  });

  it('a link through a proxy works both ways; a monitored-only target is never linked', async () => {
    const node = localNode();
    const proxies = new ProxyTable(node);
    const target = node.spawn((self) => self.receive());
    const proxy = proxies.get({ key: 't', linkTarget: target, watch: (p) => p.monitor(target), forward: (p, m) => p.send(target, m) });
    await new Promise((r) => setTimeout(r, 5));
    expect(node.lookup(proxy)?.isLinked(target)).toBe(false);
    // A linker appears: the proxy links the target; the linker dies: the target dies too.
    const targetDown = new Promise<Term>((resolve) => node.exits$.subscribe((e) => e.pid === target && resolve(e.reason)));
    node.spawn(async (linker) => {
      linker.link(proxy);
      await linker.sleep(5);
      expect(node.lookup(proxy)?.isLinked(target)).toBe(true);
      linker.exit(atom('linker_gone'));
    });
    expect(await targetDown).toBe(atom('linker_gone'));

    // Monitoring only: the target is not linked, and outlives the watcher.
    const t2 = node.spawn((self) => self.receive());
    const p2 = proxies.get({ key: 't2', linkTarget: t2, watch: (p) => p.monitor(t2), forward: (p, m) => p.send(t2, m) });
    await inProcess(node, async (self) => {
      self.monitor(p2);
      await self.sleep(5);
    });
    expect(node.lookup(p2)?.isLinked(t2)).toBe(false);
    expect(node.isAlive(t2)).toBe(true);
  });

  it('unlinking the last linker unlinks the target', async () => {
    const node = localNode();
    const proxies = new ProxyTable(node);
    const target = node.spawn((self) => self.receive());
    const proxy = proxies.get({ key: 'u', linkTarget: target, watch: (p) => p.monitor(target), forward: () => undefined });
    const linked = await inProcess(node, async (self) => {
      self.link(proxy);
      await self.sleep(5);
      const during = node.lookup(proxy)?.isLinked(target);
      self.unlink(proxy);
      await self.sleep(5);
      return [during, node.lookup(proxy)?.isLinked(target)];
    });
    expect(linked).toEqual([true, false]);
  });
});
