import { atom, type Atom, type Pid } from '@courier/term';
import type { ServiceHost } from '@courier/core';

/**
 * What sshrpc peers may do on this node, enforced on the receiving side.
 *
 * - `modules`: `{ module: 'all' | ['fun', 'fun/2', …] }`. Default: every function the node exposes
 *   (`node.expose`), nothing more; nothing else is callable, whatever the list says (a listed
 *   function the node does not expose fails with `undef`). The node's `erpc` entry points are
 *   never callable, even when listed (they would run any exposed function, past the list), nor
 *   any module exposed as internal (`global`'s `resolve_it`: only cookie holders may call it).
 * - `names`: registered names `{send, Name, Msg}` may reach. Default: none.
 * Pids may be sent to only when the same SSH connection spawned them.
 */
export interface SshRpcPolicy {
  readonly modules?: Readonly<Record<string, 'all' | readonly string[]>>;
  readonly names?: readonly string[];
}

/** What sshrpc uses of a node: its name, exposed functions, processes and sends. */
export type SshRpcHost = Pick<ServiceHost, 'name' | 'exposed' | 'spawn' | 'send' | 'isAlive'>;

/** A node's ServiceHost, or a Node itself (its `services`). */
export type SshRpcHostLike = SshRpcHost | { readonly services: SshRpcHost };

export function rpcHost(h: SshRpcHostLike): SshRpcHost {
  return 'services' in h ? h.services : h;
}

const ERPC = atom('erpc');

/**
 * Which functions an sshrpc peer may call (`module: [fun, fun/arity]`) and which registered names it may
 * send to; `erpc` is never allowed (it would run anything exposed).
 */
export class AllowList {
  private readonly names: ReadonlySet<Atom>;
  private readonly host: SshRpcHost;

  constructor(
    host: SshRpcHostLike,
    private readonly policy: SshRpcPolicy = {},
  ) {
    this.host = rpcHost(host);
    this.names = new Set((policy.names ?? []).map((n) => atom(n)));
  }

  /** Whether `m:f/arity` may be called. */
  permits(m: Atom, f: Atom, arity: number): boolean {
    // erpc runs any exposed function it is given: allowing it would bypass the list; the other
    // internal modules (global's resolve_it, which kills processes) are for cookie holders only.
    if (m === ERPC || this.host.exposed.isInternal(m)) return false;
    const spec = this.policy.modules;
    if (spec === undefined) return this.host.exposed.lookup(m, f, arity) !== undefined;
    const allowed = Object.prototype.hasOwnProperty.call(spec, m.name) ? spec[m.name] : undefined;
    if (allowed === undefined) return false;
    if (allowed === 'all') return true;
    return allowed.includes(f.name) || allowed.includes(`${f.name}/${arity}`);
  }

  /** Whether the registered process `name` may be sent to. */
  mayReceive(name: Atom): boolean {
    return this.names.has(name);
  }
}

/**
 * 1,024 processes and 16 MiB of the requests that started them: what `{spawn, …}` may have alive
 * at once per SSH connection (as many calls as one channel may run, and one largest frame). Past
 * either a spawn answers `{error, system_limit}` (Erlang's answer when its process table is full):
 * a peer cannot make the node hold a process, or the arguments it was given, per request it sends.
 */
export const DEFAULT_MAX_SPAWNED = 1024;
/**
 * Bytes of requests whose spawned processes may be alive at once per SSH connection (see {@link
 * DEFAULT_MAX_SPAWNED}).
 */
export const DEFAULT_MAX_SPAWNED_BYTES = 16 * 1024 * 1024;

/** Live spawned pids of one connection and the bytes of their requests. */
interface Spawned {
  readonly pids: Map<string, { readonly pid: Pid; readonly bytes: number }>;
  bytes: number;
}

/**
 * Pids spawned through sshrpc, per SSH connection: the only pids that connection may send to, and
 * at most `max` of them (and `maxBytes` of their requests) alive; the dead are forgotten when the
 * table is full.
 */
export class SpawnedPids {
  private readonly byConn = new WeakMap<object, Spawned>();

  constructor(
    readonly max = DEFAULT_MAX_SPAWNED,
    readonly maxBytes = DEFAULT_MAX_SPAWNED_BYTES,
  ) {}

  /** Whether `conn` may spawn one more from a request of `bytes`; when full, pids no longer alive are dropped first. */
  hasRoom(conn: object, bytes: number, isAlive: (pid: Pid) => boolean): boolean {
    const s = this.byConn.get(conn);
    const fits = (x: Spawned): boolean => x.pids.size < this.max && (x.bytes + bytes <= this.maxBytes || x.pids.size === 0);
    if (s === undefined || fits(s)) return true;
    for (const [k, e] of s.pids) {
      if (isAlive(e.pid)) continue;
      s.pids.delete(k);
      s.bytes -= e.bytes;
    }
    return fits(s);
  }

  /** Records a process spawned for `conn` by a request of `bytes`. */
  add(conn: object, pid: Pid, bytes: number): void {
    let s = this.byConn.get(conn);
    if (s === undefined) this.byConn.set(conn, (s = { pids: new Map(), bytes: 0 }));
    s.pids.set(pid.toString() + pid.creation, { pid, bytes });
    s.bytes += bytes;
  }

  /** Whether `pid` was spawned for `conn`. */
  has(conn: object, pid: Pid): boolean {
    return this.byConn.get(conn)?.pids.has(pid.toString() + pid.creation) ?? false;
  }
}
