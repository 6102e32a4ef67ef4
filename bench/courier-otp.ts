import { Node, call, reply, spawnTyped, startChild, startDynamicSupervisor, startServer, startTypedServer, typedRef, type GenServer } from '@courier/core';
import { Tuple, atom, type Pid, type Term } from '@courier/term';
import { idle, onNode, perSecond } from './courier-pass.js';

/**
 * The typed-API and OTP rows of `npm run bench`: typed ping-pong, gen_server calls (term and
 * typed API, from an empty mailbox and from behind a backlog), dynamic supervisor start_child.
 * The Erlang side is in bench/erlang/courier_bench.erl under the same names.
 */
const PING = atom('ping');
const PONG = atom('pong');
const JUNK = atom('junk');

type Ping = { readonly type: 'ping'; readonly from: Pid } | { readonly type: 'stop' };

/** A body of a typed actor on a fresh node, its result when it ends; the node is stopped after. */
async function inTypedNode<T>(fn: (node: Node) => Promise<T>): Promise<T> {
  const node = new Node({ name: 'bench@localhost' });
  try {
    return await fn(node);
  } finally {
    await node.stop();
  }
}

/**
 * Typed ping-pong: as `pingPong`, between two typed actors. The echo answers each ping to a
 * `typedRef` of the pid it carries (docs/typed.md's idiom); local typed messages are not mapped.
 */
export const typedPingPong = (n: number): Promise<number> =>
  inTypedNode(
    (node) =>
      new Promise<number>((resolve, reject) => {
        spawnTyped<'pong'>(node, async (self) => {
          try {
            const pong = spawnTyped<Ping>(node, async (p) => {
              for (;;) {
                const m = await p.receive();
                if (m.type === 'stop') return;
                p.send(typedRef<'pong'>(p.node, m.from), 'pong');
              }
            });
            const t0 = performance.now();
            for (let i = 0; i < n; i++) {
              self.send(pong, { type: 'ping', from: self.pid }); // built per round, as in Erlang
              await self.receive();
            }
            const r = perSecond(n, t0);
            self.send(pong, { type: 'stop' });
            resolve(r);
          } catch (e) {
            reject(e instanceof Error ? e : new Error(String(e)));
          }
        });
      }),
  );

const echoServer: GenServer<number> = {
  init: () => 0,
  handleCall: (_req, _from, n) => reply(PONG, n),
};

/**
 * gen_server:call round trips to a term-API server; with `backlog`, the caller first queues that
 * many unrelated messages to itself (a reply is then found through the call's receive marker).
 */
export const callRate = (n: number, backlog: number): Promise<number> =>
  onNode(async (self) => {
    const server = await startServer(self.node, echoServer, undefined);
    const junk = new Tuple([JUNK, 0]);
    for (let i = 0; i < backlog; i++) self.send(self.pid, junk);
    const t0 = performance.now();
    for (let i = 0; i < n; i++) await call(self, server, PING);
    const r = perSecond(n, t0);
    if (self.mailbox.length !== backlog) throw new Error(`the backlog changed: ${self.mailbox.length} messages, expected ${backlog}`);
    return r;
  });

/** The same calls with the typed API: startTypedServer, and ServerRef.call from a typed actor. */
export const typedCallRate = (n: number): Promise<number> =>
  inTypedNode(async (node) => {
    const server = await startTypedServer<'ping', 'pong', never, number>(node, { init: () => 0, handleCall: (_req, s) => ({ reply: 'pong', state: s }) }, undefined);
    return new Promise<number>((resolve, reject) => {
      spawnTyped<never>(node, async (self) => {
        try {
          const t0 = performance.now();
          for (let i = 0; i < n; i++) await self.call(server, 'ping');
          resolve(perSecond(n, t0));
        } catch (e) {
          reject(e instanceof Error ? e : new Error(String(e)));
        }
      });
    });
  });

const NO_ARGS: Term[] = [];

/**
 * supervisor:start_child on a simple_one_for_one supervisor: each child an idle process linked
 * to it (temporary, brutal_kill, as the Erlang template). The node stop ends them all.
 */
export const startChildRate = (n: number): Promise<number> =>
  onNode(async (self) => {
    const sup = await startDynamicSupervisor(self.node, { id: 'worker', start: (s) => s.spawnLink(idle), restart: 'temporary', shutdown: 'brutal_kill' });
    const t0 = performance.now();
    for (let i = 0; i < n; i++) await startChild(self, sup, NO_ARGS);
    return perSecond(n, t0);
  });
