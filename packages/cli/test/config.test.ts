import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Node, type Transport } from '@courier/core';
import { atom } from '@courier/term';
import { CARRIER_PLUGIN, ConfigError, buildNode, defaultContainer, loadConfig, shape, validateConfig, type CarrierPlugin } from '@courier/cli';

const dir = mkdtempSync(join(tmpdir(), 'courier-config-'));
const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

describe('configuration', () => {
  it('loads YAML and JSON into the same configuration', () => {
    const y = loadConfig(file('a.yaml', 'node:\n  name: a@127.0.0.1\n  cookie: c\ncarriers:\n  - kind: tcp\nroutes:\n  - { match: "b@*", carrier: tcp }\n'));
    const j = loadConfig(file('a.json', JSON.stringify({ node: { name: 'a@127.0.0.1', cookie: 'c' }, carriers: [{ kind: 'tcp' }], routes: [{ match: 'b@*', carrier: 'tcp' }] })));
    expect(y).toEqual(j);
  });

  it.each([
    [{}, 'node'],
    [{ node: { name: 'nohost' }, carriers: [{ kind: 'tcp' }] }, 'node.name'],
    [{ node: { name: 'a@h', cookie: 3 }, carriers: [{ kind: 'tcp' }] }, 'node.cookie'],
    [{ node: { name: 'a@h' }, carriers: [] }, 'carriers'],
    [{ node: { name: 'a@h' }, carriers: [{ port: 1 }] }, 'carriers[0].kind'],
    [{ node: { name: 'a@h' }, carriers: [{ kind: 'tcp' }], routes: [{ match: '*', carrier: 'tls' }] }, 'routes[0].carrier'],
    [{ node: { name: 'a@h' }, carriers: [{ kind: 'tcp' }], log: { level: 5 } }, 'log.level'],
  ])('one clear error naming the field (%#)', (raw, field) => {
    try {
      validateConfig(raw);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      expect((e as ConfigError).field).toBe(field);
      expect((e as Error).message.startsWith(`${field}: `)).toBe(true);
    }
  });

  it('carrier sections are checked by their plugin, naming the field', () => {
    const bad = (carriers: unknown[]) => () => buildNode(validateConfig({ node: { name: 'a@h', cookie: 'c' }, carriers }));
    expect(bad([{ kind: 'quic' }])).toThrow(/carriers\[0\]\.kind: unknown carrier "quic"/);
    expect(bad([{ kind: 'tcp', listen: { port: 'x' } }])).toThrow(/carriers\[0\]\.listen\.port/);
    expect(bad([{ kind: 'tls' }])).toThrow(/carriers\[0\]\.server: missing/);
    expect(bad([{ kind: 'tcp', handshakeTimeoutMs: -1 }])).toThrow(/carriers\[0\]\.handshakeTimeoutMs/);
    expect(bad([{ kind: 'tcp', busyLimit: 0 }])).toThrow(/carriers\[0\]\.busyLimit: must be a positive number/);
    expect(bad([{ kind: 'tcp', busyLimit: 64 * 1024 }])).not.toThrow();
    expect(bad([{ kind: 'tcp', sendByReferenceMin: 0 }])).toThrow(/carriers\[0\]\.sendByReferenceMin: must be a positive number/);
    expect(bad([{ kind: 'tcp', sendByReferenceMin: 65536 }])).not.toThrow();
  });

  it('a third-party carrier is one more binding, with no change to core; routes pick it per peer', async () => {
    const connects: string[] = [];
    const fake: Transport = {
      name: 'quic',
      start: () => Promise.resolve(),
      stop: () => Promise.resolve(),
      dialer: (peer) => {
        connects.push(peer.name);
        throw new Error('no quic here');
      },
    };
    const plugin: CarrierPlugin = { kinds: ['quic'], schemas: { quic: shape.obj({ port: shape.port() }) }, create: () => fake };
    const c = defaultContainer();
    c.bind<CarrierPlugin>(CARRIER_PLUGIN).toConstantValue(plugin);
    const raw = {
      node: { name: 'a@127.0.0.1', cookie: 'c' },
      carriers: [
        { kind: 'tcp', epmd: false, listen: { port: 0 } },
        { kind: 'quic', port: 4433 },
      ],
      routes: [{ match: 'q*@*', carrier: 'quic' }],
    };
    // Its kind and its section's keys are known once its plugin is: the same deny-by-default check.
    expect(() => validateConfig(raw)).toThrow(/carriers\[1\]\.kind: unknown carrier "quic" \(known: tcp, tls, ssh, aemp\)/);
    const plugins = c.getAll<CarrierPlugin>(CARRIER_PLUGIN);
    expect(() => validateConfig({ ...raw, carriers: [{ kind: 'quic', prot: 1 }] }, 'q.yaml', { plugins })).toThrow(
      /^carriers\[0\]\.prot in q\.yaml: unknown key; did you mean port\?$/,
    );
    const node = buildNode(validateConfig(raw, 'q.yaml', { plugins }), { container: c });
    expect(node).toBeInstanceOf(Node);
    await node.start();
    expect(await node.connect(atom('q1@somewhere'))).toBe(false);
    await node.stop();
    expect(connects).toEqual(['q1@somewhere']);
  });
});
