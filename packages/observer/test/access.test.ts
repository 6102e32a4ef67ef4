import { afterEach, describe, expect, it } from 'vitest';
import { connect } from 'node:net';
import { networkInterfaces } from 'node:os';
import { UsageError, type Node } from '@courier/core';
import { captureLog, freePort, type CapturedLog } from '@courier/testkit';
import { checkObserveOptions, observe, observeOptionsFrom, type ObserveOptions, type Observer } from '@courier/observer';
import { cluster } from './cluster.js';
import { get, openPage } from './client.js';

/**
 * Who may use the observer (access.ts): the Host must name the listener (DNS rebinding is
 * refused), a page's Origin must be the observer's own, a token when one is set; beyond loopback
 * only with a token. Each refusal is answered (403/401) and logged.
 */
const TOKEN = 'k4v8-observer-token-3f9a1c';

/** The status line's code of the answer to a request written as is. */
function rawStatus(port: number, text: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => s.write(text));
    let got = '';
    s.on('data', (d: Buffer) => {
      got += d.toString('latin1');
      const m = /^HTTP\/1\.[01] (\d{3}) /.exec(got);
      if (m !== null) {
        s.destroy();
        resolve(Number(m[1]));
      }
    });
    s.once('error', reject);
    s.once('close', () => reject(new Error(`closed without a status: ${JSON.stringify(got)}`)));
  });
}

describe('the observer refuses what is not addressed to it, or not from its own page', () => {
  const done: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const d of done.reverse()) await d();
    done.length = 0;
  });

  async function start(opts: ObserveOptions = {}): Promise<{ obs: Observer; log: CapturedLog; node: Node }> {
    const c = await cluster();
    done.push(() => c.stop());
    const log = captureLog();
    const node = await c.node(`acc_${done.length}@localhost`, 'observer-test', log.logger);
    const obs = await observe(node, { rttIntervalMs: 0, ...opts });
    done.push(() => obs.close());
    return { obs, log, node };
  }

  it('a WebSocket upgrade from a foreign Origin is refused (403) and logged; no Origin and its own are let in', async () => {
    const { obs, log } = await start();
    const other = obs.port === 65535 ? 1 : obs.port + 1;
    for (const origin of ['http://evil.example', `http://127.0.0.1:${other}`, 'http://localhost', 'http://127.0.0.1', `https://127.0.0.1:${obs.port}`, 'null', 'not a url']) {
      const r = await openPage(obs.port, { origin });
      expect(r.status, origin).toBe(403);
      expect(
        log.find('warn', 'page refused').filter((e) => e.fields['code'] === 'FOREIGN_ORIGIN' && e.fields['origin'] === origin),
        origin,
      ).toHaveLength(1);
    }
    for (const headers of [{} as Record<string, string>, { origin: `http://127.0.0.1:${obs.port}` }, { origin: `http://localhost:${obs.port}` }]) {
      const r = await openPage(obs.port, headers);
      expect(r.status, JSON.stringify(headers)).toBe(101);
      expect(r.hello?.type).toBe('hello');
      r.ws?.close();
    }
    // HTTP too: a request a foreign page makes carries its Origin.
    expect((await get(obs.port, '/metrics', { origin: 'http://evil.example' })).status).toBe(403);
  });

  it('a Host that is not the bound address (DNS rebinding) is refused (403) and logged, on HTTP and the upgrade', async () => {
    const { obs, log } = await start();
    const other = obs.port === 65535 ? 1 : obs.port + 1;
    const foreign = [
      `evil.example:${obs.port}`,
      'evil.example',
      `localhost.evil.example:${obs.port}`,
      `127.0.0.1.nip.io:${obs.port}`,
      `127.0.0.1:${other}`,
      `[::1]:${obs.port}`,
      'a:b:c',
    ];
    for (const host of foreign) {
      for (const path of ['/', '/observer.js', '/metrics', '/nowhere']) expect((await get(obs.port, path, { host })).status, `${host} ${path}`).toBe(403);
      expect((await openPage(obs.port, { host })).status, host).toBe(403);
    }
    // No Host at all (HTTP/1.0; Node answers 400 to HTTP/1.1 without one).
    expect(await rawStatus(obs.port, 'GET /metrics HTTP/1.0\r\n\r\n')).toBe(403);
    expect(log.find('warn', 'request refused').filter((e) => e.fields['code'] === 'FOREIGN_HOST' && e.fields['host'] === `evil.example:${obs.port}`)).toHaveLength(4);
    expect(log.find('warn', 'page refused').filter((e) => e.fields['code'] === 'FOREIGN_HOST' && e.fields['host'] === `evil.example:${obs.port}`)).toHaveLength(1);
    // The names of this listener: its address, localhost (it is on loopback), with its port or none.
    for (const host of [`127.0.0.1:${obs.port}`, `localhost:${obs.port}`, `LOCALHOST:${obs.port}`, 'localhost', '127.0.0.1']) {
      expect((await get(obs.port, '/metrics', { host })).status, host).toBe(200);
      const r = await openPage(obs.port, { host });
      expect(r.status, host).toBe(101);
      r.ws?.close();
    }
  });

  it('hostnames and origins let in the names and pages listed, and only those', async () => {
    const { obs } = await start({ hostnames: ['observer.example'], origins: ['https://ops.example.com'] });
    expect((await get(obs.port, '/', { host: `observer.example:${obs.port}` })).status).toBe(200);
    expect((await get(obs.port, '/', { host: `observer2.example:${obs.port}` })).status).toBe(403);
    for (const origin of ['https://ops.example.com', `http://observer.example:${obs.port}`]) {
      const r = await openPage(obs.port, { origin });
      expect(r.status, origin).toBe(101);
      r.ws?.close();
    }
    expect((await openPage(obs.port, { origin: 'https://ops.example.com.evil.example' })).status).toBe(403);
    expect((await openPage(obs.port, { origin: 'http://ops.example.com' })).status).toBe(403);
  });

  it('behind a wildcard bind (with its token) it answers to the addresses of this machine, not to other names', async () => {
    const { obs } = await start({ host: '0.0.0.0', token: TOKEN });
    const auth = { authorization: `Bearer ${TOKEN}` };
    expect(obs.url).toBe(`http://127.0.0.1:${obs.port}/`);
    const own = Object.values(networkInterfaces())
      .flatMap((l) => l ?? [])
      .filter((a) => a.family === 'IPv4')
      .map((a) => a.address);
    for (const address of own) expect((await get(obs.port, '/', { ...auth, host: `${address}:${obs.port}` })).status, address).toBe(200);
    expect((await get(obs.port, '/', { ...auth, host: `192.0.2.1:${obs.port}` })).status).toBe(403);
    expect((await get(obs.port, '/', { ...auth, host: `evil.example:${obs.port}` })).status).toBe(403);
  });
});

describe('the access token', () => {
  const done: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const d of done.reverse()) await d();
    done.length = 0;
  });

  async function start(opts: ObserveOptions): Promise<{ obs: Observer; log: CapturedLog }> {
    const c = await cluster();
    done.push(() => c.stop());
    const log = captureLog();
    const node = await c.node(`tok_${done.length}@localhost`, 'observer-test', log.logger);
    const obs = await observe(node, { rttIntervalMs: 0, ...opts });
    done.push(() => obs.close());
    return { obs, log };
  }

  it('with a token, HTTP and WebSocket requests without it or with a wrong one are refused (401, logged), with it accepted', async () => {
    const { obs, log } = await start({ token: TOKEN });
    for (const path of ['/', '/observer.js']) {
      const none = await get(obs.port, path);
      expect(none.status, path).toBe(401);
      expect(none.headers['www-authenticate']).toMatch(/^Bearer/);
      expect(none.body).toMatch(/\?token=/);
      for (const wrong of [
        `Bearer ${TOKEN}x`,
        `Bearer ${TOKEN.slice(0, -1)}`,
        `Bearer ${TOKEN.toUpperCase()}`,
        `Basic ${Buffer.from(`u:${TOKEN}`).toString('base64')}`,
        'Bearer',
      ]) {
        expect((await get(obs.port, path, { authorization: wrong })).status, wrong).toBe(401);
      }
      expect((await get(obs.port, path, { authorization: `Bearer ${TOKEN}` })).status).toBe(200);
    }
    expect((await openPage(obs.port)).status).toBe(401);
    expect((await openPage(obs.port, { authorization: `Bearer ${TOKEN}0` })).status).toBe(401);
    const ok = await openPage(obs.port, { authorization: `Bearer ${TOKEN}` });
    expect(ok.status).toBe(101);
    expect(ok.hello?.type).toBe('hello');
    ok.ws?.close();
    expect(log.find('warn', 'request refused').filter((e) => e.fields['code'] === 'NO_TOKEN')).toHaveLength(2);
    expect(log.find('warn', 'request refused').filter((e) => e.fields['code'] === 'BAD_TOKEN')).toHaveLength(10);
    expect(log.find('warn', 'page refused').map((e) => e.fields['code'])).toEqual(['NO_TOKEN', 'BAD_TOKEN']);
    // The token is never logged.
    expect(JSON.stringify(log.entries)).not.toContain(TOKEN.slice(4, 20));
  });

  it('/?token=… sets a cookie and redirects to / without the token; the cookie opens the page and /ws, a forged one does not', async () => {
    const { obs } = await start({ token: TOKEN });
    const wrong = await get(obs.port, `/?token=${TOKEN}x`);
    expect(wrong.status).toBe(401);
    expect(wrong.headers['set-cookie']).toBeUndefined();

    const r = await get(obs.port, `/?token=${encodeURIComponent(TOKEN)}`);
    expect(r.status).toBe(303);
    expect(r.headers['location']).toBe('/');
    const set = (r.headers['set-cookie'] as string[])[0] as string;
    expect(set).toMatch(new RegExp(`^courier_observer_${obs.port}=[0-9a-f]{64}; Path=/; HttpOnly; SameSite=Lax$`));
    expect(set).not.toContain(TOKEN);
    const cookie = set.split(';')[0] as string;

    expect((await get(obs.port, '/', { cookie: `other=1; ${cookie}` })).status).toBe(200);
    const page = await openPage(obs.port, { cookie });
    expect(page.status).toBe(101);
    page.ws?.close();

    const name = cookie.split('=')[0] as string;
    for (const forged of [`${name}=${'0'.repeat(64)}`, `${name}=${TOKEN}`, `courier_observer_1=${cookie.split('=')[1]}`]) {
      expect((await get(obs.port, '/', { cookie: forged })).status, forged).toBe(401);
      expect((await openPage(obs.port, { cookie: forged })).status, forged).toBe(401);
    }
  });

  it('/metrics is plain by default, with a token too; metricsToken puts it behind the token', async () => {
    const plain = await start({ token: TOKEN });
    expect((await get(plain.obs.port, '/metrics')).status).toBe(200);

    const guarded = await start({ token: TOKEN, metricsToken: true });
    expect((await get(guarded.obs.port, '/metrics')).status).toBe(401);
    expect((await get(guarded.obs.port, '/metrics', { authorization: `Bearer ${TOKEN}-` })).status).toBe(401);
    const ok = await get(guarded.obs.port, '/metrics', { authorization: `Bearer ${TOKEN}` });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatch(/^# TYPE courier_processes gauge$/m);
  });
});

describe('where the observer may listen', () => {
  const refused = async (port: number): Promise<boolean> =>
    new Promise((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(false);
      });
      s.once('error', () => resolve(true));
    });

  it('beyond loopback without a token it refuses to start, with a UsageError that says what to do', async () => {
    const c = await cluster();
    try {
      const node = await c.node('where_a@localhost');
      for (const host of ['0.0.0.0', '::', '192.0.2.1', 'observer.example']) {
        const port = await freePort();
        const err = await observe(node, { host, port, rttIntervalMs: 0 }).then(
          (o) => o.close().then(() => undefined),
          (e: unknown) => e,
        );
        expect(err, host).toBeInstanceOf(UsageError);
        expect((err as UsageError).code).toBe('OBSERVER_TOKEN_REQUIRED');
        expect((err as Error).message).toMatch(/--observer-token or COURIER_OBSERVER_TOKEN/);
        expect((err as Error).message).toMatch(/listen on 127\.0\.0\.1/);
        expect(await refused(port), `nothing listens on ${host}:${port}`).toBe(true);
        expect(() => checkObserveOptions({ host })).toThrow(UsageError);
      }
      for (const host of ['127.0.0.1', '127.0.0.2', '::1', 'localhost', '[::1]', '::ffff:127.0.0.1']) expect(() => checkObserveOptions({ host }), host).not.toThrow();
    } finally {
      await c.stop();
    }
  });

  it('refuses a guessable token, metricsToken without a token, and malformed hostnames and origins', () => {
    const code = (o: ObserveOptions): string | undefined => {
      try {
        checkObserveOptions(o);
        return undefined;
      } catch (e) {
        return (e as UsageError).code;
      }
    };
    expect(code({ token: 'short' })).toBe('OBSERVER_OPTIONS');
    expect(code({ token: 'sixteen chars but spaces' })).toBe('OBSERVER_OPTIONS');
    expect(code({ metricsToken: true })).toBe('OBSERVER_OPTIONS');
    expect(code({ hostnames: ['a/b'] })).toBe('OBSERVER_OPTIONS');
    expect(code({ origins: ['https://ops.example.com/path'] })).toBe('OBSERVER_OPTIONS');
    expect(code({ origins: ['ops.example.com'] })).toBe('OBSERVER_OPTIONS');
    expect(code({ host: '0.0.0.0', token: TOKEN, metricsToken: true, hostnames: ['ops.example.com'], origins: ['https://ops.example.com'] })).toBeUndefined();
  });

  it('the flags: the token from --observer-token or COURIER_OBSERVER_TOKEN; observer flags without --observer are a usage error', () => {
    expect(observeOptionsFrom({}, {})).toBeUndefined();
    expect(observeOptionsFrom({ observer: '0.0.0.0:0' }, { COURIER_OBSERVER_TOKEN: TOKEN })).toEqual({ host: '0.0.0.0', port: 0, token: TOKEN });
    expect(observeOptionsFrom({ observer: '0.0.0.0:0', 'observer-token': `${TOKEN}2` }, { COURIER_OBSERVER_TOKEN: TOKEN })?.token).toBe(`${TOKEN}2`);
    expect(() => observeOptionsFrom({ observer: '0.0.0.0:0' }, {})).toThrow(/beyond loopback, without an access token/);
    expect(() => observeOptionsFrom({ 'observer-token': TOKEN }, {})).toThrow(/--observer-token without --observer/);
    expect(observeOptionsFrom({ observer: '8686', 'observer-hostname': ['obs.example'], 'observer-metrics-token': true }, { COURIER_OBSERVER_TOKEN: TOKEN })).toEqual({
      host: '127.0.0.1',
      port: 8686,
      token: TOKEN,
      hostnames: ['obs.example'],
      metricsToken: true,
    });
  });
});
