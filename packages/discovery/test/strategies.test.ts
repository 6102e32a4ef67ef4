import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '@courier/core';
import { EpmdServer, register } from '@courier/transport-tcp';
import { checkBasename, epmdHosts, nodeNameOf, parseHostsErlang, staticList } from '@courier/discovery';

const signal = new AbortController().signal;

describe('node names (erl -name conventions)', () => {
  it('joins a basename with an address or a DNS name, without the trailing dot of an SRV target', () => {
    expect(nodeNameOf('app', '10.0.0.7')).toBe('app@10.0.0.7');
    expect(nodeNameOf('app', 'fd00::7')).toBe('app@fd00::7');
    expect(nodeNameOf('app', 'app-0.app.default.svc.cluster.local.')).toBe('app@app-0.app.default.svc.cluster.local');
  });
  it('refuses a basename erl -name would refuse', () => {
    expect(checkBasename('app_1-x')).toBe('app_1-x');
    expect(() => checkBasename('a@b')).toThrow(/alive part/);
    expect(() => checkBasename('')).toThrow(/alive part/);
  });
});

describe('staticList', () => {
  it('answers its list, and refuses what is not alive@host', async () => {
    expect(await staticList(['a@h1', 'b@h2']).resolve(signal)).toEqual(['a@h1', 'b@h2']);
    expect(() => staticList(['nohost'])).toThrow(/alive@host/);
  });
});

describe('.hosts.erlang', () => {
  it('reads quoted and bare atoms with comments, as file:consult does', () => {
    const text = "% the cluster\n'host1.example.com'.\n'10.0.0.2'. localhost.\n";
    expect(parseHostsErlang(text)).toEqual(['host1.example.com', '10.0.0.2', 'localhost']);
  });
  it('refuses a term that is not a host atom, or a missing dot, naming the file', () => {
    expect(() => parseHostsErlang('"host".', 'h')).toThrow(/h: term 1 is not a host name atom/);
    expect(() => parseHostsErlang("'a'", 'h')).toThrow(/h: not Erlang terms/);
  });
});

describe('epmdHosts', () => {
  let epmd: EpmdServer;
  let port: number;
  let dir: string;
  const regs: { close(): void }[] = [];
  beforeAll(async () => {
    epmd = new EpmdServer(silentLogger);
    port = await epmd.listen(0, '127.0.0.1');
    for (const [name, p] of [
      ['alpha', 41001],
      ['beta', 41002],
    ] as const) {
      regs.push(await register({ host: '127.0.0.1', port }, { name, port: p, nodeType: 77, protocol: 0, highest: 6, lowest: 6, extra: Buffer.alloc(0) }, silentLogger));
    }
    dir = mkdtempSync(join(tmpdir(), 'cf-hosts-'));
  });
  afterAll(async () => {
    for (const r of regs) r.close();
    await epmd.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("asks each host's EPMD for its names (NAMES_REQ) → name@host as the file writes the host", async () => {
    const file = join(dir, '.hosts.erlang');
    writeFileSync(file, "'127.0.0.1'.\n");
    const found = await epmdHosts({ hostsFile: file, epmdPort: port }).resolve(signal);
    expect([...found].sort()).toEqual(['alpha@127.0.0.1', 'beta@127.0.0.1']);
  });

  it('skips a host without an EPMD (as net_adm:world does) and reads the file again each round', async () => {
    const file = join(dir, 'hosts2');
    writeFileSync(file, "'127.0.0.1'.\n");
    const s = epmdHosts({ hostsFile: file, hosts: ['127.0.0.9'], epmdPort: port, timeoutMs: 1000 });
    expect([...(await s.resolve(signal))].sort()).toEqual(['alpha@127.0.0.1', 'beta@127.0.0.1']);
    writeFileSync(file, '');
    expect(await s.resolve(signal)).toEqual([]);
  });
});
