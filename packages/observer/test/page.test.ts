import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { atom } from '@courier/term';
import { findChromium, launchChromium, requirePeer } from '@courier/testkit';
import { observe, type Observer } from '@courier/observer';
import type { Node } from '@courier/core';
import { cluster } from './cluster.js';

const chromiumPath = findChromium();
const chromium = requirePeer('chromium', chromiumPath !== null, 'no /usr/bin/chromium (Debian package chromium) and no CHROMIUM_PATH');

describe('the observer page in a real browser', () => {
  let c: Awaited<ReturnType<typeof cluster>> | undefined;
  let a: Node;
  let obs: Observer;
  let browser: Awaited<ReturnType<typeof launchChromium>> | undefined;

  beforeAll(async () => {
    if (chromiumPath === null) return;
    c = await cluster();
    a = await c.node('page_a@localhost');
    obs = await observe(a, { intervalMs: 200, rttIntervalMs: 300 });
    browser = await launchChromium(chromiumPath);
  });
  afterAll(async () => {
    await browser?.close();
    await obs?.close();
    await c?.stop();
  });

  it('shows the node, a peer coming and going, and a crash', async (ctx) => {
    chromium.require(ctx);
    const page = await (browser as NonNullable<typeof browser>).newPage();
    await page.goto(obs.url);
    await page.locator('#status', { hasText: 'live' }).waitFor({ timeout: 5000 });
    await expect(page.locator('#node').textContent()).resolves.toBe('page_a@localhost');

    const b = await (c as NonNullable<typeof c>).node('page_b@localhost');
    expect(await b.connect('page_a@localhost')).toBe(true);
    const row = page.locator('#peers tbody tr', { hasText: 'page_b@localhost' });
    await row.waitFor({ timeout: 5000 });
    await expect(row.locator('td').nth(1).textContent()).resolves.toBe('tcp');
    await expect(row.locator('td').nth(2).textContent()).resolves.toBe('up');
    // The RTT probe answered (net_kernel is_auth round trip).
    await page.waitForFunction(() => /\d/.test(document.querySelector('#peers tbody tr td:last-child')?.textContent ?? ''), undefined, { timeout: 5000 });
    await page.locator('#timeline td.nodeup').first().waitFor({ timeout: 5000 });

    const pid = a.spawn(
      async (self) => {
        await self.receive();
        throw new Error('boom');
      },
      { name: atom('doomed') },
    );
    await page.locator('#procs tbody tr', { hasText: 'doomed' }).waitFor({ timeout: 5000 });
    a.send(pid, atom('go'));
    await page.locator('#timeline tr', { hasText: 'doomed' }).locator('td.crash').waitFor({ timeout: 5000 });

    await b.stop();
    await row.waitFor({ state: 'detached', timeout: 5000 });
    await page.locator('#timeline tr', { hasText: 'page_b@localhost' }).locator('td.nodedown').waitFor({ timeout: 5000 });
    await page.close();
  });

  it('fits its tables in a 1280 px window: no column cut off, no sideways scrolling', async (ctx) => {
    chromium.require(ctx);
    const page = await (browser as NonNullable<typeof browser>).newPage();
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.goto(obs.url);
    await page.locator('#status', { hasText: 'live' }).waitFor({ timeout: 5000 });
    const b = await (c as NonNullable<typeof c>).node('page_wide_with_a_long_name@localhost');
    expect(await b.connect('page_a@localhost')).toBe(true);
    await page.locator('#peers tbody tr', { hasText: 'page_wide_with_a_long_name@localhost' }).waitFor({ timeout: 5000 });
    // A crash with a long reason: the timeline wraps it rather than widening the table.
    const pid = a.spawn(async (self) => {
      await self.receive();
      self.exit([atom('a_long_exit_reason'.repeat(20)), { detail: atom('x'.repeat(200)) }]);
    });
    a.send(pid, atom('go'));
    await page.locator('#timeline td.crash').first().waitFor({ timeout: 5000 });
    const overflow = await page.evaluate(() =>
      Array.from(document.querySelectorAll('section'))
        .filter((s) => s.scrollWidth > s.clientWidth + 1)
        .map((s) => `${s.querySelector('h2')?.textContent}: ${s.scrollWidth} > ${s.clientWidth}`),
    );
    expect(overflow).toEqual([]);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(1280);
    await expect(page.locator('#timeline').textContent()).resolves.not.toContain('[object Object]');
    await b.stop();
    await page.close();
  });
});
