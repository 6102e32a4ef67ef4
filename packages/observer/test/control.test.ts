import { afterEach, describe, expect, it } from 'vitest';
import { atom } from '@courier/term';
import { captureLog } from '@courier/testkit';
import { WebSocket } from 'ws';
import { observe } from '@courier/observer';
import { cluster } from './cluster.js';

/** Send a kill command from a page; the messages the page got after it, other than samples. */
async function sendKill(url: string, name: string): Promise<Array<{ type: string }>> {
  const ws = new WebSocket(`${url.replace('http', 'ws')}ws`);
  await new Promise((r) => ws.once('message', r)); // hello
  const got: Array<{ type: string }> = [];
  ws.on('message', (d) => {
    const m = JSON.parse((d as Buffer).toString()) as { type: string };
    if (m.type !== 'sample') got.push(m);
  });
  ws.send(JSON.stringify({ op: 'kill', name }));
  // A sample follows the hello; the kill was read before the socket closes.
  await new Promise((r) => setTimeout(r, 100));
  expect(ws.readyState, 'the page is kept open').toBe(ws.OPEN);
  ws.close();
  return got;
}

describe('the observer page channel', () => {
  const done: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const d of done.reverse()) await d();
    done.length = 0;
  });

  it('refuses kill when read-only (the default), answering the page and logging it, and obeys it only with readOnly: false', async () => {
    const c = await cluster();
    done.push(() => c.stop());
    const log = captureLog();
    const a = await c.node('ctl_a@localhost', 'observer-test', log.logger);
    const pid = a.spawn(
      async (self) => {
        await self.receive();
      },
      { name: atom('victim') },
    );

    const ro = await observe(a, { rttIntervalMs: 0 });
    done.push(() => ro.close());
    const answers = await sendKill(ro.url, 'victim');
    expect(a.isAlive(pid)).toBe(true);
    expect(answers).toEqual([expect.objectContaining({ type: 'refused', op: 'kill', name: 'victim', reason: expect.stringMatching(/read-only/) as unknown })]);
    expect(log.find('warn', 'kill refused').map((e) => e.fields['code'])).toEqual(['READ_ONLY']);
    const ro2 = await observe(a, { rttIntervalMs: 0, readOnly: true });
    done.push(() => ro2.close());
    await sendKill(ro2.url, 'victim');
    expect(a.isAlive(pid)).toBe(true);

    const rw = await observe(a, { rttIntervalMs: 0, readOnly: false });
    done.push(() => rw.close());
    const gone = new Promise((r) =>
      a.exits$.subscribe((x) => {
        if (x.pid === pid) r(x.reason);
      }),
    );
    await sendKill(rw.url, 'victim');
    expect(await gone).toBe(atom('killed'));
  });

  it('pushes samples with the node, peers and processes over /ws', async () => {
    const c = await cluster();
    done.push(() => c.stop());
    const a = await c.node('ctl_b@localhost');
    const b = await c.node('ctl_c@localhost');
    await b.connect(a.name);
    const obs = await observe(a, { rttIntervalMs: 0, intervalMs: 100 });
    done.push(() => obs.close());
    const ws = new WebSocket(`${obs.url.replace('http', 'ws')}ws`);
    type Sample = { type: string; node: { name: string }; peers: Array<{ node: string; carrier: string }>; processes: Array<{ name: string | null }> };
    const samples: Sample[] = [];
    // ws hands a text message over as one Buffer (binaryType 'nodebuffer', the default).
    await new Promise<void>((resolve) =>
      ws.on('message', (d) => {
        const m = JSON.parse((d as Buffer).toString()) as Sample;
        if (m.type === 'sample') samples.push(m);
        if (samples.length >= 2) resolve();
      }),
    );
    ws.close();
    const s = samples[1]!;
    expect(s.node.name).toBe('ctl_b@localhost');
    expect(s.peers).toEqual([expect.objectContaining({ node: 'ctl_c@localhost', carrier: 'tcp' })]);
    expect(s.processes.map((p) => p.name)).toContain('net_kernel');
  });
});
