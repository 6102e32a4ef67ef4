import { termKey, type Term } from '@courier/term';
import type { AempSession } from '../session/aemp-session.js';
import { keyText } from '../values/natural.js';
import { GLOBALS, LISTENERS, dbFromWire, dbObject, diffFamily, familyObject, isObject, mergeFamily, type Db, type Family } from './db.js';
import { Keepalive } from './keepalive.js';

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
  /** Peers that told us they are global (`g_global`) before we became global ourselves. */
  readonly knownGlobals: ReadonlySet<string>;
  /** The longest wait between two dials of a global node that is gone. */
  readonly retryMaxMs: number;
}

/**
 * The global (seed) side of the registry (Global.pm): the merged database of every node's
 * contribution — our own, our slaves' (`g_slave`, `g_upd`), other global nodes' (`g_set`,
 * `g_upd`) — answering `g_find`, `g_db_*`, `g_mon*`, sending `g_global` to every node that comes
 * up, relaying our slaves' changes (and our own) to the other global nodes, keeping a connection
 * to every node in `'g` (the full mesh) and cleaning up after a node goes.
 */
export class GlobalRole {
  private readonly contrib = new Map<string, Db>();
  /** Nodes whose database we hold as their master (Perl's %GLOBAL_SLAVE); we are our own. */
  private readonly slaves = new Set<string>();
  /** Nodes that said they are global (Perl's %GLOBAL_NODE): the ones g_upd is broadcast to. */
  private readonly globals = new Set<string>();
  private readonly subs = new Map<string, Set<string>>();
  private readonly keepalive: Keepalive;

  constructor(private readonly host: GlobalHost) {
    this.keepalive = new Keepalive(
      (p) => host.session(p) !== undefined,
      (p) => host.connect(p),
      host.retryMaxMs,
    );
    // Global nodes are their own masters (Global.pm post_configure: master_set $NODE).
    this.contrib.set(host.self, host.local);
    this.slaves.add(host.self);
    this.setLocal(GLOBALS, host.self, null);
    // Tell the nodes we are connected to that we are global now; the global ones get our database.
    for (const s of host.sessions()) {
      s.request('g_global');
      if (host.knownGlobals.has(s.peer.name)) this.globalConnect(s);
    }
  }

  family(name: string): Family {
    return mergeFamily(this.contrib.values(), name);
  }

  isGlobal(peer: string): boolean {
    return this.globals.has(peer);
  }

  /** The global nodes the merged `'g` names (the mesh we keep). */
  meshNodes(): string[] {
    return [...this.family(GLOBALS).keys()];
  }

  peerUp(s: AempSession): void {
    this.keepalive.up(s.peer.name);
    s.request('g_global');
  }

  /** A node went away (Global.pm g_disconnect): its `'g` and `'l` entries and everything it contributed go. */
  peerDown(peer: string): void {
    this.disconnect(peer);
    this.keepalive.lost(peer);
  }

  private disconnect(peer: string): void {
    this.globals.delete(peer);
    for (const set of this.subs.values()) set.delete(peer);
    this.delLocal(GLOBALS, peer);
    this.delLocal(LISTENERS, peer);
    this.clear(peer);
  }

  stop(): void {
    this.keepalive.stop();
  }

  /** Our own registration changed (the registry already applied it to `local`): as a slave's g_upd. */
  localChanged(family: string, set: Family, del: string[], before: Family): void {
    this.relay(this.host.self, family, set, del);
    this.announce(family, before);
  }

  handle(s: AempSession, tag: string, args: Term[]): boolean {
    const from = s.peer.name;
    const str = (i: number): string => keyText(args[i] ?? '');
    switch (tag) {
      case 'g_slave':
        if (args.length === 0) return true; // only "start the global service": we run it
        this.slaves.add(from);
        this.replace(from, dbFromWire(args[0]));
        return true;
      case 'g_set': {
        // Another global node's database; its 'l entry is mirrored into ours (Global.pm:179-192).
        const db = dbFromWire(args[0]);
        const binds = db.get(LISTENERS)?.get(from);
        this.replace(from, db);
        if (binds !== undefined) this.setLocal(LISTENERS, from, binds);
        return true;
      }
      case 'g_upd':
        this.upd(from, str(0), args[1], args[2]);
        return true;
      case 'g_global':
        // A slave turned global: forget what it gave us as a slave (Global.pm:292-296). Not the
        // database of a global node, whose g_set may have come first (it answered our g_global
        // before its own reached us).
        if (this.slaves.has(from)) this.disconnect(from);
        this.globalConnect(s);
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

  /** g_global_connect: `'g` gets the node, and the node gets our own and our slaves' databases, merged. */
  private globalConnect(s: AempSession): void {
    this.globals.add(s.peer.name);
    this.setLocal(GLOBALS, s.peer.name, null);
    s.request('g_set', dbObject(this.ownAndSlaves()));
  }

  /** `["", "g_upd", family, {set}|null, [del]]` from `from`: applied to its contribution. */
  private upd(from: string, family: string, set: Term, del: Term): void {
    const before = this.family(family);
    const db = this.contrib.get(from) ?? new Map<string, Family>();
    this.contrib.set(from, db);
    const f = db.get(family) ?? new Map<string, Term>();
    db.set(family, f);
    const given: Family = new Map(isObject(set) ? Object.entries(set) : []);
    const gone = Array.isArray(del) ? del.map((k) => keyText(k)).filter((k) => !given.has(k)) : [];
    for (const [k, v] of given) f.set(k, v);
    for (const k of gone) f.delete(k);
    if (f.size === 0) db.delete(family);
    if (this.slaves.has(from)) this.relay(from, family, given, gone);
    this.announce(family, before);
  }

  /** A node's whole database replaced (g_slave, g_set), as Global.pm's g_set over g_upd per family. */
  private replace(from: string, db: Db): void {
    const old = this.contrib.get(from) ?? new Map<string, Family>();
    const families = new Set([...old.keys(), ...db.keys()]);
    const before = new Map([...families].map((f) => [f, this.family(f)] as const));
    this.contrib.set(from, db);
    if (this.slaves.has(from)) {
      for (const f of families) {
        const now = db.get(f) ?? new Map<string, Term>();
        this.relay(
          from,
          f,
          now,
          [...(old.get(f)?.keys() ?? [])].filter((k) => !now.has(k)),
        );
      }
    }
    for (const f of families) this.announce(f, before.get(f) as Family);
  }

  /** Everything `peer` contributed goes (g_clr). */
  private clear(peer: string): void {
    const old = this.contrib.get(peer);
    if (old === undefined) return;
    const wasSlave = this.slaves.delete(peer);
    const before = new Map([...old.keys()].map((f) => [f, this.family(f)] as const));
    this.contrib.delete(peer);
    for (const [f, fam] of old) {
      if (wasSlave) this.relay(peer, f, new Map(), [...fam.keys()]);
      this.announce(f, before.get(f) as Family);
    }
  }

  /**
   * A slave's own change goes to every global node as it came (Global.pm g_upd): the keys set,
   * and the keys deleted that no other slave of ours still holds (a key another slave holds is
   * sent as set to that slave's value instead).
   */
  private relay(from: string, family: string, set: Family, del: string[]): void {
    const out = new Map(set);
    const gone: string[] = [];
    for (const k of del) {
      const holder = [...this.slaves].find((p) => p !== from && this.contrib.get(p)?.get(family)?.has(k) === true);
      if (holder !== undefined) out.set(k, this.contrib.get(holder)?.get(family)?.get(k) ?? null);
      else gone.push(k);
    }
    if (out.size === 0 && gone.length === 0) return;
    const setObj = familyObject(out) ?? {};
    for (const g of this.globals) this.host.session(g)?.request('g_upd', family, setObj, gone);
  }

  private setLocal(family: string, key: string, value: Term): void {
    const f = this.host.local.get(family) ?? new Map<string, Term>();
    const before = this.family(family);
    if (f.has(key) && termKey(f.get(key) ?? null) === termKey(value)) return;
    f.set(key, value);
    this.host.local.set(family, f);
    this.localChanged(family, new Map([[key, value]]), [], before);
  }

  private delLocal(family: string, key: string): void {
    const f = this.host.local.get(family);
    if (f === undefined || !f.has(key)) return;
    const before = this.family(family);
    f.delete(key);
    if (f.size === 0) this.host.local.delete(family);
    this.localChanged(family, new Map(), [key], before);
  }

  /** Subscribers and local listeners hear what changed in the merged view; `'g` drives the mesh. */
  private announce(family: string, before: Family): void {
    const after = this.family(family);
    const { set, del } = diffFamily(before, after);
    if (set.size === 0 && del.length === 0) return;
    const setObj = familyObject(set) ?? {};
    for (const peer of this.subs.get(family) ?? []) this.host.session(peer)?.request('g_chg2', family, setObj, del);
    this.host.changed(family, set, del);
    if (family === GLOBALS) {
      for (const g of set.keys()) if (g !== this.host.self) this.keepalive.add(g);
      for (const g of del) this.keepalive.del(g);
    }
  }

  /** What we give other global nodes: our own data and our slaves', merged. */
  private ownAndSlaves(): Db {
    const out: Db = new Map();
    for (const peer of this.slaves) {
      for (const [name, f] of this.contrib.get(peer) ?? []) {
        const o = out.get(name) ?? new Map<string, Term>();
        for (const [k, v] of f) o.set(k, v);
        out.set(name, o);
      }
    }
    return out;
  }
}
