import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Node, type Process } from '@courier/core';
import { atom, formatErlang, type Term } from '@courier/term';
import { aemp, type AempTransport } from '@courier/transport-aemp';
import { uniqueName } from '@courier/testkit';
import { ConfigError, buildNode, buildNodeParts, validateConfig } from '@courier/cli';

/** The aemp carrier plugin (config → node) and `courier aemp snd|mon|db`, Courier ↔ Courier. */
const BIN = fileURLToPath(new URL('../bin/courier.mjs', import.meta.url));
const run = promisify(execFile);
const secret = 'cli-aemp-secret';

function build(section: Record<string, unknown>, name = 'a@127.0.0.1') {
  return () => buildNode(validateConfig({ node: { name, cookie: 'c' }, carriers: [{ kind: 'aemp', ...section }] }));
}

describe('aemp carrier section', () => {
  it('is validated, errors name the field', () => {
    const field = (f: () => unknown): string => {
      try {
        f();
      } catch (e) {
        expect(e).toBeInstanceOf(ConfigError);
        return (e as ConfigError).field;
      }
      throw new Error('no error');
    };
    const saved = process.env['COURIER_AEMP_SECRET'];
    delete process.env['COURIER_AEMP_SECRET'];
    try {
      expect(field(build({}))).toBe('carriers[0].secret');
    } finally {
      if (saved !== undefined) process.env['COURIER_AEMP_SECRET'] = saved;
    }
    expect(field(build({ secret, bind: 'nowhere' }))).toBe('carriers[0].bind');
    expect(field(build({ secret, seeds: ['127.0.0.1:x'] }))).toBe('carriers[0].seeds[0]');
    expect(field(build({ secret, framing: 'storable' }))).toBe('carriers[0].framing');
    expect(field(build({ secret, nodeid: 'other' }))).toBe('carriers[0].nodeid');
    expect(field(build({ secret, global: 'yes' }))).toBe('carriers[0].global');
    expect(field(build({ secret, tls: { cert: '/nonexistent.pem', key: '/x' } }))).toBe('carriers[0].tls.cert');
    expect(field(build({ secret, peers: { p: 5 } }))).toBe('carriers[0].peers.p');
    expect(field(build({ secret, frobnicate: 1 }))).toBe('carriers[0].frobnicate');
    expect(field(() => validateConfig({ node: { name: 'a@h' }, carriers: [{ kind: 'tcp' }], bridge: true }))).toBe('bridge');
    expect(build({ secret, bind: '127.0.0.1:0', seeds: '127.0.0.1:4040', framing: 'cbor,json', nodeid: 'a@127.0.0.1' })()).toBeInstanceOf(Node);
  });

  it('a configured node talks to an AEMP node by port id; peers without @ go over aemp', async () => {
    const seed = new Node({ name: uniqueName('seed'), transports: [aemp({ secret, global: true })] });
    await seed.start();
    const addr = (seed as unknown as { transports: AempTransport[] }).transports[0]?.listening[0] as string;
    const { node, transports } = buildNodeParts(
      validateConfig({
        node: { name: `${uniqueName('cfg')}@127.0.0.1`, cookie: 'c' },
        carriers: [
          { kind: 'tcp', epmd: false },
          { kind: 'aemp', secret, seeds: [addr] },
        ],
      }),
    );
    await node.start();
    try {
      await (transports.get('aemp') as AempTransport).attached(10_000);
      const got = new Promise<Term>((resolve) => seed.spawn(async (self) => resolve(await self.receive()), { name: atom('inbox') }));
      node.send(`${seed.name.name}#inbox`, ['hi', 1]);
      expect(await got).toEqual(['hi', 1]);
      expect(node.dist.session(seed.name)?.carrier).toBe('aemp');
    } finally {
      await node.stop();
      await seed.stop();
    }
  });
});

describe('courier aemp', () => {
  let seed: Node;
  let t: AempTransport;
  let addr: string;
  const inbox: Term[] = [];
  let worker: Process | undefined;

  beforeAll(async () => {
    t = aemp({ secret, global: true });
    seed = new Node({ name: uniqueName('aseed'), transports: [t] });
    await seed.start();
    addr = t.listening[0] as string;
    seed.spawn(
      async (self) => {
        for (;;) inbox.push(await self.receive());
      },
      { name: atom('inbox') },
    );
    seed.spawn(
      async (self) => {
        worker = self;
        await self.receive();
        self.exit(atom('finished'));
      },
      { name: atom('worker') },
    );
    t.registry.dbSet('services', 'alpha', 'one');
    t.registry.dbSet('services', 'beta', [1, 2]);
  });

  afterAll(async () => {
    await seed?.stop();
  });

  async function courier(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    try {
      const r = await run(process.execPath, [BIN, 'aemp', ...args, '--seed', addr], { env: { ...process.env, COURIER_AEMP_SECRET: secret }, timeout: 30_000 });
      return { code: 0, stdout: r.stdout, stderr: r.stderr };
    } catch (err) {
      const x = err as { code: number; stdout: string; stderr: string };
      return { code: x.code, stdout: x.stdout, stderr: x.stderr };
    }
  }

  it('snd sends @TERMS (typed in Erlang syntax) to a port', async () => {
    const r = await courier('snd', `${seed.name.name}#inbox`, '"hello"', '42', '{ok, <<"x">>}');
    expect([r.code, r.stdout.trim()]).toEqual([0, 'ok']);
    await expect.poll(() => inbox.length).toBe(1);
    // Between Courier nodes the extended mapping keeps tuples and binaries.
    expect(formatErlang(inbox[0])).toBe('["hello",42,{ok,<<"x">>}]');
  });

  it('db keys / values / get / set read and write the global registry', async () => {
    const keys = await courier('db', 'keys', 'services');
    expect([keys.code, keys.stdout.trim().split('\n').sort()]).toEqual([0, ['alpha', 'beta']]);
    const get = await courier('db', 'get', 'services', 'beta');
    expect([get.code, get.stdout.trim()]).toEqual([0, '[1,2]']);
    const missing = await courier('db', 'get', 'services', 'gamma');
    expect(missing.code).toBe(1);
    const values = await courier('db', 'values', 'services');
    expect(values.stdout.trim().split('\n').sort()).toEqual(['"one"', '[1,2]']);
    // The key is held while the command runs (its node's entries go with its connection).
    const set = courier('db', 'set', 'tmp', 'k', '7', '--hold', '4000');
    await expect.poll(() => t.registry.dbKeys('tmp'), { timeout: 15_000, interval: 200 }).toEqual(['k']);
    expect((await set).code).toBe(0);
  });

  it('mon prints DOWN with the reason when the port dies', async () => {
    const child = spawn(process.execPath, [BIN, 'aemp', 'mon', `${seed.name.name}#worker`, '--seed', addr], { env: { ...process.env, COURIER_AEMP_SECRET: secret } });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    const code = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    // Once it says so, its monitor is on the wire; then the worker is told to stop.
    await expect.poll(() => stdout, { timeout: 20_000, interval: 50 }).toContain(`monitoring ${seed.name.name}#worker`);
    await new Promise((r) => setTimeout(r, 100));
    seed.send(worker?.pid as never, 'stop');
    expect(await code).toBe(0);
    expect(stdout).toContain('DOWN finished');
  });

  it('usage errors exit 2', async () => {
    expect((await courier('frob')).code).toBe(2);
    expect((await courier('snd', 'no-hash')).code).toBe(2);
  });
});
