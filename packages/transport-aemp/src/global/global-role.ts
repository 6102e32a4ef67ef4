import type { Term } from '@courier/term';
import type { AempSession } from '../session/aemp-session.js';
import { keyText } from '../values/natural.js';
import { GLOBALS, LISTENERS, dbFromWire, dbObject, diffFamily, familyObject, isObject, mergeFamily, type Db, type Family } from './db.js';

/** What the global role needs of the registry around it. */
export interface GlobalHost {
  readonly self: string;
  /** Our own registrations (our contribution). */
  readonly local: Db;
  /** Up sessions by peer node id. */
  sessions(): Iterable<AempSession>;
  session(peer: string): AempSession | undefined;
  /** A family changed in the merged view: tell local db_mon listeners. */
  changed(family: string, set: Family, del: string[]): void;
  /** Connect to a global node we learned of. */
  connect(peer: string): void;
}

/**
 * The global (seed) side of the registry (Global.pm): the merged database of every node's
 * contribution — our own, our slaves' (`g_slave`, `g_upd`), other global nodes' (`g_set`,
 * `g_upd`) — answering `g_find`, `g_db_*`, `g_mon*`, sending `g_global` to every node that comes
 * up, relaying our slaves' changes to the other global nodes and cleaning up after a node goes.
 */
export class GlobalRole {
  private readonly contrib = new Map<string, Db>();
  private readonly slaves = new Set<string>();
  private readonly globals = new Set<string>();
  private readonly subs = new Map<string, Set<string>>();

  constructor(private readonly host: GlobalHost) {
    this.contrib.set(host.self, host.local);
    this.setLocal(GLOBALS, host.self);
    for (const s of host.sessions()) this.peerUp(s);
  }

  family(name: string): Family {
    return mergeFamily(this.contrib.values(), name);
  }

  isGlobal(peer: string): boolean {
    return this.globals.has(peer);
  }

  peerUp(s: AempSession): void {
    s.request('g_global');
  }

  /** A node went away: everything it contributed goes, and subscribers and other globals hear of it. */
  peerDown(peer: string): void {
    const db = this.contrib.get(peer);
    const wasSlave = this.slaves.delete(peer);
    this.globals.delete(peer);
    for (const set of this.subs.values()) set.delete(peer);
    if (db === undefined) return;
    const families = new Set([...db.keys(), LISTENERS, GLOBALS]);
    this.update(families, () => this.contrib.delete(peer), wasSlave ? undefined : peer);
  }

  /** Our own registration changed (the registry already applied it to `local`). */
  localChanged(family: string, before: Family): void {
    this.announce(family, before, undefined, true);
  }

  handle(s: AempSession, tag: string, args: Term[]): boolean {
    const from = s.peer.name;
    const str = (i: number): string => keyText(args[i] ?? '');
    switch (tag) {
      case 'g_slave':
        if (args.length === 0) return true; // only "start the global service": we run it
        this.slaves.add(from);
        this.update(new Set([...dbFromWire(args[0]).keys(), ...(this.contrib.get(from)?.keys() ?? [])]), () => this.contrib.set(from, dbFromWire(args[0])), undefined);
        return true;
      case 'g_set':
        this.globals.add(from);
        this.update(new Set([...dbFromWire(args[0]).keys(), ...(this.contrib.get(from)?.keys() ?? [])]), () => this.contrib.set(from, dbFromWire(args[0])), from);
        return true;
      case 'g_upd':
        this.upd(from, str(0), args[1], args[2]);
        return true;
      case 'g_global':
        // A global node: forget its old data, give it ours (Global.pm:292-296).
        this.globals.add(from);
        this.slaves.delete(from);
        this.update(new Set(this.contrib.get(from)?.keys() ?? []), () => this.contrib.set(from, new Map()), from);
        s.request('g_set', dbObject(this.ownAndSlaves()));
        this.setLocal(GLOBALS, from);
        return true;
      case 'g_find':
        s.request('g_found', str(0), this.family(LISTENERS).get(str(0)) ?? null);
        return true;
      case 'g_db_family':
        s.request('g_reply', args[1], familyObject(this.family(str(0))) ?? {});
        return true;
      case 'g_db_keys':
        s.request('g_reply', args[1], [...this.family(str(0)).keys()]);
        return true;
      case 'g_db_values':
        s.request('g_reply', args[1], [...this.family(str(0)).values()]);
        return true;
      case 'g_mon1': {
        const set = this.subs.get(str(0)) ?? new Set<string>();
        this.subs.set(str(0), set.add(from));
        s.request('g_chg1', str(0), familyObject(this.family(str(0))));
        return true;
      }
      case 'g_mon0':
        this.subs.get(str(0))?.delete(from);
        return true;
      default:
        return false;
    }
  }

  /** `["", "g_upd", family, {set}|null, [del]]` from `from`: applied to its contribution. */
  private upd(from: string, family: string, set: Term, del: Term): void {
    const relay = !this.globals.has(from);
    this.update(
      new Set([family]),
      () => {
        const db = this.contrib.get(from) ?? new Map<string, Family>();
        this.contrib.set(from, db);
        const f = db.get(family) ?? new Map<string, Term>();
        db.set(family, f);
        if (isObject(set)) for (const [k, v] of Object.entries(set)) f.set(k, v);
        if (Array.isArray(del)) for (const k of del) f.delete(String(k));
      },
      relay ? undefined : from,
    );
  }

  private setLocal(family: string, key: string): void {
    const f = this.host.local.get(family) ?? new Map<string, Term>();
    const before = new Map(f);
    f.set(key, null);
    this.host.local.set(family, f);
    this.localChanged(family, before);
  }

  /** Apply `mutate`, then announce what changed in `families`; `origin` (a global node) is not relayed to. */
  private update(families: Set<string>, mutate: () => void, origin: string | undefined): void {
    const before = new Map([...families].map((f) => [f, this.family(f)] as const));
    mutate();
    for (const f of families) this.announce(f, before.get(f) as Family, origin, origin === undefined);
  }

  private announce(family: string, before: Family, origin: string | undefined, relay: boolean): void {
    const after = this.family(family);
    const { set, del } = diffFamily(before, after);
    if (set.size === 0 && del.length === 0) return;
    const setObj = familyObject(set) ?? {};
    for (const peer of this.subs.get(family) ?? []) this.host.session(peer)?.request('g_chg2', family, setObj, del);
    if (relay) {
      for (const g of this.globals) if (g !== origin) this.host.session(g)?.request('g_upd', family, setObj, del);
    }
    this.host.changed(family, set, del);
    if (family === GLOBALS) for (const g of set.keys()) if (g !== this.host.self && this.host.session(g) === undefined) this.host.connect(g);
  }

  /** What we give other global nodes: our own data and our slaves'. */
  private ownAndSlaves(): Db {
    const out: Db = new Map();
    for (const peer of [this.host.self, ...this.slaves]) {
      for (const [name, f] of this.contrib.get(peer) ?? []) {
        const o = out.get(name) ?? new Map<string, Term>();
        for (const [k, v] of f) o.set(k, v);
        out.set(name, o);
      }
    }
    return out;
  }
}
