import { atom, type Atom, type Pid } from '@courier/term';
import type { ServiceHost } from '@courier/core';

/**
 * What sshrpc peers may do on this node, enforced on the receiving side.
 *
 * - `modules`: `{ module: 'all' | ['fun', 'fun/2', …] }`. Default: every function the node exposes
 *   (`node.expose`) except its `erpc` entry points; nothing else is callable, whatever the list
 *   says (a listed function the node does not expose fails with `undef`).
 * - `names`: registered names `{send, Name, Msg}` may reach. Default: none.
 * Pids may be sent to only when the same SSH connection spawned them.
 */
export interface SshRpcPolicy {
  readonly modules?: Readonly<Record<string, 'all' | readonly string[]>>;
  readonly names?: readonly string[];
}

/** What sshrpc uses of a node: its name, exposed functions, processes and sends. */
export type SshRpcHost = Pick<ServiceHost, 'name' | 'exposed' | 'spawn' | 'send'>;

/** A node's ServiceHost, or a Node itself (its `services`). */
export type SshRpcHostLike = SshRpcHost | { readonly services: SshRpcHost };

export function rpcHost(h: SshRpcHostLike): SshRpcHost {
  return 'services' in h ? h.services : h;
}

const ERPC = atom('erpc');

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

  permits(m: Atom, f: Atom, arity: number): boolean {
    const spec = this.policy.modules;
    if (spec === undefined) return m !== ERPC && this.host.exposed.lookup(m, f, arity) !== undefined;
    const allowed = Object.prototype.hasOwnProperty.call(spec, m.name) ? spec[m.name] : undefined;
    if (allowed === undefined) return false;
    if (allowed === 'all') return true;
    return allowed.includes(f.name) || allowed.includes(`${f.name}/${arity}`);
  }

  mayReceive(name: Atom): boolean {
    return this.names.has(name);
  }
}

/** Pids spawned through sshrpc, per SSH connection: the only pids that connection may send to. */
export class SpawnedPids {
  private readonly byConn = new WeakMap<object, Set<string>>();

  add(conn: object, pid: Pid): void {
    let s = this.byConn.get(conn);
    if (s === undefined) this.byConn.set(conn, (s = new Set()));
    s.add(pid.toString() + pid.creation);
  }

  has(conn: object, pid: Pid): boolean {
    return this.byConn.get(conn)?.has(pid.toString() + pid.creation) ?? false;
  }
}
