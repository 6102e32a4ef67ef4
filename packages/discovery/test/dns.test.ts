import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dnsA, dnsSrv } from '@courier/discovery';
import { startTestDns, type TestDns } from './dns-server.js';

/** The DNS strategies against a DNS server started here (dns2 on a loopback UDP port). */
let dns: TestDns;
const signal = new AbortController().signal;

beforeAll(async () => {
  dns = await startTestDns();
});
afterAll(async () => {
  await dns.close();
});

describe('dnsA', () => {
  it('A and AAAA records of a headless service → basename@address', async () => {
    dns.zone.set('app.default.svc.cluster.local', { a: ['10.1.0.4', '10.1.0.5'], aaaa: ['fd00::6'] });
    const s = dnsA({ query: 'app.default.svc.cluster.local', basename: 'app', servers: dns.servers });
    expect([...(await s.resolve(signal))].sort()).toEqual(['app@10.1.0.4', 'app@10.1.0.5', 'app@fd00::6']);
    const v4 = dnsA({ query: 'app.default.svc.cluster.local', basename: 'app', servers: dns.servers, records: ['A'] });
    expect([...(await v4.resolve(signal))].sort()).toEqual(['app@10.1.0.4', 'app@10.1.0.5']);
  });

  it('NXDOMAIN or no records is an empty cluster, not a failure', async () => {
    dns.zone.set('empty.test', {});
    expect(await dnsA({ query: 'nobody.test', basename: 'app', servers: dns.servers }).resolve(signal)).toEqual([]);
    expect(await dnsA({ query: 'empty.test', basename: 'app', servers: dns.servers }).resolve(signal)).toEqual([]);
  });

  it('a server that does not answer is a failure (the formation keeps the last answer)', async () => {
    dns.silent = true;
    try {
      await expect(dnsA({ query: 'app.default.svc.cluster.local', basename: 'app', servers: dns.servers, timeoutMs: 100, tries: 1 }).resolve(signal)).rejects.toMatchObject({
        code: 'ETIMEOUT',
      });
    } finally {
      dns.silent = false;
    }
  });
});

describe('dnsSrv', () => {
  it('SRV targets → basename@target, without the trailing dot', async () => {
    dns.zone.set('_dist._tcp.app.test', {
      srv: [
        { target: 'app-0.app.test', port: 9100 },
        { target: 'app-1.app.test', port: 9100 },
      ],
    });
    const s = dnsSrv({ query: '_dist._tcp.app.test', basename: 'app', servers: dns.servers });
    expect([...(await s.resolve(signal))].sort()).toEqual(['app@app-0.app.test', 'app@app-1.app.test']);
    expect(await dnsSrv({ query: '_none._tcp.app.test', basename: 'app', servers: dns.servers }).resolve(signal)).toEqual([]);
  });
});
