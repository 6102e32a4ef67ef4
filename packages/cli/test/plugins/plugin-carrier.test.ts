import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Container, ContainerModule } from 'inversify';
import { rpcCall, type Node } from '@courier/core';
import { atom } from '@courier/term';
import { MemoryTransport } from '@courier/transport-memory';
import { inProcess, uniqueName } from '@courier/testkit';
import { CARRIER_PLUGIN, ConfigError, buildNode, buildNodeParts, defaultContainer, loadNodeConfig, startServices, type CarrierPlugin } from '@courier/cli';
import { built } from '@acme/courier-carrier-loopback';

/**
 * A third-party carrier plugin (examples/plugin-carrier, the npm package
 * @acme/courier-carrier-loopback) swapped in by configuration alone: the program below only reads
 * configuration files; the files name the plugin and its carrier kind.
 */
const PLUGIN = '@acme/courier-carrier-loopback';
const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'courier-plugins-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const started: Node[] = [];
afterEach(async () => {
  for (const n of started.splice(0)) await n.stop();
});

function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

const nodeYaml = (name: string, plugins: readonly string[], network: string) =>
  `${plugins.length > 0 ? `plugins: [${plugins.map((p) => JSON.stringify(p)).join(', ')}]\n` : ''}node: { name: ${name}, cookie: loop }\ncarriers:\n  - { kind: loopback, network: ${network} }\n`;

/** What `courier node --config FILE` does: read the file (loading its plugins), build, serve, start. */
async function nodeFrom(path: string): Promise<{ node: Node; transport: unknown }> {
  const { config, container } = await loadNodeConfig(path);
  const { node, transports } = buildNodeParts(config, { container });
  startServices(node, config, container);
  await node.start();
  started.push(node);
  return { node, transport: transports.get('loopback') };
}

describe('a carrier plugin named in the configuration', () => {
  it('is loaded by dynamic import and its container module builds the carrier two nodes talk over', async () => {
    const network = uniqueName('lab');
    const before = built.transports;
    const [a, b] = [`${uniqueName('pa')}@127.0.0.1`, `${uniqueName('pb')}@127.0.0.1`];
    const na = await nodeFrom(file('a.yaml', nodeYaml(a, [PLUGIN], network)));
    const nb = await nodeFrom(file('b.yaml', nodeYaml(b, [PLUGIN], network)));
    // The plugin's ContainerModule bound the carrier that buildNode used, once per node.
    expect(built.transports - before).toBe(2);
    expect(na.transport).toBeInstanceOf(MemoryTransport);
    const sum = await inProcess(na.node, (self) => rpcCall(self, nb.node.name, atom('courier_echo'), atom('add'), [40, 2], 10_000));
    expect(sum).toBe(42);
    expect(na.node.dist.session(nb.node.name)?.carrier).toBe('memory');
  });

  it('without the plugin, the same carrier kind is a configuration error', async () => {
    const path = file('none.yaml', nodeYaml(`${uniqueName('pn')}@127.0.0.1`, [], 'x'));
    await expect(loadNodeConfig(path)).rejects.toThrow(ConfigError);
    await expect(loadNodeConfig(path)).rejects.toThrow(/carriers\[0\]\.kind in .*none\.yaml: .*loopback/);
  });

  it('the plugin’s section is held to the plugin’s schema, as a built-in one is', async () => {
    const path = file('typo.yaml', nodeYaml(`${uniqueName('py')}@127.0.0.1`, [PLUGIN], 'x').replace('network:', 'netwrok:'));
    await expect(loadNodeConfig(path)).rejects.toThrow(`carriers[0].netwrok in ${path}: unknown key; did you mean network?`);
  });

  it('two plugins claiming one carrier kind: a configuration error naming both', async () => {
    const path = file('two.yaml', nodeYaml(`${uniqueName('pt')}@127.0.0.1`, [PLUGIN, fixture('claims-loopback.ts')], 'x'));
    await expect(loadNodeConfig(path)).rejects.toThrow(
      `plugins[1] in ${path}: carrier kind "loopback" is claimed by two plugins, ${PLUGIN} and ${fixture('claims-loopback.ts')}: load only one of them`,
    );
    const tcp = file('tcp.yaml', nodeYaml(`${uniqueName('pt')}@127.0.0.1`, [fixture('claims-tcp.ts')], 'x'));
    await expect(loadNodeConfig(tcp)).rejects.toThrow(/carrier kind "tcp" is claimed by two plugins, @courier\/cli and .*claims-tcp\.ts/);
  });

  it('a plugin that cannot be loaded, or exports no container module, is named', async () => {
    const absent = file('absent.yaml', nodeYaml(`${uniqueName('px')}@127.0.0.1`, ['@acme/not-installed'], 'x'));
    await expect(loadNodeConfig(absent)).rejects.toThrow(/^plugins\[0\] in .*absent\.yaml: cannot load plugin @acme\/not-installed: .*\(is it installed\?\)$/);
    const bad = file('bad.yaml', nodeYaml(`${uniqueName('px')}@127.0.0.1`, [fixture('not-a-module.ts')], 'x'));
    await expect(loadNodeConfig(bad)).rejects.toThrow(/exports no inversify ContainerModule/);
    const notList = file('notlist.yaml', `plugins: "${PLUGIN}"\nnode: { name: a@h }\ncarriers: [{ kind: tcp }]\n`);
    await expect(loadNodeConfig(notList)).rejects.toThrow(/^plugins in .*notlist\.yaml: must be a list/);
  });

  it('a container built in code refuses two plugins of one kind too (the first would silently win)', () => {
    const c = defaultContainer();
    const mine: CarrierPlugin = { name: '@mine/tcp', kinds: ['tcp'], create: () => ({}) as never };
    c.loadSync(new ContainerModule(({ bind }) => void bind<CarrierPlugin>(CARRIER_PLUGIN).toConstantValue(mine)));
    expect(() => buildNode({ node: { name: 'a@h', cookie: 'c' }, carriers: [{ kind: 'tcp' }] }, { container: c })).toThrow(
      'plugins: carrier kind "tcp" is claimed by two plugins, @courier/cli and @mine/tcp: load only one of them',
    );
  });

  it('the built-in modules bind carriers, resolvers, observer, bridge and services', () => {
    const c = defaultContainer();
    for (const id of ['courier.carrierPlugin', 'courier.carrierRouter', 'courier.clusterFormation', 'courier.observer', 'courier.bridge', 'courier.nodeService']) {
      expect(c.isBound(Symbol.for(id)), id).toBe(true);
    }
    expect(new Container().isBound(CARRIER_PLUGIN)).toBe(false);
  });
});
