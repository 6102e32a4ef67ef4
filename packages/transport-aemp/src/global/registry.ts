import { atom, type Atom, type Pid, type Term } from '@courier/term';
import { ResolveError, UsageError, pidKey, type Logger, type ServiceHost } from '@courier/core';
import type { AempSession } from '../session/aemp-session.js';
import { pidOfPortName, portIdOfPid, splitPortId } from '../values/port-id.js';
import { LISTENERS, diffFamily, familyObject, isObject, type Db, type Family } from './db.js';
import { GlobalRole } from './global-role.js';
import { SlaveRole } from './slave-role.js';

/** A change to a monitored family: the keys set (on the first call: all of them) and deleted. */
export interface DbChange {
  readonly family: string;
  readonly set: ReadonlyMap<string, Term>;
  readonly del: readonly string[];
}
/** Told of every change to a monitored family of the global database. */
export type DbListener = (change: DbChange) => void;

export interface RegistryDeps {
  readonly self: Atom;
  /** The node's processes and names (`host.services`). */
  readonly services: ServiceHost;
  readonly log: Logger;
  /** Up sessions by peer node id. */
  readonly sessions: () => ReadonlyMap<string, AempSession>;
  /** Node ids of the seeds connected, in the order they came up. */
  readonly seedPeers: () => readonly string[];
  /** Seeds whose last dial failed, `address: why`: named when a query finds no master in time. */
  readonly seedFailures?: () => readonly string[];
  readonly connect: (peer: string) => void;
  /** How long a query waits for a master's answer. */
  readonly queryTimeoutMs: number;
  /** The longest wait between two dials of a global node that is gone (Perl: monitor_timeout). */
  readonly retryMaxMs: number;
}

/**
 * The AEMP global registry as a Courier node sees it (MP.pm db_*): its own registrations, the
 * network's through its master (slave role) or its own merged database (global role — a seed, or
 * a node a Perl node sent `g_slave`), and subscriptions. `db_reg` entries go when their process
 * exits.
 */
export class AempRegistry {
  readonly local: Db = new Map();
  private global: GlobalRole | undefined;
  private readonly slave: SlaveRole;
  private readonly listeners = new Map<string, Set<DbListener>>();
  /** Contents of families we monitor through the master (slave role). */
  private readonly cache = new Map<string, Family>();
  private readonly regs = new Map<string, Array<[string, string]>>();
  private exitsWatched = false;
  /** Peers that sent `g_global` while we were a slave (Perl's %GLOBAL_NODE on a normal node). */
  private readonly knownGlobals = new Set<string>();

  constructor(private readonly deps: RegistryDeps) {
    this.slave = new SlaveRole({
      local: this.local,
      seedSessions: () => deps.seedPeers().flatMap((p) => deps.sessions().get(p) ?? []),
      remoteChanged: (family, full, set, del) => this.remoteChanged(family, full, set, del),
    });
  }

  /**
   * isGlobal Whether this node holds the global role (serves the global database) rather than asking a
   * global node.
   */
  get isGlobal(): boolean {
    return this.global !== undefined;
  }

  /** The node id of our master (slave role), when one is up. */
  get master(): string | undefined {
    return this.global !== undefined ? this.deps.self.name : this.slave.masterPeer;
  }

  /** Resolves once a master is up, or rejects with ResolveError TIMEOUT after `timeoutMs`. */
  whenAttached(timeoutMs: number): Promise<void> {
    if (this.global !== undefined) return Promise.resolve();
    return this.query(this.slave.whenMaster(), 'attaching to a seed', timeoutMs);
  }

  /**
   * Run the global service from now on (a seed that is itself, or told so by `g_slave`): the
   * node tells the nodes it is connected to, gives the global ones its database, and what
   * waited for a master is answered from its own database.
   */
  becomeGlobal(): void {
    if (this.global !== undefined) return;
    this.deps.log.info('running the global registry service');
    const sessions = this.deps.sessions();
    const global = new GlobalRole({
      self: this.deps.self.name,
      local: this.local,
      sessions: () => sessions.values(),
      session: (peer) => sessions.get(peer),
      changed: (family, set, del) => this.notify(family, set, del),
      connect: this.deps.connect,
      knownGlobals: this.knownGlobals,
      retryMaxMs: this.deps.retryMaxMs,
    });
    this.global = global;
    this.slave.retire(
      (tag, family) => {
        const f = global.family(family);
        return tag === 'g_db_family' ? (familyObject(f) ?? {}) : tag === 'g_db_keys' ? [...f.keys()] : [...f.values()];
      },
      (nodeid) => {
        const a = global.family(LISTENERS).get(nodeid);
        return Array.isArray(a) ? a.map(String) : null;
      },
    );
    // Local db_mon listeners now hear the merged view.
    for (const family of this.listeners.keys()) {
      const cached = this.cache.get(family) ?? new Map<string, Term>();
      this.cache.delete(family);
      const { set, del } = diffFamily(cached, global.family(family));
      if (set.size > 0 || del.length > 0) this.notify(family, set, del);
    }
  }

  /** The global nodes this node keeps connections to (a global node's merged `'g`, without itself). */
  meshNodes(): string[] {
    return (this.global?.meshNodes() ?? []).filter((n) => n !== this.deps.self.name);
  }

  /** The node whose published listeners (`'l`, as far as this node knows them) include `address`. */
  listenerAt(address: string): string | undefined {
    const l = this.global?.family(LISTENERS) ?? this.cache.get(LISTENERS);
    for (const [node, addrs] of l ?? []) if (Array.isArray(addrs) && addrs.includes(address)) return node;
    return undefined;
  }

  /** A session came up (a global node greets it with g_global). */
  peerUp(s: AempSession): void {
    this.global?.peerUp(s);
  }

  /** A seed's session came up: make sure it runs the global service, and take it as master if we have none. */
  seedUp(s: AempSession): void {
    if (this.global !== undefined) s.request('g_slave');
    else this.slave.seedUp(s);
  }

  /** Forgets what `peer` registered or served, when its connection goes. */
  peerDown(peer: string): void {
    this.knownGlobals.delete(peer);
    this.global?.peerDown(peer);
    this.slave.peerDown(peer);
  }

  /** Stops the registry's global and slave roles. */
  stop(): void {
    this.global?.stop();
  }

  /** A `g_*` request from a peer; false when the tag is not the registry's. */
  handle(s: AempSession, tag: string, args: Term[]): boolean {
    if (tag === 'g_slave') this.becomeGlobal();
    if (this.global?.handle(s, tag, args)) return true;
    if (this.slave.handle(s, tag, args)) return true;
    if (tag !== 'g_global') return false;
    this.knownGlobals.add(s.peer.name); // a normal node only records it (Kernel.pm:551-553)
    return true;
  }

  // ---- our registrations ------------------------------------------------------------------

  /** `db_set family => key => value` */
  dbSet(family: string, key: string, value: Term = null): void {
    this.changeLocal(family, (f) => f.set(key, value));
  }

  /** `db_del family => keys…` */
  dbDel(family: string, ...keys: string[]): void {
    this.changeLocal(family, (f) => keys.forEach((k) => f.delete(k)));
  }

  /**
   * `db_reg family => $port [, $value]`: register a local process until it exits. The key is
   * the port id given (`me#name`) or the pid's (`me#~id.serial.creation`). Returns a function
   * that unregisters it sooner.
   */
  dbReg(family: string, port: Pid | string, value: Term = null): () => void {
    const pid = typeof port === 'string' ? this.localPid(port) : port;
    if (pid === undefined) throw new UsageError('NOPROC', `db_reg: ${String(port)} is not a live local port`);
    const key = typeof port === 'string' ? port : portIdOfPid(pid);
    this.dbSet(family, key, value);
    const k = pidKey(pid);
    const list = this.regs.get(k) ?? [];
    list.push([family, key]);
    this.regs.set(k, list);
    this.watchExits();
    if (!this.deps.services.isAlive(pid)) this.dbDel(family, key);
    return () => this.dbDel(family, key);
  }

  private localPid(portId: string): Pid | undefined {
    const [nodeid, name] = splitPortId(portId);
    if (nodeid !== this.deps.self.name) return undefined;
    return pidOfPortName(this.deps.self, name) ?? this.deps.services.whereis(atom(name));
  }

  /** Our own listener addresses, published as `'l` (what other nodes connect to). */
  setListeners(addrs: readonly string[]): void {
    this.dbSet(LISTENERS, this.deps.self.name, [...addrs]);
  }

  // ---- the network's registrations ---------------------------------------------------------

  /** The family as a plain object whose own properties are its keys (read them with Object.entries / Object.hasOwn). */
  dbFamily(family: string): Promise<Record<string, Term>> {
    if (this.global !== undefined) return Promise.resolve(familyObject(this.global.family(family)) ?? {});
    return this.query(this.slave.call('g_db_family', family), `db_family ${family}`).then((v) => (isObject(v) ? v : {}));
  }

  /** The keys of a family of the global database (AnyEvent::MP's `db_keys`). */
  dbKeys(family: string): Promise<string[]> {
    if (this.global !== undefined) return Promise.resolve([...this.global.family(family).keys()]);
    return this.query(this.slave.call('g_db_keys', family), `db_keys ${family}`).then((v) => (Array.isArray(v) ? v.map(String) : []));
  }

  /** The values of a family of the global database (AnyEvent::MP's `db_values`). */
  dbValues(family: string): Promise<Term[]> {
    if (this.global !== undefined) return Promise.resolve([...this.global.family(family).values()]);
    return this.query(this.slave.call('g_db_values', family), `db_values ${family}`).then((v) => (Array.isArray(v) ? v : []));
  }

  /** The listener addresses the network knows for `nodeid` (null: none). */
  find(nodeid: string): Promise<string[] | null> {
    if (this.global !== undefined) {
      const a = this.global.family(LISTENERS).get(nodeid);
      return Promise.resolve(Array.isArray(a) ? a.map(String) : null);
    }
    return this.query(this.slave.find(nodeid), `g_find ${nodeid}`);
  }

  /** `db_mon family`: `listener` gets the whole family first, then every change. Returns the unsubscribe. */
  dbMon(family: string, listener: DbListener): () => void {
    const set = this.listeners.get(family) ?? new Set<DbListener>();
    this.listeners.set(family, set.add(listener));
    if (this.global !== undefined) {
      const now = this.global.family(family);
      queueMicrotask(() => set.has(listener) && listener({ family, set: now, del: [] }));
    } else {
      const cached = this.cache.get(family);
      if (cached !== undefined) queueMicrotask(() => set.has(listener) && listener({ family, set: new Map(cached), del: [] }));
      this.slave.monitor(family, true);
    }
    return () => {
      set.delete(listener);
      if (set.size > 0) return;
      this.listeners.delete(family);
      this.cache.delete(family);
      this.slave.monitor(family, false);
    };
  }

  // ---- internals ---------------------------------------------------------------------------

  private changeLocal(family: string, mutate: (f: Family) => void): void {
    const f = this.local.get(family) ?? new Map<string, Term>();
    this.local.set(family, f);
    const before = new Map(f);
    const merged = this.global?.family(family);
    mutate(f);
    if (f.size === 0) this.local.delete(family);
    const set: Family = new Map();
    for (const [k, v] of f) if (!before.has(k) || before.get(k) !== v) set.set(k, v);
    const del = [...before.keys()].filter((k) => !f.has(k));
    if (this.global !== undefined && merged !== undefined) this.global.localChanged(family, set, del, merged);
    else this.slave.localChanged(family, set, del);
  }

  private remoteChanged(family: string, full: Family | undefined, set: Family, del: string[]): void {
    if (!this.listeners.has(family)) return;
    const cached = full ?? this.cache.get(family) ?? new Map<string, Term>();
    if (full === undefined) {
      for (const [k, v] of set) cached.set(k, v);
      for (const k of del) cached.delete(k);
    }
    this.cache.set(family, cached);
    this.notify(family, set, del);
  }

  private notify(family: string, set: Family, del: string[]): void {
    for (const l of this.listeners.get(family) ?? []) {
      try {
        l({ family, set, del });
      } catch (err) {
        this.deps.log.error({ err, family }, 'db_mon listener failed');
      }
    }
  }

  private watchExits(): void {
    if (this.exitsWatched) return;
    this.exitsWatched = true;
    this.deps.services.exits$.subscribe(({ pid }) => {
      const k = pidKey(pid);
      const list = this.regs.get(k);
      if (list === undefined) return;
      this.regs.delete(k);
      for (const [family, key] of list) this.dbDel(family, key);
    });
  }

  private query<T>(p: Promise<T>, what: string, ms = this.deps.queryTimeoutMs): Promise<T> {
    // A rejection of `p` goes through unchanged.
    let t: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<never>((_resolve, reject) => {
      t = setTimeout(() => {
        // Without a master, why the seeds were not reached is the answer the caller needs
        // (a wrong secret shows up here as the handshake's "shared secret mismatch").
        const failures = this.deps.seedFailures?.() ?? [];
        const why = failures.length === 0 ? '' : `; seed ${failures.join('; seed ')}`;
        reject(new ResolveError('TIMEOUT', `${what}: no answer from a master within ${ms} ms${why}`));
      }, ms);
      t.unref?.();
    });
    return Promise.race([p, deadline]).finally(() => clearTimeout(t));
  }
}
