import { Atom, ErlExport, ErlMap, Pid, Tuple, atom, atoms, termKey, type Term } from '@courier/term';
import { UsageError, type Node, type Process } from '@courier/core';
import type { Observable } from 'rxjs';
import { Locker } from './locker.js';
import { deleteGlobalLock, delLock, lockId, setLock, setLockKnown, type Retries } from './locks.js';
import { multiCall } from './multi-call.js';
import { COURIER_RESOLVE, resolveIt, tsResolvers, type ResolveFn } from './resolve.js';
import { GlobalServer, type ServerDeps } from './server.js';
import { GlobalTables, type NameChange } from './tables.js';
import { A, GEN_CALL, GLOBAL, GNS, RANDOM_EXIT_NAME, t } from './wire.js';

/**
 * OTP's `global` on a visible Courier node: the name server, its locker and registrar as Courier
 * processes, speaking global.erl's protocol (version 8) with every visible Erlang (and Courier)
 * node. Started once per node by {@link startGlobal} (the Erlang carriers do it for a visible
 * node); the API below is global's: register_name, re_register_name, unregister_name,
 * whereis_name, send, registered_names, set_lock, del_lock, trans, sync.
 */
export type Resolve = 'random_exit_name' | 'random_notify_name' | 'notify_all_name' | ResolveFn;

/** A lock id `{ResourceId, LockRequesterId}`, as global:set_lock/1 takes it. */
export interface GlobalLockId {
  readonly resource: Term;
  readonly requester: Term;
}

/** Options of {@link startGlobal}. */
export interface GlobalOptions {
  /** kernel's global_multi_name_action: allow one process several names (default: refuse, as OTP). */
  readonly allowMultipleNames?: boolean;
}

const running = new WeakMap<Node, ErlGlobal>();

/**
 * OTP's `global` on a visible Courier node: the name server, locker and registrar as Courier processes,
 * speaking global.erl's protocol (version 8). Started once per node by {@link startGlobal}; the API is
 * global's: register_name, re_register_name, unregister_name, whereis_name, send, registered_names,
 * set_lock, del_lock, trans, sync.
 */
export class ErlGlobal {
  private readonly tables = new GlobalTables();
  private readonly funs = new Map<number, (self: Process) => void>();
  private nextFun = 1;
  private readonly jobs = new Map<number, (self: Process) => Promise<void>>();
  private nextJob = 1;
  private readonly server: GlobalServer;
  private readonly serverPid: Pid;
  private readonly registrar: Pid;
  /** Names registered and unregistered on this node's table, whichever node asked. */
  readonly changes$: Observable<NameChange>;

  constructor(
    private readonly node: Node,
    private readonly opts: GlobalOptions = {},
  ) {
    this.changes$ = this.tables.changes$.asObservable();
    tsResolvers.set(this.tables, new Map());
    const deps: ServerDeps = {
      tables: this.tables,
      putFun: (f) => {
        const id = this.nextFun++;
        this.funs.set(id, f);
        return id;
      },
      locker: undefined,
    };
    const server = new GlobalServer(node, deps);
    this.server = server;
    this.serverPid = node.spawn((self) => server.run(self), { name: GNS, trapExit: true });
    deps.locker = node.spawn((self) =>
      new Locker(self, {
        tables: this.tables,
        known: () => this.server.known(),
        takeFun: (id) => {
          const f = this.funs.get(id);
          this.funs.delete(id);
          return f;
        },
      }).run(),
    );
    this.registrar = node.spawn(async (self) => {
      for (;;) {
        const m = (await self.receive((x) => x instanceof Tuple && x.elements[0] === A.transAllKnown)) as Tuple;
        const job = this.jobs.get(m.elements[1] as number);
        this.jobs.delete(m.elements[1] as number);
        if (job !== undefined) await job(self);
      }
    });
    const tables = this.tables;
    // What an Erlang node calls (rpc) to resolve a conflict for a name whose pid lives here;
    // internal: it kills processes, so only cookie holders may call it (not sshrpc's allow-list).
    node.expose(
      GLOBAL,
      {
        resolve_it(this: Process, method: Term, name: Term, p1: Term, p2: Term) {
          if (!(p1 instanceof Pid) || !(p2 instanceof Pid)) return t(atoms.EXIT, atom('badarg'));
          return resolveIt(this, tables, method, name, p1, p2);
        },
      },
      { internal: true },
    );
    this.watchNodes();
  }

  /** The nodes' up and down, as net_kernel:monitor_nodes(true, #{connection_id => true}) gives global. */
  private watchNodes(): void {
    const node = this.node;
    const up = new Set<Atom>();
    const nodeup = (peer: Atom, connectionId: number): void => {
      up.add(peer);
      node.send(this.serverPid, t(A.nodeup, peer, new ErlMap([[A.connectionId, connectionId]])));
    };
    for (const peer of node.nodes('visible')) nodeup(peer, 0);
    node.events$.subscribe((ev) => {
      if (ev.type === 'nodeup') {
        if (ev.nodeType === 'visible') nodeup(ev.node, ev.connectionId);
      } else if (up.delete(ev.node) && node.isAlive(this.serverPid)) {
        node.send(this.serverPid, t(A.nodedown, ev.node, new ErlMap([[A.connectionId, ev.connectionId]])));
      }
    });
  }

  /** Run `fn` under global's own lock on every known node (trans_all_known/1), in the registrar. */
  private transAllKnown<T>(fn: (self: Process, nodes: Atom[]) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const id = this.nextJob++;
      this.jobs.set(id, async (self) => {
        const lid = lockId(GLOBAL, self.pid);
        const nodes = await setLockKnown(self, this.tables, lid, async () => (await this.callServer(self, A.getKnown)) as Atom[]);
        try {
          resolve(await fn(self, nodes));
        } catch (err) {
          reject(err instanceof Error ? err : new Error(String(err)));
        } finally {
          await deleteGlobalLock(self, lid, nodes);
        }
      });
      this.node.send(this.registrar, t(A.transAllKnown, id));
    });
  }

  /** gen_server:call(global_name_server, Req) from `self`. */
  private async callServer(self: Process, req: Term): Promise<Term> {
    const ref = self.node.makeRef();
    const key = termKey(ref);
    self.send(this.serverPid, t(GEN_CALL, t(self.pid, ref), req));
    const m = (await self.receive((x) => x instanceof Tuple && x.elements.length === 2 && termKey(x.elements[0]) === key)) as Tuple;
    return m.elements[1];
  }

  private methodOf(name: Term, resolve: Resolve | undefined): ErlExport {
    const map = tsResolvers.get(this.tables) as Map<string, ResolveFn>;
    if (typeof resolve === 'function') {
      map.set(termKey(name), resolve);
      return COURIER_RESOLVE;
    }
    map.delete(termKey(name));
    return resolve === undefined ? RANDOM_EXIT_NAME : new ErlExport(GLOBAL, atom(resolve), 3);
  }

  /** global:register_name/2,3: true (`yes`) when the name was free on every node. */
  register(name: Term, pid: Pid, resolve?: Resolve): Promise<boolean> {
    return this.transAllKnown(async (self, nodes) => {
      if (this.server.names.where(name) !== undefined || !this.checkDupname(name, pid)) return false;
      await multiCall(self, nodes, t(A.register, name, pid, this.methodOf(name, resolve)));
      return true;
    });
  }

  /** global:re_register_name/2,3. */
  async reRegister(name: Term, pid: Pid, resolve?: Resolve): Promise<void> {
    await this.transAllKnown(async (self, nodes) => {
      await multiCall(self, nodes, t(A.register, name, pid, this.methodOf(name, resolve)));
    });
  }

  /** global:unregister_name/1. */
  async unregister(name: Term): Promise<void> {
    if (this.server.names.where(name) === undefined) return;
    await this.transAllKnown(async (self, nodes) => {
      await multiCall(self, nodes, t(A.unregister, name));
    });
  }

  /** global:whereis_name/1. */
  whereis(name: Term): Pid | undefined {
    return this.server.names.where(name);
  }

  /** global:send/2: the pid it went to; UsageError NOT_REGISTERED when the name is free. */
  send(name: Term, msg: Term): Pid {
    const pid = this.whereis(name);
    if (pid === undefined)
      throw new UsageError('NOT_REGISTERED', `no process is registered globally as ${String(name)} ({badarg, {Name, Msg}}): register it first, or check global:registered_names()`);
    this.node.send(pid, msg);
    return pid;
  }

  /** global:registered_names/0. */
  registeredNames(): Term[] {
    return [...this.tables.names.values()].map((e) => e.name);
  }

  /** global:sync/0,1: resolves once this node is in sync with every visible node (or `nodes`). */
  sync(nodes?: readonly Atom[]): Promise<void> {
    const list = nodes ?? this.node.nodes('visible');
    return new Promise((resolve) => {
      this.node.spawn(async (self) => {
        await this.callServer(self, t(A.sync, [...list]));
        resolve();
      });
    });
  }

  /** global:set_lock/1,2,3 held by `holder` (the lock goes when it exits). */
  setLock(holder: Process, id: GlobalLockId, nodes?: readonly Atom[], retries: Retries = 'infinity'): Promise<boolean> {
    return setLock(holder, this.tables, lockId(id.resource, id.requester), nodes ?? [this.node.name, ...this.node.nodes('visible')], retries);
  }

  /** global:del_lock/1,2. */
  async delLock(holder: Process, id: GlobalLockId, nodes?: readonly Atom[]): Promise<void> {
    await delLock(holder, lockId(id.resource, id.requester), nodes ?? [this.node.name, ...this.node.nodes('visible')]);
  }

  /** global:trans/2,3,4: `fn` under the lock; `aborted` when it could not be set. */
  async trans<T>(holder: Process, id: GlobalLockId, fn: () => T | Promise<T>, nodes?: readonly Atom[], retries: Retries = 'infinity'): Promise<T | 'aborted'> {
    const ns = nodes ?? [this.node.name, ...this.node.nodes('visible')];
    if (!(await this.setLock(holder, id, ns, retries))) return 'aborted';
    try {
      return await fn();
    } finally {
      await this.delLock(holder, id, ns);
    }
  }

  /**
   * global:disconnect/0: leave the cluster quietly — disconnect from every node global knows of
   * without the lost_connection messages that would make the others drop each other too.
   */
  disconnect(): Atom[] {
    return this.server.disconnectAll();
  }

  /** check_dupname/2. */
  private checkDupname(name: Term, pid: Pid): boolean {
    const names = this.tables.namesOfPid(pid);
    if (names.length === 0 || this.opts.allowMultipleNames === true) return true;
    this.node.log.error({ pid: String(pid), names: [name, ...names].map(String) }, 'global: a process registered under several names');
    return false;
  }
}

/** Start `global` on `node` (once; later calls return the running one). */
export function startGlobal(node: Node, opts?: GlobalOptions): ErlGlobal {
  let g = running.get(node);
  if (g === undefined) {
    g = new ErlGlobal(node, opts);
    running.set(node, g);
  }
  return g;
}

/** The running `global` of `node`; UsageError when the node is not visible (global not started). */
export function erlGlobal(node: Node): ErlGlobal {
  const g = running.get(node);
  if (g === undefined)
    throw new UsageError('GLOBAL_NOT_STARTED', `global is not running on ${node.name.name}: make the node visible (hidden: false, --visible) or call startGlobal(node)`);
  return g;
}

/** global:register_name/2 on `node`. */
export function globalRegister(node: Node, name: Term, pid: Pid, resolve?: Resolve): Promise<boolean> {
  return erlGlobal(node).register(name, pid, resolve);
}

/** global:whereis_name/1 on `node`. */
export function globalWhereis(node: Node, name: Term): Pid | undefined {
  return erlGlobal(node).whereis(name);
}

/** global:send/2 on `node`. */
export function globalSend(node: Node, name: Term, msg: Term): Pid {
  return erlGlobal(node).send(name, msg);
}

/** global:unregister_name/1 on `node`. */
export function globalUnregister(node: Node, name: Term): Promise<void> {
  return erlGlobal(node).unregister(name);
}
