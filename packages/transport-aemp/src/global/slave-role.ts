import type { Term } from '@courier/term';
import type { AempSession } from '../session/aemp-session.js';
import { dbObject, familyObject, isObject, type Db, type Family } from './db.js';

export interface SlaveHost {
  readonly local: Db;
  /** Up sessions of seed nodes, in the order they came up. */
  seedSessions(): AempSession[];
  /** The master pushed a family we monitor (g_chg1) or a change to it (g_chg2). */
  remoteChanged(family: string, full: Family | undefined, set: Family, del: string[]): void;
}

interface Call {
  readonly tag: 'g_db_family' | 'g_db_keys' | 'g_db_values';
  readonly family: string;
  readonly resolve: (v: Term) => void;
}

/**
 * The slave side of the registry (Kernel.pm:476-768): pick the first connected seed as master,
 * give it our local database with `g_slave`, send it our changes (`g_upd`), ask it for families,
 * keys, values and node addresses (`g_db_*` → `g_reply`, `g_find` → `g_found`), subscribe to
 * families (`g_mon1` → `g_chg1`, `g_chg2`), and when the master goes, do it all again with the
 * next seed. Requests made while no master is up wait for one.
 */
export class SlaveRole {
  private master: AempSession | undefined;
  private nextId = 0;
  private readonly calls = new Map<string, Call>();
  private readonly finds = new Map<string, Array<(addrs: string[] | null) => void>>();
  private readonly mons = new Set<string>();
  private masterWaiters: Array<() => void> = [];
  private retired = false;

  constructor(private readonly host: SlaveHost) {}

  get masterPeer(): string | undefined {
    return this.master?.peer.name;
  }

  /** Resolves once a master is up (at once if one is). */
  whenMaster(): Promise<void> {
    if (this.master !== undefined) return Promise.resolve();
    return new Promise((resolve) => this.masterWaiters.push(resolve));
  }

  /** A seed came up: make sure it runs the global service; take it as master if we have none. */
  seedUp(s: AempSession): void {
    s.request('g_slave');
    if (this.master === undefined && !this.retired) this.pickMaster();
  }

  peerDown(peer: string): void {
    if (this.master?.peer.name !== peer) return;
    this.master = undefined;
    if (!this.retired) this.pickMaster();
  }

  localChanged(family: string, set: Family, del: string[]): void {
    if (this.master === undefined) return;
    if (set.size > 0) this.master.request('g_upd', family, familyObject(set));
    if (del.length > 0) this.master.request('g_upd', family, null, del);
  }

  /** `g_db_family` / `g_db_keys` / `g_db_values` at the master. */
  call(tag: 'g_db_family' | 'g_db_keys' | 'g_db_values', family: string): Promise<Term> {
    return new Promise((resolve) => {
      const id = (++this.nextId).toString(36);
      this.calls.set(id, { tag, family, resolve });
      this.master?.request(tag, family, id);
    });
  }

  /** Resolves with the addresses the master knows for `nodeid` (null: none). */
  find(nodeid: string): Promise<string[] | null> {
    return new Promise((resolve) => {
      const list = this.finds.get(nodeid);
      if (list !== undefined) {
        list.push(resolve);
        return;
      }
      this.finds.set(nodeid, [resolve]);
      this.master?.request('g_find', nodeid);
    });
  }

  monitor(family: string, on: boolean): void {
    if (on === this.mons.has(family)) return;
    if (on) this.mons.add(family);
    else this.mons.delete(family);
    this.master?.request(on ? 'g_mon1' : 'g_mon0', family);
  }

  handle(s: AempSession, tag: string, args: Term[]): boolean {
    switch (tag) {
      case 'g_reply': {
        const call = this.calls.get(String(args[0]));
        if (call === undefined) return true;
        this.calls.delete(String(args[0]));
        call.resolve(args[1]);
        return true;
      }
      case 'g_found': {
        const waiting = this.finds.get(String(args[0]));
        this.finds.delete(String(args[0]));
        const addrs = Array.isArray(args[1]) ? args[1].map(String) : null;
        for (const w of waiting ?? []) w(addrs);
        return true;
      }
      case 'g_chg1':
      case 'g_chg2': {
        // Only the master's word counts (Kernel.pm:890-934).
        if (s !== this.master) return true;
        const family = String(args[0]);
        const set: Family = new Map(isObject(args[1]) ? Object.entries(args[1]) : []);
        const del = tag === 'g_chg2' && Array.isArray(args[2]) ? args[2].map(String) : [];
        this.host.remoteChanged(family, tag === 'g_chg1' ? set : undefined, set, del);
        return true;
      }
      default:
        return false;
    }
  }

  /**
   * We became global (our own master): no more masters; whatever waits for one — callers of
   * whenMaster, queries, finds — is answered from our own database by `answer`/`find`.
   */
  retire(answer: (tag: Call['tag'], family: string) => Term, find: (nodeid: string) => string[] | null): void {
    this.retired = true;
    this.master = undefined;
    for (const c of this.calls.values()) c.resolve(answer(c.tag, c.family));
    this.calls.clear();
    for (const [nodeid, waiting] of this.finds) for (const w of waiting) w(find(nodeid));
    this.finds.clear();
    this.mons.clear();
    const waiters = this.masterWaiters;
    this.masterWaiters = [];
    for (const w of waiters) w();
  }

  /** The first connected seed becomes master: it gets our database, our subscriptions and what waits. */
  private pickMaster(): void {
    const s = this.host.seedSessions()[0];
    if (s === undefined) return;
    this.master = s;
    s.request('g_slave', dbObject(this.host.local));
    for (const family of this.mons) s.request('g_mon1', family);
    for (const [id, c] of this.calls) s.request(c.tag, c.family, id);
    for (const nodeid of this.finds.keys()) s.request('g_find', nodeid);
    const waiters = this.masterWaiters;
    this.masterWaiters = [];
    for (const w of waiters) w();
  }
}
