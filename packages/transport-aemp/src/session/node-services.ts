import { MAX_ATOM_CHARS, atom, existingAtom, provisionalAtom, type Atom, type Term } from '@courier/term';
import { UsageError, applyExposed, type Logger, type ServiceHost } from '@courier/core';
import type { AempRegistry } from '../global/registry.js';
import type { AempSession, NodePortService } from './aemp-session.js';

/** Node-port requests every node answers (Kernel.pm %NODE_REQ), besides the monitors the session keeps. */
const KERNEL = ['', 'mon0', 'mon1', 'kil0', 'kil1', 'snd', 'can', 'time', 'devnull'];
const KERNEL_GLOBAL = ['g_global', 'g_slave', 'g_reply', 'g_found', 'g_chg1', 'g_chg2'];
const GLOBAL = ['g_set', 'g_upd', 'g_find', 'g_db_family', 'g_db_keys', 'g_db_values', 'g_mon1', 'g_mon0'];
export const SPAWN = 'AnyEvent::MP::_spawn';

/**
 * The node port's services (Kernel.pm:391-456): `snd` relays, `can`, `time`, `devnull`, the
 * global registry's `g_*`, and calls of Perl-style function names — `AnyEvent::MP::_spawn` and
 * `Pkg::func` — dispatched to functions the node exposed with `node.expose('Pkg', { func })`
 * (refused with a log line otherwise). `eval` is always refused, with a warning, and its reply
 * port (if any) gets the refusal as the error text, as Perl's `snd @reply, $@` would.
 */
export class NodeServices implements NodePortService {
  constructor(
    private readonly host: ServiceHost,
    private readonly registry: AempRegistry,
    private readonly log: Logger,
  ) {}

  request(s: AempSession, tag: string, args: Term[]): void {
    switch (tag) {
      case 'snd':
        this.send(args[0], s.dialect === 'courier' && args.length === 2 ? args[1] : args.slice(1));
        return;
      case 'can':
        this.reply(args.slice(1), this.can(String(args[0])) ? '1' : '');
        return;
      case 'time':
        this.reply(args, Date.now() / 1000);
        return;
      case 'devnull':
        return;
      case 'eval':
        this.log.warn({ peer: s.peer.name }, 'eval request refused');
        this.reply(args.slice(1), 'eval is refused by this Courier node');
        return;
      default:
        break;
    }
    if (tag.startsWith('g_') && this.registry.handle(s, tag, args)) return;
    if (tag === SPAWN) return this.spawn(s, args);
    if (tag.includes('::')) return this.call(s, tag, args);
    this.log.warn({ peer: s.peer.name, tag: tag.slice(0, 80) }, 'unknown node-port request ignored');
  }

  private can(tag: string): boolean {
    return KERNEL.includes(tag) || KERNEL_GLOBAL.includes(tag) || (this.registry.isGlobal && GLOBAL.includes(tag));
  }

  /** `snd @reply, ...values`: the reply's first element is a port id, the rest go before the values. */
  private reply(reply: Term[], ...values: Term[]): void {
    if (reply.length === 0) return;
    this.send(reply[0], [...reply.slice(1), ...values]);
  }

  private send(to: Term | undefined, msg: Term): void {
    if (typeof to !== 'string') return;
    try {
      this.host.send(to, msg);
    } catch (err) {
      // A port id the node cannot address (not claimed, or a name past an atom's 255 characters).
      if (!(err instanceof UsageError) && !(err instanceof RangeError)) throw err;
      this.log.debug({ to: to.slice(0, 300), err: err.message }, 'relayed message dropped');
    }
  }

  /** `["", "AnyEvent::MP::_spawn", portname, "Pkg::init", args…]`: a process registered as `portname` runs `Pkg::init(args…)`. */
  private spawn(s: AempSession, args: Term[]): void {
    const [port, fn, ...rest] = args;
    const target = typeof fn === 'string' ? this.resolve(fn, rest.length) : undefined;
    if (typeof port !== 'string' || port === '' || target === undefined) {
      this.log.warn({ peer: s.peer.name, fn: String(fn).slice(0, 80) }, 'spawn refused: function not exposed');
      return;
    }
    const name = atom(port);
    if (this.host.whereis(name) !== undefined) {
      this.log.warn({ peer: s.peer.name, port }, 'spawn refused: port name taken');
      return;
    }
    const host = this.host;
    host.spawn(
      async (self) => {
        const o = await applyExposed(host.exposed, self, target.module, target.fun, rest);
        if (o.kind === 'error' || o.kind === 'throw') self.exit(o.kind === 'error' ? o.reason : o.value);
        if (o.kind === 'exit') self.exit(o.reason);
        // A spawned port lives on while its function left it a receive loop; returning ends it normally.
      },
      { name },
    );
  }

  /** `["", "Pkg::func", args…]`: run an exposed function in a fresh process; its result is ignored, as in Perl. */
  private call(s: AempSession, tag: string, args: Term[]): void {
    const target = this.resolve(tag, args.length);
    if (target === undefined) {
      this.log.warn({ peer: s.peer.name, fn: tag.slice(0, 80) }, 'function call refused: not exposed');
      return;
    }
    const host = this.host;
    host.spawn(async (self) => {
      const o = await applyExposed(host.exposed, self, target.module, target.fun, args);
      if (o.kind !== 'return') host.log.warn({ fn: tag, outcome: o.kind }, 'called function failed');
    });
  }

  /**
   * `Pkg::func` among the exposed functions. The name is the peer's: no atom is made of it unless
   * it names an exposed function (an exposed module's name is an atom already).
   */
  private resolve(qualified: string, arity: number): { module: Atom; fun: Atom } | undefined {
    const i = qualified.lastIndexOf('::');
    if (i <= 0 || i + 2 >= qualified.length) return undefined;
    const module = existingAtom(qualified.slice(0, i));
    const name = qualified.slice(i + 2);
    if (module === undefined || [...name].length > MAX_ATOM_CHARS) return undefined;
    if (this.host.exposed.lookup(module, provisionalAtom(name), arity) === undefined) return undefined;
    return { module, fun: atom(name) };
  }
}
