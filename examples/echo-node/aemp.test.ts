import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, expect, it } from 'vitest';
import { Node, TIMEOUT } from '@courier/core';
import { aemp, portIdOfPid } from '@courier/transport-aemp';

/**
 * The echo node's AEMP contract (issue 5): `--carrier aemp --aemp-nodeid ID --aemp-bind H:P
 * --aemp-secret S --aemp-seed H:P` prints `READY ID` once attached to its seed, serves `ID#echo`
 * answering `[reply, ...args]` with `args`, and registers it in the family `echo`.
 */
const main = fileURLToPath(new URL('./main.ts', import.meta.url));
const children: ChildProcess[] = [];
const nodes: Node[] = [];
afterEach(async () => {
  for (const c of children.splice(0)) c.kill('SIGTERM');
  for (const n of nodes.splice(0)) await n.stop();
});

function startEchoNode(args: string[]): Promise<string> {
  const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', main, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`no READY within 20 s (stderr: ${err})`)), 20_000);
    child.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
      const line = /READY (\S+)/.exec(out);
      if (line) {
        clearTimeout(timer);
        resolve(line[1] as string);
      }
    });
    child.stderr?.on('data', (c: Buffer) => (err += c.toString()));
    child.once('exit', (code) => reject(new Error(`the echo node exited with ${code}: ${err}`)));
  });
}

it('serves ID#echo, attached to a seed and registered in the family echo', async () => {
  const seedT = aemp({ secret: 'echo-secret', global: true });
  const seed = await new Node({ name: 'test-seed', transports: [seedT] }).start();
  nodes.push(seed);
  const registered = new Promise<string[]>((resolve) => seedT.registry.dbMon('echo', (c) => c.set.size > 0 && resolve([...c.set.keys()])));
  const ready = await startEchoNode([
    '--carrier',
    'aemp',
    '--aemp-nodeid',
    'courier-echo',
    '--aemp-bind',
    '127.0.0.1:0',
    '--aemp-secret',
    'echo-secret',
    '--aemp-seed',
    seedT.listening[0] as string,
    '--log-level',
    'warn',
  ]);
  expect(ready).toBe('courier-echo');
  expect(await registered).toEqual(['courier-echo#echo']);
  const reply = await new Promise<unknown>((resolve) => {
    seed.spawn(async (self) => {
      self.send('courier-echo#echo', [portIdOfPid(self.pid), 'hello', 42]);
      resolve(await self.receive(undefined, 5000));
    });
  });
  expect(reply).not.toBe(TIMEOUT);
  expect(reply).toEqual(['hello', 42]);
}, 30_000);

it('without --aemp-seed it is a seed that lists its own registration (a Perl node asking db_keys echo gets ID#echo)', async () => {
  const { startAempEchoNode } = await import('./aemp-node.js');
  const { PerlPeer } = await import('../../packages/transport-aemp/test/perl-peer.js');
  const { default: pino } = await import('pino');
  const { freePort } = await import('@courier/testkit');
  const addr = `127.0.0.1:${await freePort()}`;
  const node = await startAempEchoNode({ nodeid: 'lone-echo', bind: addr, secret: 'echo-secret', seeds: [] }, pino({ level: 'silent' }), (m) => {
    throw new Error(m);
  });
  nodes.push(node);
  // What a Perl node that has this node as seed sends (Kernel.pm seed_connect, master_set), then db_keys.
  const perl = await PerlPeer.connect(addr, { nodeid: 'perl-client', secret: 'echo-secret', framing: 'json' });
  perl.send(['', 'g_slave']);
  perl.send(['', 'g_slave', { "'l": { 'perl-client': ['127.0.0.1:4304'] } }]);
  perl.send(['', 'g_db_keys', 'echo', 'b']);
  expect(await perl.reply('g_reply', 'b')).toEqual(['', 'g_reply', 'b', ['lone-echo#echo']]);
  perl.close();
});
