import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { captureLog, findChromium, requirePeer, type CapturedLog } from '@courier/testkit';
import { observe, type Observer } from '@courier/observer';
import { cluster } from './cluster.js';

/**
 * The observer against a real browser (headless Debian chromium): a page from another origin
 * (another local port, which for cookies is the same site) cannot open the observer's WebSocket,
 * with or without the token's cookie in the browser; a name rebound to 127.0.0.1 reaches nothing;
 * the observer's own page works, and `/?token=…` lets the browser in and leaves the address without it.
 */
const chromiumPath = findChromium();
const chromium = requirePeer('chromium', chromiumPath !== null, 'no /usr/bin/chromium (Debian package chromium) and no CHROMIUM_PATH');
const TOKEN = 'browser-observer-token-5d1e7c';
/** A name an attacker would rebind to 127.0.0.1; chromium resolves it so with --host-resolver-rules. */
const REBOUND = 'rebind.test';

/** In the page: open a WebSocket to `url`; 'open', or how it failed. */
const tryWebSocket = (page: Page, url: string): Promise<string> =>
  page.evaluate(
    (u) =>
      new Promise<string>((resolve) => {
        const ws = new WebSocket(u);
        ws.onopen = () => {
          ws.close();
          resolve('open');
        };
        ws.onerror = () => resolve('error');
        ws.onclose = (e) => resolve(`close ${e.code}`);
        setTimeout(() => resolve('timeout'), 5000);
      }),
    url,
  );

describe('the observer in a real browser: cross-site pages and rebound names are refused', () => {
  let c: Awaited<ReturnType<typeof cluster>> | undefined;
  let open: Observer | undefined;
  let locked: Observer | undefined;
  let log: CapturedLog;
  let foreign: Server | undefined;
  let foreignPort = 0;
  let context: BrowserContext | undefined;
  let profile: string | undefined;

  beforeAll(async () => {
    if (chromiumPath === null) return;
    c = await cluster();
    log = captureLog();
    const node = await c.node('xsite_a@localhost', 'observer-test', log.logger);
    open = await observe(node, { intervalMs: 200, rttIntervalMs: 0 });
    locked = await observe(node, { intervalMs: 200, rttIntervalMs: 0, token: TOKEN });
    // Another web site on this machine: another port of 127.0.0.1.
    foreign = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>another site</title><p>hello'));
    await new Promise<void>((r) => (foreign as Server).listen(0, '127.0.0.1', () => r()));
    foreignPort = (foreign.address() as { port: number }).port;
    const { chromium: pw } = await import('playwright-core');
    profile = mkdtempSync(join(tmpdir(), 'courier-chromium-'));
    context = await pw.launchPersistentContext(profile, {
      executablePath: chromiumPath,
      headless: true,
      // launchChromium's flags (off the network), and the rebound name.
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        `--host-resolver-rules=MAP ${REBOUND} 127.0.0.1`,
      ],
    });
  });
  afterAll(async () => {
    await context?.close().catch(() => undefined);
    if (profile !== undefined) rmSync(profile, { recursive: true, force: true });
    await new Promise((r) => (foreign ? foreign.close(r) : r(undefined)));
    await locked?.close();
    await open?.close();
    await c?.stop();
  });

  it("a page from another origin cannot open the observer's WebSocket; the observer's own page can", async (ctx) => {
    chromium.require(ctx);
    const obs = open as Observer;
    const page = await (context as BrowserContext).newPage();
    await page.goto(obs.url);
    await page.locator('#status', { hasText: 'live' }).waitFor({ timeout: 5000 });
    expect(await tryWebSocket(page, `ws://127.0.0.1:${obs.port}/ws`)).toBe('open');

    await page.goto(`http://127.0.0.1:${foreignPort}/`);
    expect(await tryWebSocket(page, `ws://127.0.0.1:${obs.port}/ws`)).not.toBe('open');
    expect(await tryWebSocket(page, `ws://localhost:${obs.port}/ws`)).not.toBe('open');
    const refused = log.find('warn', 'page refused').filter((e) => e.fields['code'] === 'FOREIGN_ORIGIN');
    expect(refused.map((e) => e.fields['origin'])).toEqual([`http://127.0.0.1:${foreignPort}`, `http://127.0.0.1:${foreignPort}`]);
    await page.close();
  });

  it('/?token=… lets the browser in and takes the token out of the address; a page from another port (the same site, so the cookie goes along) is still refused', async (ctx) => {
    chromium.require(ctx);
    const obs = locked as Observer;
    const page = await (context as BrowserContext).newPage();
    const first = await page.goto(obs.url);
    expect(first?.status()).toBe(401);
    expect(await page.textContent('body')).toMatch(/\?token=/);

    await page.goto(`${obs.url}?token=${TOKEN}`);
    expect(page.url()).toBe(obs.url);
    await page.locator('#status', { hasText: 'live' }).waitFor({ timeout: 5000 });
    const cookies = await (context as BrowserContext).cookies(obs.url);
    expect(cookies.map((k) => [k.name, k.httpOnly, k.sameSite])).toEqual([[`courier_observer_${obs.port}`, true, 'Lax']]);
    expect(JSON.stringify(cookies)).not.toContain(TOKEN);

    const before = log.find('warn', 'page refused').length;
    await page.goto(`http://127.0.0.1:${foreignPort}/`);
    expect(await tryWebSocket(page, `ws://127.0.0.1:${obs.port}/ws`)).not.toBe('open');
    // Refused for its origin, not for a missing token: the browser did send the cookie.
    expect(
      log
        .find('warn', 'page refused')
        .slice(before)
        .map((e) => e.fields['code']),
    ).toEqual(['FOREIGN_ORIGIN']);
    await page.close();
  });

  it('a name rebound to 127.0.0.1 (DNS rebinding) gets neither the page nor the WebSocket', async (ctx) => {
    chromium.require(ctx);
    const obs = open as Observer;
    const page = await (context as BrowserContext).newPage();
    const r = await page.goto(`http://${REBOUND}:${obs.port}/`);
    expect(r?.status()).toBe(403);
    expect(await page.textContent('body')).toMatch(/does not answer to Host/);
    // The attacker's page, same-origin with the rebound name, tries the socket.
    expect(await tryWebSocket(page, `ws://${REBOUND}:${obs.port}/ws`)).not.toBe('open');
    const hosts = log.find('warn', 'refused').filter((e) => e.fields['code'] === 'FOREIGN_HOST' && e.fields['host'] === `${REBOUND}:${obs.port}`);
    expect(hosts.map((e) => e.msg)).toEqual(expect.arrayContaining(['observer: request refused', 'observer: page refused']));
    await page.close();
  });
});
