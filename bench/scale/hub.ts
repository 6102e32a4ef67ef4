import { Node, rpcCall, type Process } from '@courier/core';
import { Tuple, atom, atoms, termEquals, type Atom, type Pid, type Term } from '@courier/term';
import { tcpDist } from '@courier/transport-tcp';

/**
 * The Courier hub of `npm run bench:scale`, in its own process: the same steps as the Erlang hub
 * (scale_bench.erl hub_peers/3, hub_procs/3), the same lines on stdout (`MARK Label`, after which
 * the driver samples this process's RSS and CPU and the hub waits 300 ms; `RESULT Key Value`;
 * `DONE`). Runtime memory is V8's heap plus external memory after two full GCs (run with
 * --expose-gc), as erlang:memory(total) after a GC of every process on the Erlang side.
 *
 *   hub.ts peers COOKIE EPMD_PORT TICKTIME M IDLE_S WARM PEER,PEER,…
 *   hub.ts procs COOKIE EPMD_PORT TICKTIME NPROCS NWATCH PEER
 */
const [mode, cookie, epmdPort, ticktime, a, b, c, d] = process.argv.slice(2) as [string, string, string, string, string, string, string, string];
const node = new Node({
  name: `scalehub${process.pid}@127.0.0.1`,
  transports: [tcpDist({ cookie, epmd: { port: Number(epmdPort), embedded: false }, netTicktime: Number(ticktime) })],
});
await node.start();
const gc = (globalThis as { gc?: () => void }).gc;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const SYNC = atom('sync');
const MSG = atom('msg');

function mem(): number {
  gc?.();
  gc?.();
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
}

async function mark(label: string): Promise<void> {
  process.stdout.write(`MARK ${label}\n`);
  await sleep(300);
}

const result = (key: string, value: number): void => void process.stdout.write(`RESULT ${key} ${value}\n`);

/** Run `body` as a process of the hub and wait for it. */
function inProc<T>(body: (self: Process) => Promise<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    node.spawn(async (self) => {
      try {
        resolve(await body(self));
      } catch (err) {
        reject(err instanceof Error ? err : new Error(String(err)));
      }
    });
  });
}

/** As hub_peers/4: connected to `warm` and idle first, so the base includes the distribution's warmed-up code. */
async function hubPeers(m: number, idleS: number, warm: Atom, peers: Atom[]): Promise<void> {
  if (!(await node.connect(warm))) throw new Error(`could not connect to ${warm.name}`);
  await inProc((self) => rpcCall(self, warm, 'erlang', 'garbage_collect', []));
  const mem0 = mem();
  await mark('base');
  await sleep(idleS * 1000);
  await mark('base1');
  for (const p of peers) if (!(await node.connect(p))) throw new Error(`could not connect to ${p.name}`);
  const mem1 = mem();
  await mark('conn');
  result('mem_per_conn', (mem1 - mem0) / peers.length);
  await sleep(idleS * 1000);
  await mark('idle1');
  const sinks = peers.map((node) => ({ name: atom('scale_sink'), node }));
  let best = 0;
  for (let r = 0; r < 3; r++) best = Math.max(best, await inProc((self) => rate(self, sinks, m)));
  result('rate', best);
}

async function rate(self: Process, sinks: Array<{ name: Atom; node: Atom }>, m: number): Promise<number> {
  const n = sinks.length;
  const t0 = performance.now();
  for (let i = 0; i < m; i++) {
    self.send(sinks[i % n] as { name: Atom; node: Atom }, new Tuple([MSG, i]));
    // A busy connection parks the sender until it drains (as busy_dist_port suspends an erl process).
    if (self.parkedOn !== undefined) await self.yield();
  }
  const refs = sinks.map((s) => {
    const ref = node.makeRef();
    self.send(s, new Tuple([SYNC, self.pid, ref]));
    return ref;
  });
  for (const ref of refs) await self.receive((x) => x instanceof Tuple && termEquals(x.elements[0], ref));
  return m / ((performance.now() - t0) / 1000);
}

async function hubProcs(nProcs: number, nWatch: number, peer: Atom): Promise<void> {
  const mem0 = mem();
  await mark('base');
  const t0 = performance.now();
  const idle = (self: Process): Promise<unknown> => self.receive();
  for (let i = 0; i < nProcs; i++) node.spawn(idle);
  // Spawned bodies start in a microtask; all have reached their receive once this macrotask runs.
  await new Promise((r) => setImmediate(r));
  const t1 = performance.now();
  const mem1 = mem();
  await mark('procs');
  result('spawn_us', Math.round((t1 - t0) * 1000));
  result('mem_per_proc', (mem1 - mem0) / nProcs);
  result('down_1', await nodedown(peer, 1, 'monitor'));
  result('down_monitors', await nodedown(peer, nWatch, 'monitor'));
  result('down_links', await nodedown(peer, nWatch, 'link'));
  result('alive', node.processes().length);
}

async function nodedown(peer: Atom, n: number, kind: 'monitor' | 'link'): Promise<number> {
  if (!(await node.connect(peer))) throw new Error(`could not connect to ${peer.name}`);
  const target = (await inProc((self) => rpcCall(self, peer, 'erlang', 'whereis', [atom('scale_target')]))) as Pid;
  let stamp = 0;
  const collected = new Promise<void>((resolve) => {
    node.spawn(async (self) => {
      for (let i = 0; i < n; i++) await self.receive();
      stamp = performance.now();
      resolve();
    });
  });
  const collector = node.processes().at(-1) as Pid;
  const GOT = atom('got');
  let ready = 0;
  const isDown = (x: Term): boolean => x instanceof Tuple && x.elements[0] === atoms.DOWN && x.elements[4] === atoms.noconnection;
  const isExit = (x: Term): boolean => x instanceof Tuple && x.elements[0] === atoms.EXIT && x.elements[2] === atoms.noconnection;
  for (let i = 0; i < n; i++) {
    node.spawn(
      async (self) => {
        if (kind === 'monitor') self.monitor(target);
        else self.link(target);
        ready++;
        await self.receive(kind === 'monitor' ? isDown : isExit);
        self.send(collector, GOT);
      },
      { trapExit: kind === 'link' },
    );
  }
  while (ready < n) await sleep(1);
  // Every LINK / MONITOR_P is on the wire before this call (same connection, in order).
  await inProc((self) => rpcCall(self, peer, 'erlang', 'garbage_collect', [], 600_000));
  const t0 = performance.now();
  node.disconnectNode(peer);
  await collected;
  return Math.round((stamp - t0) * 1000);
}

if (mode === 'peers')
  await hubPeers(
    Number(a),
    Number(b),
    atom(c),
    d.split(',').map((s) => atom(s)),
  );
else await hubProcs(Number(a), Number(b), atom(c));
process.stdout.write('DONE\n');
process.exit(0);
