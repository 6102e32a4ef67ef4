import { Atom, Pid, Tuple, atom, type Term } from '@courier/term';
import { pidKey, type DistOp, type Logger, type Node } from '@courier/core';
import type { PageInfo, PagePolicy } from './page-types.js';

const PROXY = atom('proxy');
const GEN_CALL = atom('$gen_call');
const NOCONNECTION = atom('noconnection');

/**
 * Names a page never reaches, whatever its grant: what runs code or changes a node (`rex`,
 * `erpc` and spawn, `net_kernel`, `global_name_server`, `init`, `code_server`, …) and the
 * gateway's own relay. The gateway's proxy-request name is added per gateway.
 */
export const NEVER_GRANTED: ReadonlySet<string> = new Set([
  'rex',
  'erpc',
  'net_kernel',
  'global_name_server',
  'global_group',
  'auth',
  'init',
  'code_server',
  'erl_prim_loader',
  'application_controller',
  'kernel_sup',
  'user',
  'standard_error',
  'logger',
  'file_server_2',
  'inet_db',
  'erts_code_purger',
  'relay',
]);

/** A proxy request as the gateway takes them: `{proxy, ReplyTo, Target}` or a gen_server call `{proxy, Target}`. */
export function proxyRequestFrom(m: Term): { readonly replyTo: Pid; readonly ref?: Term; readonly target: Term } | undefined {
  if (!(m instanceof Tuple) || m.elements.length !== 3) return undefined;
  const [tag, a, b] = m.elements as [Term, Term, Term];
  if (tag === PROXY && a instanceof Pid) return { replyTo: a, target: b };
  if (
    tag === GEN_CALL &&
    a instanceof Tuple &&
    a.elements.length === 2 &&
    a.elements[0] instanceof Pid &&
    b instanceof Tuple &&
    b.elements.length === 2 &&
    b.elements[0] === PROXY
  ) {
    return { replyTo: a.elements[0], ref: a.elements[1], target: b.elements[1] };
  }
  return undefined;
}

/**
 * What a page may do through its gateway (docs/ws.md, deny by default). Every operation a page's
 * session delivers comes here first (PageDoor's router):
 *
 * - `reg_send` only to the gateway's proxy-request name, and only a proxy request whose reply
 *   goes to the page itself; `monitor_p`/`demonitor_p` by name only on that name (a call monitors it);
 * - `send`, `link`, `unlink_id(_ack)`, `exit`, `exit2`, `monitor_p`, `demonitor_p`,
 *   `monitor_p_exit` only to a proxy of that page: one it was given (a proxy request granted, a pid
 *   in a message that reached it through a proxy) or one standing for one of its own pids;
 * - nothing else: no `spawn_request`, `alias_send`, `group_leader`, `spawn_reply`, no message to
 *   any other process of the gateway node (its `rex`, `net_kernel`, …).
 *
 * A proxy request from a page is granted only for a `{Name, Node}` or AEMP port id its grant
 * lists, never for {@link NEVER_GRANTED} names, the AEMP node port or a pid.
 */
export class GatewayPagePolicy implements PagePolicy {
  /** Proxy (pid key) → the page it belongs to, and whether it was made for that page alone. */
  private readonly owners = new Map<string, { readonly page: string; readonly pid: Pid; readonly own: boolean }>();

  constructor(
    private readonly node: Node,
    private readonly requestName: Atom,
    private readonly log: Logger,
  ) {}

  /** `pid` is a live proxy of `page`. */
  owns(page: Atom, pid: Pid): boolean {
    const o = pid.node === this.node.name ? this.owners.get(pidKey(pid)) : undefined;
    return o !== undefined && o.page === page.name && this.node.isAlive(pid);
  }

  /** `pid` (a proxy) belongs to `page`: `own` when made for it alone (it ends with the page). */
  give(page: Atom, pid: Pid, own: boolean): void {
    this.owners.set(pidKey(pid), { page: page.name, pid, own });
  }

  /** Why `page` may not have a proxy for `target` (undefined: it may). */
  refuseTarget(target: Pid | { readonly name: Atom; readonly node: Atom } | string, page: PageInfo): string | undefined {
    if (target instanceof Pid) return 'a page asks for proxies of registered names and AEMP ports only, not of pids';
    if (typeof target === 'string') {
      const port = target.slice(target.indexOf('#') + 1);
      if (port === '') return 'the AEMP node port is never reachable from a page';
      return page.grants.ports.includes(target) ? undefined : 'not in the grant';
    }
    const { name, node } = target;
    if (NEVER_GRANTED.has(name.name) || name === this.requestName) return `${name.name} is never reachable from a page`;
    return page.grants.names.some((g) => g.name === name.name && g.node === node.name) ? undefined : 'not in the grant';
  }

  /** Why `page` may not perform `op` (undefined: it may). */
  check(op: DistOp, page: PageInfo): string | undefined {
    switch (op.op) {
      case 'reg_send': {
        if (op.to !== this.requestName) return `registered names are reached through granted proxies only (asked ${this.requestName.name} for one?)`;
        const r = proxyRequestFrom(op.msg);
        if (r === undefined) return `${this.requestName.name} takes proxy requests only`;
        return r.replyTo.node.name === page.node.name ? undefined : 'a proxy request must be answered to the page itself';
      }
      case 'monitor_p':
      case 'demonitor_p':
        if (op.to instanceof Atom) return op.to === this.requestName ? undefined : `monitors by name only on ${this.requestName.name}`;
        return this.mine(op.to, page);
      case 'send':
      case 'link':
      case 'unlink_id':
      case 'unlink_id_ack':
      case 'exit':
      case 'exit2':
      case 'monitor_p_exit':
        return this.mine(op.to, page);
      case 'spawn_request':
        return 'spawn is never allowed from a page';
      default:
        return `${op.op} is not allowed from a page`;
    }
  }

  private mine(to: Pid, page: PageInfo): string | undefined {
    return this.owns(page.node, to) ? undefined : 'not a proxy given to this page';
  }

  /** The page is gone: its own proxies end (`noconnection`, as across a lost connection). */
  pageDown(page: PageInfo): void {
    let ended = 0;
    for (const [key, o] of this.owners) {
      if (o.page !== page.node.name) continue;
      this.owners.delete(key);
      if (o.own && this.node.isAlive(o.pid)) {
        this.node.exitSignal(undefined, o.pid, NOCONNECTION);
        ended++;
      }
    }
    this.log.debug({ identity: page.identity, page: page.node.name, proxies: ended }, 'page down: its proxies end');
  }
}
