import { Node, type Process } from '@courier/core';
import { erlGlobal, startPg } from '@courier/erl-dist';
import { Pid, Ref, Tuple, atom, termEquals, type Term } from '@courier/term';
import { tcpDist } from '@courier/transport-tcp';

/**
 * The visible Courier node of `npm run bench:global`, in its own process (as each erl node has its
 * own VM): `peer.ts NAME COOKIE EPMD_PORT`. global starts with the node (visible), pg's default
 * scope by startPg. Its process `bench_global_peer` answers bench_global.erl the questions an erl
 * node answers there: `{From, Ref, names}` → `{Ref, Count}` (global names known here),
 * `{From, Ref, nodes}` → `{Ref, VisibleNodes}`, `{From, Ref, disconnect}` → global:disconnect() (to leave the cluster
 * between rounds) and `{Ref, Nodes}`, `{From, Ref, watch, Group, M}` → `{Ref, ready, node()}`
 * at once and `{Ref, seen, node()}` once this node's pg has M members in Group (pg monitor
 * messages counted, as pg_watch/4 does). Prints READY; stops on SIGTERM.
 */
const [name, cookie, epmdPort] = process.argv.slice(2) as [string, string, string];
const node = new Node({ name, transports: [tcpDist({ cookie, epmd: { port: Number(epmdPort), embedded: false }, hidden: false })] });
await node.start();
const global = erlGlobal(node);
const pg = startPg(node);
const [READY, SEEN, JOIN, LEAVE] = [atom('ready'), atom('seen'), atom('join'), atom('leave')];

async function watch(self: Process, from: Pid, ref: Ref, group: Term, m: number): Promise<void> {
  const mon = pg.monitor(self, group);
  self.send(from, new Tuple([ref, READY, node.name]));
  let n = mon.members.length;
  while (n < m) {
    const msg = await self.receive();
    if (!(msg instanceof Tuple) || !(msg.elements[0] instanceof Ref) || !termEquals(msg.elements[0], mon.ref)) continue;
    const pids = msg.elements[3] as Pid[];
    if (msg.elements[1] === JOIN) n += pids.length;
    else if (msg.elements[1] === LEAVE) n -= pids.length;
  }
  self.send(from, new Tuple([ref, SEEN, node.name]));
  pg.demonitor(mon.ref, self);
}

node.spawn(
  async (self) => {
    for (;;) {
      const msg = await self.receive();
      if (!(msg instanceof Tuple) || !(msg.elements[0] instanceof Pid) || !(msg.elements[1] instanceof Ref)) continue;
      const [from, ref, what] = msg.elements as [Pid, Ref, Term];
      if (what === atom('names')) self.send(from, new Tuple([ref, global.registeredNames().length]));
      else if (what === atom('nodes')) self.send(from, new Tuple([ref, node.nodes('visible')]));
      else if (what === atom('disconnect')) self.send(from, new Tuple([ref, global.disconnect()]));
      else if (what === atom('watch')) self.spawn((w) => watch(w, from, ref, msg.elements[3], msg.elements[4] as number));
    }
  },
  { name: atom('bench_global_peer') },
);
process.stdout.write(`READY ${name}\n`);
process.on('SIGTERM', () => void node.stop().then(() => process.exit(0)));
