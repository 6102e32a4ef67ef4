import type { Atom, Term } from '@courier/term';
import type { KeyTable } from './key-table.js';
import type { MonitorIn, MonitorOut } from './process.js';

/** The fields of a `Process` that most processes never set (see `Process.x`). */
export class ProcessExtras {
  name: Atom | undefined = undefined;
  monitors: KeyTable<MonitorOut> | undefined = undefined;
  monitoredBy: KeyTable<MonitorIn> | undefined = undefined;
  unlinking: Map<string, bigint> | undefined = undefined;
  aliases: Set<string> | undefined = undefined;
  linksChanged: (() => void) | undefined = undefined;
  nodeMonitors: Map<Atom, number> | undefined = undefined;
  peers: Set<Atom> | undefined = undefined;
  exitReason: Term | undefined = undefined;
  parkedOn: { whenDrained(): Promise<void> } | undefined = undefined;
  timers: Set<string> | undefined = undefined;
  pending: Set<(err: Error) => void> | undefined = undefined;
}

/**
 * The rarely used fields of a `Process`, read and written as if they were its own. They live in
 * one {@link ProcessExtras} object made on first use, so an idle process pays one field (`x`) for
 * all of them. Setting a field to `undefined` before the object exists does not make it. The field
 * itself is declared by the process (`Process.x`), so it keeps its place among the process's own
 * fields: the accessors here live on the prototype and add nothing to a process object.
 */
export abstract class ProcessExtrasHost {
  /** @internal The extras, or `undefined` until one of them is first set. */
  protected abstract x: ProcessExtras | undefined;

  /** The name this process is registered as, if any. */
  get name(): Atom | undefined {
    return this.x?.name;
  }
  /** Set by the node when it registers or unregisters the process. */
  set name(v: Atom | undefined) {
    if (v !== undefined || this.x !== undefined) this.extras().name = v;
  }
  /** The monitors this process holds, by reference key (made on first use). */
  get monitors(): KeyTable<MonitorOut> | undefined {
    return this.x?.monitors;
  }
  /** Set by the runtime. */
  set monitors(v: KeyTable<MonitorOut> | undefined) {
    if (v !== undefined || this.x !== undefined) this.extras().monitors = v;
  }
  /** The monitors held on this process, by reference key (made on first use). */
  get monitoredBy(): KeyTable<MonitorIn> | undefined {
    return this.x?.monitoredBy;
  }
  /** Set by the runtime. */
  set monitoredBy(v: KeyTable<MonitorIn> | undefined) {
    if (v !== undefined || this.x !== undefined) this.extras().monitoredBy = v;
  }
  /**
   * Remote links this process is unlinking (UNLINK_ID sent, its ack not yet received), by pid key,
   * with the id sent: not linked, and a crossing LINK or link EXIT from that pid is ignored.
   */
  get unlinking(): Map<string, bigint> | undefined {
    return this.x?.unlinking;
  }
  /** Set by the runtime. */
  set unlinking(v: Map<string, bigint> | undefined) {
    if (v !== undefined || this.x !== undefined) this.extras().unlinking = v;
  }
  /** Aliases made by `alias()` still active (keys into the node's alias table). */
  get aliases(): Set<string> | undefined {
    return this.x?.aliases;
  }
  /** Set by the runtime. */
  set aliases(v: Set<string> | undefined) {
    if (v !== undefined || this.x !== undefined) this.extras().aliases = v;
  }
  /** Called after this process's link set changed (proxies link their target while linked to). */
  get linksChanged(): (() => void) | undefined {
    return this.x?.linksChanged;
  }
  /** Set by whoever watches this process's links. */
  set linksChanged(v: (() => void) | undefined) {
    if (v !== undefined || this.x !== undefined) this.extras().linksChanged = v;
  }
  /** The nodes this process watches with monitor_node, with a count per node. */
  get nodeMonitors(): Map<Atom, number> | undefined {
    return this.x?.nodeMonitors;
  }
  /** Set by the runtime. */
  set nodeMonitors(v: Map<Atom, number> | undefined) {
    if (v !== undefined || this.x !== undefined) this.extras().nodeMonitors = v;
  }
  /** @internal The remote nodes this process is indexed under (runtime/peer-index.ts). */
  get peers(): Set<Atom> | undefined {
    return this.x?.peers;
  }
  /** @internal Set by the runtime. */
  set peers(v: Set<Atom> | undefined) {
    if (v !== undefined || this.x !== undefined) this.extras().peers = v;
  }
  /** Set once the process has exited. */
  get exitReason(): Term | undefined {
    return this.x?.exitReason;
  }
  /** Set by the runtime when the process exits. */
  set exitReason(v: Term | undefined) {
    if (v !== undefined || this.x !== undefined) this.extras().exitReason = v;
  }
  /**
   * A busy connection this process sent to (backpressure, Erlang's busy_dist_port suspension):
   * its next receive, yield or sleep waits until that connection drains below its limit.
   */
  get parkedOn():
    | {
        /** Resolves once the connection is no longer busy. */
        whenDrained(): Promise<void>;
      }
    | undefined {
    return this.x?.parkedOn;
  }
  /** Set by the runtime when a send meets a busy connection. */
  set parkedOn(v: { whenDrained(): Promise<void> } | undefined) {
    if (v !== undefined || this.x !== undefined) this.extras().parkedOn = v;
  }
  /** @internal Keys of the timers addressed to this pid (cancelled when it exits, as OTP). */
  get timers(): Set<string> | undefined {
    return this.x?.timers;
  }
  /** @internal Set by the runtime. */
  set timers(v: Set<string> | undefined) {
    if (v !== undefined || this.x !== undefined) this.extras().timers = v;
  }
  /** @internal Rejecters of what the body awaits besides a receive (sleep, yield, a drain, a remote spawn). */
  protected get pending(): Set<(err: Error) => void> | undefined {
    return this.x?.pending;
  }
  /** @internal Set by the process (sleep, untilExit, abort). */
  protected set pending(v: Set<(err: Error) => void> | undefined) {
    if (v !== undefined || this.x !== undefined) this.extras().pending = v;
  }

  private extras(): ProcessExtras {
    return (this.x ??= new ProcessExtras());
  }
}
