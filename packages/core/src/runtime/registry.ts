import { Subject, type Observable, type Subscription } from 'rxjs';
import { Tuple, atom, termKey, type Atom, type Pid, type Term } from '@courier/term';
import { UsageError } from '../errors.js';
import type { Dest } from './dest.js';
import { pidKey } from './keys.js';
import type { Node } from './node.js';
import type { Process } from './process.js';

/**
 * A local process registry in the manner of Elixir's Registry: keys are any terms, a process
 * registers itself under a key with a value, `unique` registries allow one process per key and
 * `duplicate` ones many (a topic with its subscribers: pub/sub within a node through
 * `dispatch`). Entries go when their process exits, before anyone can look them up again (the
 * node's exit event, synchronous, where Elixir's partitions clean up after a link EXIT).
 *
 * Lookups are synchronous reads of maps, as Elixir's are reads of ETS. Changes are reported on
 * `changes$` and, as Elixir's `listeners` are, by messages `{register, Name, Key, Pid, Value}` and
 * `{unregister, Name, Key, Pid}`.
 */
export type RegistryKeys = 'unique' | 'duplicate';

/** Options of a {@link Registry}: unique or duplicate keys, and processes told of every change. */
export interface RegistryOptions {
  readonly keys: RegistryKeys;
  /** Shown in listener messages and errors; default `registry`. */
  readonly name?: string;
  /** Processes told of every register and unregister (Elixir's `listeners`). */
  readonly listeners?: readonly Dest[];
}

/** A change of a {@link Registry}, as `changes$` reports it. */
export type RegistryChange<V> =
  { readonly type: 'register'; readonly key: Term; readonly pid: Pid; readonly value: V } | { readonly type: 'unregister'; readonly key: Term; readonly pid: Pid };

/** The result of registering a key: ok, or the process that already holds it in a unique registry. */
export type RegisterResult = { readonly ok: true } | { readonly ok: false; readonly alreadyRegistered: Pid };

interface Entry<V> {
  readonly pid: Pid;
  value: V;
}

const REGISTER = atom('register');
const UNREGISTER = atom('unregister');

/**
 * A local process registry in the manner of Elixir's Registry: any term as a key, `unique` or `duplicate`
 * keys (pub/sub through `dispatch`), entries removed when their process exits; changes on `changes$` and as
 * messages to listeners.
 */
export class Registry<V = Term> {
  readonly keys: RegistryKeys;
  readonly name: Atom;
  private readonly changes = new Subject<RegistryChange<V>>();
  readonly changes$: Observable<RegistryChange<V>> = this.changes.asObservable();
  /** Entries by term key, in registration order. */
  private readonly byKey = new Map<string, { key: Term; entries: Entry<V>[] }>();
  /** Per pid key: the term keys it holds (a duplicate key once per registration). */
  private readonly byPid = new Map<string, Map<string, number>>();
  private readonly meta = new Map<string, Term>();
  private readonly listeners: readonly Dest[];
  private readonly exits: Subscription;

  constructor(
    private readonly node: Node,
    opts: RegistryOptions,
  ) {
    this.keys = opts.keys;
    this.name = atom(opts.name ?? 'registry');
    this.listeners = opts.listeners ?? [];
    this.exits = node.exits$.subscribe((e) => this.processGone(e.pid));
  }

  /** Register the calling process under `key` with `value`. A unique key held by another process is refused. */
  register(self: Process, key: Term, value: V): RegisterResult {
    self.check();
    const k = termKey(key);
    const slot = this.byKey.get(k);
    if (this.keys === 'unique' && slot !== undefined && slot.entries.length > 0) return { ok: false, alreadyRegistered: (slot.entries[0] as Entry<V>).pid };
    if (slot === undefined) this.byKey.set(k, { key, entries: [{ pid: self.pid, value }] });
    else slot.entries.push({ pid: self.pid, value });
    const pk = pidKey(self.pid);
    let held = this.byPid.get(pk);
    if (held === undefined) this.byPid.set(pk, (held = new Map<string, number>()));
    held.set(k, (held.get(k) ?? 0) + 1);
    this.tell({ type: 'register', key, pid: self.pid, value });
    return { ok: true };
  }

  /** Remove every registration of the calling process under `key`. */
  unregister(self: Process, key: Term): void {
    this.unregisterMatch(self, key, () => true);
  }

  /** Remove the calling process's registrations under `key` whose value satisfies `match`. */
  unregisterMatch(self: Process, key: Term, match: (value: V) => boolean): void {
    this.remove(self.pid, termKey(key), match);
  }

  /** `[pid, value]` for every registration under `key`, oldest first. */
  lookup(key: Term): Array<[Pid, V]> {
    return (this.byKey.get(termKey(key))?.entries ?? []).map((e) => [e.pid, e.value]);
  }

  /** The pid holding a unique key, if any (the `{via, Registry, …}` name lookup). */
  whereis(key: Term): Pid | undefined {
    return this.byKey.get(termKey(key))?.entries[0]?.pid;
  }

  /** `[pid, value]` under `key` whose value satisfies `match` (Registry.match with a guard). */
  match(key: Term, match: (value: V) => boolean): Array<[Pid, V]> {
    return this.lookup(key).filter(([, v]) => match(v));
  }

  /**
   * Call `f` with the entries under `key` (nothing when there are none): the pub/sub primitive,
   * `registry.dispatch(topic, (es) => es.forEach(([pid]) => node.send(pid, msg)))`. A throw from
   * `f` propagates to the caller, as in Elixir.
   */
  dispatch(key: Term, f: (entries: ReadonlyArray<readonly [Pid, V]>) => void): void {
    const entries = this.lookup(key);
    if (entries.length > 0) f(entries);
  }

  /** Send `msg` to every process registered under `key`; how many it went to. */
  publish(from: Process | Node, key: Term, msg: Term): number {
    const entries = this.byKey.get(termKey(key))?.entries ?? [];
    for (const e of entries) from.send(e.pid, msg);
    return entries.length;
  }

  /** The keys `pid` is registered under (a duplicate key once per registration). */
  keysOf(pid: Pid): Term[] {
    const held = this.byPid.get(pidKey(pid));
    if (held === undefined) return [];
    const out: Term[] = [];
    for (const [k, n] of held) for (let i = 0; i < n; i++) out.push((this.byKey.get(k) as { key: Term }).key);
    return out;
  }

  /** The values `pid` registered under `key`. */
  values(key: Term, pid: Pid): V[] {
    const pk = pidKey(pid);
    return (this.byKey.get(termKey(key))?.entries ?? []).filter((e) => pidKey(e.pid) === pk).map((e) => e.value);
  }

  /** Unique registries: the calling process changes the value of a key it holds; `[new, old]`, or undefined when it holds none. */
  updateValue(self: Process, key: Term, f: (old: V) => V): [V, V] | undefined {
    if (this.keys !== 'unique') throw new UsageError('UNIQUE_ONLY', `updateValue is for unique registries; ${this.name.name} has duplicate keys`);
    const e = this.byKey.get(termKey(key))?.entries[0];
    if (e === undefined || pidKey(e.pid) !== pidKey(self.pid)) return undefined;
    const old = e.value;
    e.value = f(old);
    return [e.value, old];
  }

  /** How many registrations in all. */
  count(): number {
    let n = 0;
    for (const s of this.byKey.values()) n += s.entries.length;
    return n;
  }

  /** How many registrations under `key` (with a value satisfying `match`). */
  countMatch(key: Term, match: (value: V) => boolean = () => true): number {
    return this.match(key, match).length;
  }

  /** The registry's metadata under `key` (Registry.meta/2). */
  getMeta(key: Term): Term | undefined {
    return this.meta.get(termKey(key));
  }

  /** Stores metadata under `key` (Registry.put_meta/3). */
  putMeta(key: Term, value: Term): void {
    this.meta.set(termKey(key), value);
  }

  /** Stop watching process exits; the registry is empty afterwards. */
  close(): void {
    this.exits.unsubscribe();
    this.byKey.clear();
    this.byPid.clear();
    this.changes.complete();
  }

  private processGone(pid: Pid): void {
    const held = this.byPid.get(pidKey(pid));
    if (held === undefined) return;
    for (const k of [...held.keys()]) this.remove(pid, k, () => true);
  }

  private remove(pid: Pid, k: string, match: (value: V) => boolean): void {
    const slot = this.byKey.get(k);
    if (slot === undefined) return;
    const pk = pidKey(pid);
    const gone: Entry<V>[] = [];
    slot.entries = slot.entries.filter((e) => {
      const drop = pidKey(e.pid) === pk && match(e.value);
      if (drop) gone.push(e);
      return !drop;
    });
    if (gone.length === 0) return;
    if (slot.entries.length === 0) this.byKey.delete(k);
    const held = this.byPid.get(pk);
    if (held !== undefined) {
      const left = (held.get(k) ?? 0) - gone.length;
      if (left > 0) held.set(k, left);
      else held.delete(k);
      if (held.size === 0) this.byPid.delete(pk);
    }
    for (let i = 0; i < gone.length; i++) this.tell({ type: 'unregister', key: slot.key, pid });
  }

  private tell(c: RegistryChange<V>): void {
    this.changes.next(c);
    if (this.listeners.length === 0) return;
    const msg = c.type === 'register' ? new Tuple([REGISTER, this.name, c.key, c.pid, c.value as Term]) : new Tuple([UNREGISTER, this.name, c.key, c.pid]);
    for (const l of this.listeners) {
      try {
        this.node.send(l, msg);
      } catch (err) {
        this.node.log.debug({ registry: this.name.name, err }, 'registry listener gone');
      }
    }
  }
}
