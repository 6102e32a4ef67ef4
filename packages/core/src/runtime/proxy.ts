import { Ref, Tuple, atom, type Pid, type Term } from '@courier/term';
import type { Logger } from '../log.js';
import type { Node } from './node.js';
import type { Process } from './process.js';
import { refKey } from './keys.js';

const DOWN = atom('DOWN');

/** What a proxy stands for: how it watches the target and forwards to it. */
export interface ProxySpec {
  /** One proxy per key: asking again while it lives returns the same pid. */
  readonly key: string;
  /** Monitor the target (from the proxy process); its DOWN ends the proxy. */
  readonly watch: (self: Process) => Ref;
  /**
   * The target's pid, when it has one: while anything is linked to the proxy, the proxy is
   * linked to the target too, so a link through the proxy works both ways (the linker's death
   * reaches the target). A target that is only monitored is never linked.
   */
  readonly linkTarget?: Pid;
  /** Pass on a message the proxy got (translate it on the way if need be). */
  readonly forward: (self: Process, msg: Term) => void;
  /** The proxy's exit reason for the target's (default: the same). */
  readonly reason?: (targetReason: Term) => Term;
  /** Fields for the log lines. */
  readonly describe?: Record<string, string>;
}

/**
 * Proxy processes: a local process standing for something a peer cannot reach itself (a pid on a
 * node one hop further, a registered name, an AEMP port). It monitors the target, forwards every
 * message it gets to it, and exits with the target's reason when the target ends, so a peer that
 * monitors or links to the proxy sees the target's end. Made on demand, once per key; they end with
 * what they stand for. Used by the Erlang ⇄ AEMP bridge and the WebSocket gateway.
 */
export class ProxyTable {
  private readonly table = new Map<string, Pid>();
  private readonly log: Logger;

  constructor(
    private readonly node: Node,
    log?: Logger,
  ) {
    this.log = log ?? node.log;
  }

  /** The live proxy for `spec.key`, made now if there is none. */
  get(spec: ProxySpec): Pid {
    const known = this.table.get(spec.key);
    if (known !== undefined && this.node.isAlive(known)) return known;
    const { key, watch, forward } = spec;
    const reason = spec.reason ?? ((r: Term) => r);
    const what = spec.describe ?? { key };
    const table = this.table;
    const log = this.log;
    const target = spec.linkTarget;
    const pid = this.node.spawn(async (p) => {
      const ref = refKey(watch(p));
      try {
        for (;;) {
          const m = await p.receive();
          if (m instanceof Tuple && m.elements[0] === DOWN && m.elements[1] instanceof Ref && refKey(m.elements[1]) === ref) {
            log.info({ ...what, reason: String(m.elements[4]) }, 'proxy: target down');
            p.exit(reason(m.elements[4]));
          }
          if (log.isLevelEnabled?.('debug') === true) log.debug({ ...what, message: String(m) }, 'proxy: forward');
          forward(p, m);
        }
      } finally {
        if (table.get(key) === p.pid) table.delete(key);
      }
    });
    const proc = this.node.lookup(pid);
    if (target !== undefined && proc !== undefined) proc.linksChanged = () => followLinks(proc, target);
    table.set(key, pid);
    return pid;
  }

  /** The live proxy for `key`, if any. */
  lookup(key: string): Pid | undefined {
    const pid = this.table.get(key);
    return pid !== undefined && this.node.isAlive(pid) ? pid : undefined;
  }

  /** Every proxy alive now. */
  pids(): Pid[] {
    return [...this.table.values()].filter((p) => this.node.isAlive(p));
  }

  /**
   * End every proxy with `noconnection`, as if the connection to what they stand for were lost:
   * a target linked through its proxy gets `noconnection` too, as across a lost OTP connection.
   */
  stopAll(): void {
    for (const pid of [...this.table.values()]) this.node.exitSignal(undefined, pid, atom('noconnection'));
    this.table.clear();
  }
}

/**
 * Link the proxy to its target exactly while something else is linked to the proxy. Linking
 * follows at once; unlinking waits a microtask, because a link also disappears when its exit
 * signal arrives, and that signal must still travel on to the target through the proxy's death.
 */
function followLinks(p: Process, target: Pid): void {
  const others = () => p.linkCount - (p.isLinked(target) ? 1 : 0);
  if (others() > 0) {
    if (!p.isLinked(target)) p.link(target);
    return;
  }
  if (!p.isLinked(target)) return;
  queueMicrotask(() => {
    if (p.alive && others() === 0 && p.isLinked(target)) p.unlink(target);
  });
}
