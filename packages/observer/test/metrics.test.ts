import { afterEach, describe, expect, it } from 'vitest';
import { atom, Tuple } from '@courier/term';
import { silentLogger } from '@courier/core';
import { LogTap, observe, type Observer } from '@courier/observer';
import { cluster } from './cluster.js';

/** Parse Prometheus text: `name{labels}` → value. */
function parse(text: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    m.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return m;
}

async function until<T>(f: () => Promise<T | undefined> | T | undefined, ms = 5000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error('deadline passed');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('/metrics', () => {
  let done: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const d of done.reverse()) await d();
    done = [];
  });

  it('counts known traffic, connections, crashes, restarts and handshake failures', async () => {
    const c = await cluster();
    done.push(() => c.stop());
    const tap = new LogTap(silentLogger);
    const a = await c.node('obs_a@localhost', 'observer-test', tap.logger);
    const b = await c.node('obs_b@localhost');
    const obs: Observer = await observe(a, { logTap: tap, rttIntervalMs: 0 });
    done.push(() => obs.close());

    // 100 messages b → a's `sink`, which replies to each.
    let got = 0;
    a.spawn(
      async (self) => {
        for (;;) {
          const m = (await self.receive()) as Tuple;
          self.send(m.elements[0] as never, atom('ack'));
        }
      },
      { name: atom('sink') },
    );
    const acks = new Promise<void>((resolve) => {
      b.spawn(async (self) => {
        for (let i = 0; i < 100; i++) self.send({ name: 'sink', node: 'obs_a@localhost' }, new Tuple([self.pid, i]));
        while (got < 100) {
          await self.receive();
          got++;
        }
        resolve();
      });
    });
    await acks;

    // A named process crashes and comes back under its name.
    const crasher = a.spawn(
      async (self) => {
        await self.receive();
        throw new Error('boom');
      },
      { name: atom('crasher') },
    );
    const gone = new Promise<void>((r) => {
      const s = a.exits$.subscribe((x) => {
        if (x.pid === crasher) {
          s.unsubscribe();
          r();
        }
      });
    });
    a.send(crasher, atom('go'));
    await gone;
    a.spawn(
      async (self) => {
        await self.receive();
      },
      { name: atom('crasher') },
    );

    // A node with another cookie is refused.
    const bad = await c.node('obs_bad@localhost', 'wrong');
    expect(await bad.connect('obs_a@localhost')).toBe(false);

    const metrics = await until(async () => {
      const m = parse(await (await fetch(`${obs.url}metrics`)).text());
      return (m.get('courier_handshake_failures_total{reason="BAD_COOKIE"}') ?? 0) >= 1 ? m : undefined;
    });
    expect(metrics.get('courier_connections{carrier="tcp"}')).toBe(1);
    expect(metrics.get('courier_messages_total{direction="in",carrier="tcp"}')).toBeGreaterThanOrEqual(100);
    expect(metrics.get('courier_messages_total{direction="out",carrier="tcp"}')).toBeGreaterThanOrEqual(100);
    expect(metrics.get('courier_bytes_total{direction="in",carrier="tcp"}')).toBeGreaterThan(100 * 10);
    expect(metrics.get('courier_restarts_total')).toBe(1);
    expect(metrics.get('courier_crashes_total')).toBe(1);
    expect(metrics.get('courier_processes')).toBe(a.processes().length);
    expect(metrics.get('courier_mailbox_length_count')).toBe(a.processes().length);
    expect(metrics.get('courier_mailbox_length_bucket{le="+Inf"}')).toBe(a.processes().length);

    // Counters survive the connection going away.
    const before = metrics.get('courier_bytes_total{direction="in",carrier="tcp"}') as number;
    a.disconnect('obs_b@localhost');
    const after = await until(async () => {
      const m = parse(await (await fetch(`${obs.url}metrics`)).text());
      return m.get('courier_connections{carrier="tcp"}') === undefined ? m : undefined;
    });
    expect(after.get('courier_bytes_total{direction="in",carrier="tcp"}')).toBeGreaterThanOrEqual(before);
  });

  it('listens on loopback by default and serves the page', async () => {
    const c = await cluster();
    done.push(() => c.stop());
    const a = await c.node('obs_c@localhost');
    const obs = await observe(a, { rttIntervalMs: 0 });
    done.push(() => obs.close());
    expect(obs.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const page = await fetch(obs.url);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    expect(await page.text()).toContain('Courier observer');
    expect((await fetch(`${obs.url}nope`)).status).toBe(404);
  });
});
