import { Node } from '@courier/core';
import { Pid, Ref, Tuple, atom } from '@courier/term';
import { tcpDist } from '@courier/transport-tcp';

/**
 * Courier peers of `npm run bench:scale`: COUNT Courier nodes in this one process (a hub's
 * peers are spread over a few such processes), each with the processes an erl peer has
 * (scale_bench.erl peer/0): `scale_sink` counts messages and answers `{sync, From, Ref}` with
 * `{Ref, Count}`; `scale_target` traps exits and drops what it gets.
 *
 *   peers.ts PREFIX COUNT COOKIE EPMD_PORT TICKTIME   → prints `READY name,name,…`; stops on SIGTERM.
 */
const [prefix, count, cookie, epmdPort, ticktime] = process.argv.slice(2) as [string, string, string, string, string];
const SYNC = atom('sync');
const nodes: Node[] = [];
for (let i = 0; i < Number(count); i++) {
  const node = new Node({
    name: `${prefix}${i}@127.0.0.1`,
    transports: [tcpDist({ cookie, epmd: { port: Number(epmdPort), embedded: false }, netTicktime: Number(ticktime) })],
  });
  await node.start();
  node.spawn(
    async (self) => {
      let n = 0;
      for (;;) {
        const m = await self.receive();
        if (m instanceof Tuple && m.elements[0] === SYNC && m.elements[1] instanceof Pid && m.elements[2] instanceof Ref) self.send(m.elements[1], new Tuple([m.elements[2], n]));
        else n++;
      }
    },
    { name: atom('scale_sink') },
  );
  node.spawn(
    async (self) => {
      for (;;) await self.receive();
    },
    { name: atom('scale_target'), trapExit: true },
  );
  nodes.push(node);
}
process.stdout.write(`READY ${nodes.map((n) => n.name.name).join(',')}\n`);
process.on('SIGTERM', () => void Promise.all(nodes.map((n) => n.stop())).then(() => process.exit(0)));
