/**
 * A supervision tree on one node:
 *
 *   root (one_for_one)
 *   ├── store      a gen_server holding a counter
 *   └── workers (one_for_all)
 *       ├── w1     crashes when told
 *       └── w2
 *
 * `w1` crashes: its supervisor (one_for_all) restarts w1 and w2; `store` and the root are
 * untouched. Prints the tree before and after, and exits 0.
 *
 *   node --conditions=source --import tsx examples/basics/supervision.ts
 */
import { Node, call, cast, noreply, reply, startServer, startSupervisor, type GenServer } from '@courier/core';
import { Pid, Tuple, atom } from '@courier/term';
import { inProcess } from './util.js';

const node = new Node({ name: 'tree@localhost' });

const store: GenServer<{ n: number }, null> = {
  init: () => ({ n: 0 }),
  handleCall: (_req, _from, s) => reply(++s.n, s),
};
const worker: GenServer<{ name: string }, string> = {
  init: (_self, name) => ({ name }),
  handleCast(msg, s) {
    if (msg === atom('crash')) throw new Error(`${s.name}: told to crash`);
    return noreply(s);
  },
};

const w = (id: string) => ({ id, start: (sup: import('@courier/core').Process) => startServer(node, worker, id, { name: atom(id), linkTo: sup }) });

async function tree(self: import('@courier/core').Process, sup: Pid, indent = ''): Promise<string[]> {
  const lines: string[] = [];
  for (const c of (await call(self, sup, atom('which_children'))) as Tuple[]) {
    const [id, pid] = c.elements;
    // Core's which_children reports every child as a worker: the tree's shape is known here.
    const isSup = id === atom('workers');
    lines.push(`${indent}${String(id)} ${String(pid)}${isSup ? ' (supervisor)' : ''}`);
    if (isSup && pid instanceof Pid) lines.push(...(await tree(self, pid, indent + '  ')));
  }
  return lines;
}

async function main(): Promise<void> {
  await node.start();
  const root = await startSupervisor(node, { strategy: 'one_for_one' }, [
    { id: 'store', start: (sup) => startServer(node, store, null, { name: atom('store'), linkTo: sup }) },
    { id: 'workers', start: (sup) => startSupervisor(node, { strategy: 'one_for_all' }, [w('w1'), w('w2')], { linkTo: sup }) },
  ]);
  await inProcess(node, async (self) => {
    console.log(`store -> ${String(await call(self, atom('store'), atom('next')))}`);
    const before = await tree(self, root);
    console.log(['before:', ...before.map((l) => '  ' + l)].join('\n'));
    const [w1, w2] = [node.whereis(atom('w1')), node.whereis(atom('w2'))];
    cast(self, atom('w1'), atom('crash'));
    while (node.whereis(atom('w1')) === undefined || node.whereis(atom('w1')) === w1 || node.whereis(atom('w2')) === w2) await self.sleep(10);
    const after = await tree(self, root);
    console.log(['after w1 crashed:', ...after.map((l) => '  ' + l)].join('\n'));
    console.log(
      `restarted: w1 ${w1 === node.whereis(atom('w1')) ? 'no' : 'yes'}, w2 ${w2 === node.whereis(atom('w2')) ? 'no' : 'yes'} (one_for_all); store kept its state: ${String(await call(self, atom('store'), atom('next')))}`,
    );
  });
  await node.stop();
}

main().catch((err: unknown) => {
  console.error(`supervision: ${(err as Error).message}`);
  process.exitCode = 1;
});
