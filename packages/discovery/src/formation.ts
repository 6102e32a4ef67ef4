import { Subject, type Observable, type Subscription } from 'rxjs';
import { silentLogger, type Logger, type NodeEvent } from '@courier/core';
import { atom, type Atom } from '@courier/term';
import type { Strategy } from './strategy.js';

/**
 * What the formation needs of a node: its name, connect and disconnect, and its nodeup/nodedown
 * events. `Node` satisfies it; nothing else of the node is reachable from here.
 */
export interface ClusterNode {
  readonly name: Atom;
  /** Connects to `peer`; resolves false when it cannot be reached. */
  connect(peer: Atom): Promise<boolean>;
  /** Drops the connection to `peer`; false when there was none. */
  disconnect(peer: Atom): boolean;
  readonly events$: Observable<NodeEvent>;
}

/**
 * Options of {@link formCluster}: the strategies, the interval between rounds, and what to do with a member
 * no longer listed.
 */
export interface FormationOptions {
  /** Where the nodes are found; the cluster is the union of their answers. */
  readonly strategies: readonly Strategy[];
  /** Time between the end of one round and the start of the next (libcluster's polling_interval). */
  readonly intervalMs?: number;
  /**
   * Disconnect a member that no strategy lists any more (libcluster does, for DNS). Default
   * false: it only leaves the member list, and its connection lives or dies on its own (a node
   * removed from a headless service while still running keeps serving those talking to it).
   */
  readonly disconnectGone?: boolean;
  readonly log?: Logger;
}

/** A member joined (listed and connected) or left (no longer listed, or its connection went down). */
export type MembershipChange =
  { readonly type: 'joined'; readonly node: Atom; readonly strategy: string } | { readonly type: 'left'; readonly node: Atom; readonly reason: 'unlisted' | 'nodedown' };

/** A cluster kept formed by {@link formCluster}: its members, their joins and leaves, and `stop`. */
export interface Cluster {
  /** Every join and leave, in order; completes on stop(). */
  readonly changes$: Observable<MembershipChange>;
  /** The members now: listed by a strategy in the last round and connected. */
  members(): Atom[];
  /** Run a round now (after the one under way, if any). */
  refresh(): Promise<void>;
  /** Stop re-resolving (the round under way is abandoned); connections stay as they are. */
  stop(): Promise<void>;
}

/** libcluster's default polling interval. */
export const DEFAULT_INTERVAL_MS = 5000;
/**
 * At most this many names taken from one round: every name becomes an atom, and a DNS zone is
 * not a peer that has authenticated — a runaway answer must not fill the atom table.
 */
export const MAX_LISTED = 4096;

/**
 * Form a cluster and keep it formed: resolve every strategy now and then every `intervalMs`,
 * connect each node listed that is not connected yet (a failed connect is retried next round),
 * and drop from the members those no longer listed. A listed node that connects to us first
 * joins at its nodeup; a member whose connection goes down leaves, and the next round reconnects it.
 */
export function formCluster(node: ClusterNode, opts: FormationOptions): Cluster {
  const log = (opts.log ?? silentLogger).child({ component: 'cluster' });
  const interval = opts.intervalMs ?? DEFAULT_INTERVAL_MS;
  const changes$ = new Subject<MembershipChange>();
  /** Listed in the last round → the strategy that listed it. */
  let listed = new Map<string, string>();
  const members = new Map<string, Atom>();
  const previous: (readonly string[] | undefined)[] = opts.strategies.map(() => undefined);
  const abort = new AbortController();
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let chain: Promise<void> = Promise.resolve();

  const join = (n: Atom, strategy: string): void => {
    if (members.has(n.name)) return;
    members.set(n.name, n);
    log.info({ peer: n.name, strategy }, 'cluster member joined');
    changes$.next({ type: 'joined', node: n, strategy });
  };
  const leave = (name: string, reason: 'unlisted' | 'nodedown'): void => {
    const n = members.get(name);
    if (n === undefined) return;
    members.delete(name);
    log.info({ peer: name, reason }, 'cluster member left');
    changes$.next({ type: 'left', node: n, reason });
    if (reason === 'unlisted' && opts.disconnectGone === true) node.disconnect(n);
  };

  const sub: Subscription = node.events$.subscribe((e) => {
    if (stopped) return;
    const strategy = listed.get(e.node.name);
    if (e.type === 'nodeup' && strategy !== undefined) join(e.node, strategy);
    if (e.type === 'nodedown') leave(e.node.name, 'nodedown');
  });

  async function resolveAll(signal: AbortSignal): Promise<Map<string, string>> {
    const answers = await Promise.all(
      opts.strategies.map((s, i) =>
        s.resolve(signal).then(
          (names) => (previous[i] = names),
          (err: unknown) => {
            // Could not ask (a DNS timeout): keep what this strategy said last time.
            log.warn({ strategy: s.kind, err: (err as Error).message }, 'cluster strategy failed; keeping its last answer');
            return previous[i] ?? [];
          },
        ),
      ),
    );
    const out = new Map<string, string>();
    answers.forEach((names, i) => {
      for (const n of names) if (n !== node.name.name && !out.has(n)) out.set(n, (opts.strategies[i] as Strategy).kind);
    });
    if (out.size > MAX_LISTED) {
      log.warn({ listed: out.size, max: MAX_LISTED }, 'cluster strategies listed too many nodes; keeping the first');
      return new Map([...out].slice(0, MAX_LISTED));
    }
    return out;
  }

  async function round(): Promise<void> {
    const signal = abort.signal;
    const now = await resolveAll(signal);
    if (signal.aborted) return;
    listed = now;
    for (const name of [...members.keys()]) if (!now.has(name)) leave(name, 'unlisted');
    await Promise.all(
      [...now]
        .filter(([name]) => !members.has(name))
        .map(async ([name, strategy]) => {
          const peer = atom(name);
          const up = await node.connect(peer).catch(() => false);
          if (signal.aborted) return;
          if (up && listed.has(name)) join(peer, strategy);
          else if (!up) log.debug({ peer: name, strategy }, 'cluster node not reachable; retrying next round');
        }),
    );
  }

  const refresh = (): Promise<void> => {
    if (stopped) return Promise.resolve();
    chain = chain.then(round).catch((err: unknown) => log.error({ err }, 'cluster round failed'));
    return chain;
  };
  const loop = (): void => {
    void refresh().then(() => {
      if (stopped) return;
      timer = setTimeout(loop, interval);
      timer.unref();
    });
  };
  loop();

  return {
    changes$: changes$.asObservable(),
    members: () => [...members.values()],
    refresh,
    async stop() {
      if (stopped) return;
      stopped = true;
      clearTimeout(timer);
      abort.abort();
      await chain;
      sub.unsubscribe();
      changes$.complete();
    },
  };
}
