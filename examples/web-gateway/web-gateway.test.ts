import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { findChromium, launchChromium, randomCookie, requirePeer } from '@courier/testkit';

const root = fileURLToPath(new URL('../..', import.meta.url));
const chromiumPath = findChromium();
const chromium = requirePeer('chromium', chromiumPath !== null, 'no /usr/bin/chromium (Debian package chromium) and no CHROMIUM_PATH');

/**
 * The web-gateway example as it is run (`npm run example:web-gateway`), on ephemeral ports, driven
 * in chromium: a wrong password gets no token, the right one a token that reaches the granted name
 * only; and nothing the app serves holds the cluster cookie or the token secret.
 */
describe('examples/web-gateway', () => {
  const password = `pw-${randomCookie()}`;
  const cookie = `cookie-${randomCookie()}`;
  const tokenSecret = `secret-${randomCookie()}-${randomCookie()}`;
  let child: ChildProcess | undefined;
  let appUrl = '';
  let stderr = '';
  let browser: Awaited<ReturnType<typeof launchChromium>> | undefined;

  beforeAll(async () => {
    child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', 'examples/web-gateway/main.ts', '--port', '0', '--name', `web_gw_${process.pid}@127.0.0.1`], {
      cwd: root,
      env: { ...process.env, WEB_GATEWAY_PASSWORD: password, COURIER_COOKIE: cookie, PAGE_TOKEN_SECRET: tokenSecret, LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    // chromium starts while the example does.
    const launching = chromiumPath !== null ? launchChromium(chromiumPath) : undefined;
    try {
      appUrl = await new Promise<string>((resolve, reject) => {
        let out = '';
        const timer = setTimeout(() => reject(new Error(`the example printed no URL within 15 s:\n${out}\n${stderr}`)), 15_000);
        child!.stdout!.on('data', (d: Buffer) => {
          out += d.toString();
          const m = /open (http:\/\/\S+)/.exec(out);
          if (m) {
            clearTimeout(timer);
            resolve(m[1] as string);
          }
        });
        child!.once('exit', (code) => reject(new Error(`the example exited (${code}):\n${stderr}`)));
      });
    } finally {
      browser = await launching;
    }
  }, 30_000);

  afterAll(async () => {
    await browser?.close();
    if (child?.exitCode === null) {
      const exited = new Promise((r) => child!.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
  });

  it('serves no cluster cookie and no token secret: not in the page, its scripts, nor the login answer', async () => {
    const html = await (await fetch(appUrl)).text();
    const refs = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1] as string);
    expect(refs).toEqual(['/courier.js', '/page.js']);
    const scripts = await Promise.all(refs.map(async (r) => (await fetch(new URL(r, appUrl))).text()));
    const login = await (await fetch(new URL('/login', appUrl), { method: 'POST', body: JSON.stringify({ user: 'demo', password }) })).text();
    expect(scripts[0]).toContain('joinGateway');
    expect(login).toContain('"token"');
    const bodies = [html, ...scripts, login];
    for (const b of bodies) {
      expect(b).not.toContain(cookie);
      expect(b).not.toContain(tokenSecret);
      expect(b).not.toContain(password);
    }
  });

  async function withPage<T>(body: (page: Page) => Promise<T>): Promise<T> {
    const page = await browser!.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    try {
      await page.goto(appUrl);
      const r = await body(page);
      expect(errors).toEqual([]);
      return r;
    } finally {
      await page.close();
    }
  }

  async function logIn(page: Page, pw: string): Promise<{ status: number; body: string }> {
    await page.fill('#user', 'demo');
    await page.fill('#password', pw);
    const [res] = await Promise.all([page.waitForResponse('**/login'), page.click('#login button')]);
    return { status: res.status(), body: await res.text() };
  }

  it('a wrong password gets no token, and the page says so', async (ctx) => {
    chromium.require(ctx);
    await withPage(async (page) => {
      const sockets: string[] = [];
      page.on('websocket', (w) => sockets.push(w.url()));
      const res = await logIn(page, 'not-the-password');
      expect(res.status).toBe(401);
      expect(res.body).not.toContain('token');
      await page.waitForSelector('#status[data-state=refused]', { timeout: 5000 });
      expect(await page.textContent('#status')).toBe('Login refused: wrong user or password.');
      expect(await page.isHidden('#call')).toBe(true);
      expect(sockets).toEqual([]);
    });
  });

  it('the right password: the granted echo answers on the page; an ungranted name (rex) is refused there and logged', async (ctx) => {
    chromium.require(ctx);
    await withPage(async (page) => {
      expect((await logIn(page, password)).status).toBe(200);
      await page.waitForSelector('#status[data-state=joined]', { timeout: 5000 });
      expect(await page.textContent('#status')).toMatch(/^Joined as page_demo_[0-9a-f]{12}@127\.0\.0\.1 \(demo\)/);
      const call = async (name: string, n: number): Promise<{ state: string | null; text: string | null }> => {
        await page.fill('#name', name);
        await page.click('#call button');
        const li = await page.waitForSelector(`#calls li:nth-child(${n}):not([data-state=waiting])`, { timeout: 5000 });
        return { state: await li.getAttribute('data-state'), text: await li.textContent() };
      };
      expect(await call('echo', 1)).toEqual({ state: 'reply', text: 'echo: {reply,"hello"}' });
      expect(await call('rex', 2)).toEqual({ state: 'refused', text: 'rex: refused, {error,not_granted}' });
      // The page at run time holds no secret either.
      const live = await page.evaluate(() => document.documentElement.outerHTML + JSON.stringify(Object.keys(globalThis)));
      expect(live).not.toContain(cookie);
    });
    const refused = (): string[][] =>
      stderr
        .split('\n')
        .filter((l) => l.includes('page proxy request refused'))
        .map((l) => JSON.parse(l) as { identity: string; target: string })
        .map((l) => [l.identity, l.target]);
    await expect.poll(refused).toEqual([['demo', `{rex,web_gw_${process.pid}@127.0.0.1}`]]);
  });
});
