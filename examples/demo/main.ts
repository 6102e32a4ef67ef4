/**
 * Courier demo. Act one: one node, a one_for_one supervisor with two gen_servers that exchange
 * ping/pong; `pong` crashes on purpose, the supervisor logs it and restarts it, and the exchange
 * resumes. Act two (cluster.ts): Courier nodes on tcp, memory and aemp in one cluster with an
 * embedded EPMD on a free private port, a supervised service called across carriers and crashed
 * and restarted, and — when `erl` is on PATH — an Erlang node whose message crosses the bridge
 * to an AEMP port and back. Run with `npm start` (add `-- --json` for raw pino JSON lines).
 * Exits 0 by itself within about ten seconds; it logs what it skipped and why.
 */
import { Node, TIMEOUT, _, call, isNormal, isShutdown, ptuple, startServer, startSupervisor, type ChildSpec } from '@courier/core';
import { Pid, Tuple, atom } from '@courier/term';
import { DONE, PING, PONG, STATS, pingServer, pongServer } from './actors.js';
import { demoLogger } from './log-format.js';
import { runCluster } from './cluster.js';

const ROUNDS = 10;
const EVERY_MS = 250;
const CRASH_AT = 4;
const DEADLINE_MS = 15_000;
const MAIN = atom('main');

const base = demoLogger(process.argv.includes('--json'));
const node = new Node({ name: 'demo@localhost', log: base });
const log = node.log;

// Observation edge: count pong's abnormal exits from the node's exit stream.
let pongCrashes = 0;
node.exits$.subscribe((e) => {
  if (e.name === PONG && !isNormal(e.reason) && !isShutdown(e.reason)) pongCrashes++;
});

let pongStarts = 0;
const children: ChildSpec[] = [
  {
    id: 'pong',
    // Only the first incarnation is faulty, so the restarted one keeps serving.
    start: (sup) => startServer(node, pongServer, { crashAt: ++pongStarts === 1 ? CRASH_AT : undefined }, { name: PONG, linkTo: sup }),
  },
  {
    id: 'ping',
    start: (sup) => startServer(node, pingServer, { every: EVERY_MS, rounds: ROUNDS, report: MAIN }, { name: PING, linkTo: sup }),
  },
];

let supervisor: Pid | undefined;

// The demo's own process: waits for ping's report, then asks pong and the supervisor how things are.
const finished = new Promise<Record<string, unknown>>((resolve, reject) => {
  node.spawn(
    async (self) => {
      const done = await self.receive(ptuple(DONE, _, _), DEADLINE_MS);
      if (done === TIMEOUT) return reject(new Error(`ping did not finish ${ROUNDS} rounds in ${DEADLINE_MS} ms`));
      const [, sent, got] = (done as Tuple).elements;
      const handled = await call(self, PONG, STATS);
      const which = (await call(self, supervisor as Pid, atom('which_children'))) as Tuple[];
      const running = which.map((c) => `${String(c.elements[0])}=${String(c.elements[1])}`);
      resolve({ pingsSent: sent, pongsReceived: got, pongCrashes, pongStarts, handledSinceRestart: handled, children: running });
    },
    { name: MAIN },
  );
});

async function main(): Promise<number> {
  log.info({ rounds: ROUNDS, everyMs: EVERY_MS, crashAt: CRASH_AT }, 'demo starting');
  supervisor = await startSupervisor(node, { strategy: 'one_for_one', intensity: 3, period: 5 }, children);
  log.info({ supervisor: supervisor.toString() }, 'supervisor up');
  let summary: Record<string, unknown>;
  try {
    summary = await finished;
    log.info(summary, 'local supervision finished');
  } catch (err) {
    log.error({ err }, 'demo failed');
    return 1;
  } finally {
    await node.stop();
  }
  try {
    const cluster = await runCluster(base);
    log.info({ ...summary, cluster }, 'demo finished');
    return 0;
  } catch (err) {
    log.error({ err }, 'demo failed (cluster)');
    return 1;
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    log.error({ err }, 'demo failed');
    process.exitCode = 1;
  },
);
