import { Atom, Ref, Tuple, formatErlang, type Pid, type Term } from '@courier/term';
import { ExceptionReason, isNormal, isShutdown, reasonText, type Node, type Session, type SessionStats } from '@courier/core';
import type { RttProbe } from './rtt.js';

/** One peer as the page shows it. Rates are per second over the last sampling interval. */
export interface PeerView {
  readonly node: string;
  readonly carrier: string;
  readonly state: 'up';
  readonly hidden: boolean;
  readonly msgInPerSec: number;
  readonly msgOutPerSec: number;
  readonly bytesInPerSec: number;
  readonly bytesOutPerSec: number;
  readonly rttMs: number | null;
}

/** One process as the page shows it: pid, registered name, mailbox, links and monitors. */
export interface ProcessView {
  readonly pid: string;
  readonly name: string | null;
  readonly mailbox: number;
  readonly links: string[];
  readonly monitors: number;
  readonly monitoredBy: number;
}

/** One event of the timeline: a node up or down, a process crash or a supervisor restart. */
export interface TimelineEvent {
  readonly at: number;
  readonly kind: 'nodeup' | 'nodedown' | 'crash' | 'restart';
  readonly subject: string;
  readonly detail: string;
}

/** What the page shows at one instant: the node, its peers, its processes, throughput by carrier, and the timeline. */
export interface Snapshot {
  readonly at: number;
  readonly node: { readonly name: string; readonly processes: number; readonly registered: number };
  readonly peers: PeerView[];
  readonly processes: ProcessView[];
  /** Bytes per second in + out, by carrier, this interval. */
  readonly throughput: Record<string, { in: number; out: number }>;
  readonly timeline: TimelineEvent[];
}

type Counts = { framesIn: number; framesOut: number; bytesIn: number; bytesOut: number };
const zero = (): Counts => ({ framesIn: 0, framesOut: 0, bytesIn: 0, bytesOut: 0 });
const MAX_TIMELINE = 200;
const MAX_PROCESSES = 500;

/**
 * Reads the node every interval: sessions' counters (differences give rates), processes and names.
 * Subscribes to node events and process exits (connection and process lifecycle, never per message).
 * Counters of sessions that went away are folded into per-carrier totals, so metric counters
 * only grow.
 */
export class Sampler {
  readonly timeline: TimelineEvent[] = [];
  /** Totals of sessions that are gone, by carrier. */
  private readonly closed = new Map<string, Counts>();
  private last = new Map<Session, { stats: Counts }>();
  private lastAt = performance.now();
  restarts = 0;
  crashes = 0;
  /** Names whose process crashed: a new process under the name is a restart. */
  private readonly crashedNames = new Map<Atom, Pid>();
  private readonly subs: Array<{ unsubscribe(): void }> = [];

  constructor(
    readonly node: Node,
    private readonly rtt: RttProbe | undefined,
  ) {
    this.subs.push(
      node.events$.subscribe((e) => {
        if (e.type === 'nodeup') this.push('nodeup', e.node.name, `${e.carrier}${e.hidden ? ', hidden' : ''}`);
        else this.push('nodedown', e.node.name, exitText(e.reason));
      }),
      node.exits$.subscribe((x) => {
        if (isNormal(x.reason) || isShutdown(x.reason) || isErpcReturn(x.reason)) return;
        this.crashes++;
        this.push('crash', x.name ? `${x.name.name} ${x.pid.toString()}` : x.pid.toString(), exitText(x.reason));
        if (x.name !== undefined) this.crashedNames.set(x.name, x.pid);
      }),
    );
  }

  private push(kind: TimelineEvent['kind'], subject: string, detail: string): void {
    this.timeline.push({ at: Date.now(), kind, subject, detail });
    if (this.timeline.length > MAX_TIMELINE) this.timeline.splice(0, this.timeline.length - MAX_TIMELINE);
  }

  /** Live sessions with their carrier. */
  sessions(): Array<{ peer: Atom; session: Session }> {
    const out: Array<{ peer: Atom; session: Session }> = [];
    for (const peer of this.node.nodes('all')) {
      const session = this.node.dist.session(peer);
      if (session !== undefined) out.push({ peer, session });
    }
    return out;
  }

  /** Sessions seen alive; a gone one's final counters (still readable) are folded into `closed`. */
  private readonly known = new Set<Session>();

  private reconcile(live: Array<{ session: Session }>): void {
    const now = new Set(live.map((x) => x.session));
    for (const s of this.known) {
      if (now.has(s)) continue;
      this.known.delete(s);
      add(this.closed, s.carrier, s.stats);
    }
    for (const s of now) this.known.add(s);
  }

  /** Counters by carrier right now: gone sessions' totals plus live ones. */
  totals(): Map<string, Counts> {
    this.reconcile(this.sessions());
    const t = new Map<string, Counts>();
    for (const [c, v] of this.closed) t.set(c, { ...v });
    for (const { session } of this.sessions()) add(t, session.carrier, session.stats);
    return t;
  }

  /** Notice restarts of crashed named processes (also called on scrape). */
  checkRestarts(): void {
    for (const [name, old] of this.crashedNames) {
      const now = this.node.whereis(name);
      if (now === undefined) continue;
      this.crashedNames.delete(name);
      if (now.id !== old.id || now.serial !== old.serial) {
        this.restarts++;
        this.push('restart', `${name.name} ${now.toString()}`, `was ${old.toString()}`);
      }
    }
  }

  /**
   * Reads the node now: peers with their rates since the last sample, processes, throughput by carrier, and
   * the timeline.
   */
  sample(): Snapshot {
    const now = performance.now();
    const dt = Math.max(1e-3, (now - this.lastAt) / 1000);
    this.lastAt = now;
    this.checkRestarts();
    const next = new Map<Session, { stats: Counts }>();
    const peers: PeerView[] = [];
    const throughput: Record<string, { in: number; out: number }> = {};
    const live = this.sessions();
    this.reconcile(live);
    for (const { peer, session } of live) {
      const cur = session.stats ? copy(session.stats) : zero();
      const prev = this.last.get(session)?.stats ?? cur;
      next.set(session, { stats: cur });
      const tp = (throughput[session.carrier] ??= { in: 0, out: 0 });
      tp.in += (cur.bytesIn - prev.bytesIn) / dt;
      tp.out += (cur.bytesOut - prev.bytesOut) / dt;
      peers.push({
        node: peer.name,
        carrier: session.carrier,
        state: 'up',
        hidden: session.hidden,
        msgInPerSec: (cur.framesIn - prev.framesIn) / dt,
        msgOutPerSec: (cur.framesOut - prev.framesOut) / dt,
        bytesInPerSec: (cur.bytesIn - prev.bytesIn) / dt,
        bytesOutPerSec: (cur.bytesOut - prev.bytesOut) / dt,
        rttMs: this.rtt?.rtt.get(peer) ?? null,
      });
    }
    this.last = next;
    return {
      at: Date.now(),
      node: { name: this.node.name.name, processes: this.node.procs.size, registered: this.node.names.size },
      peers,
      processes: this.processes(),
      throughput,
      timeline: this.timeline,
    };
  }

  private processes(): ProcessView[] {
    const out: ProcessView[] = [];
    // Named processes first, then the rest up to the cap.
    const seen = new Set<number>();
    const view = (p: NonNullable<ReturnType<Node['lookup']>>): ProcessView => ({
      pid: p.pid.toString(),
      name: p.name?.name ?? null,
      mailbox: p.mailbox.length,
      links: p.linkedPids().map((l) => l.toString()),
      monitors: p.monitors?.size ?? 0,
      monitoredBy: p.monitoredBy?.size ?? 0,
    });
    for (const p of this.node.names.values()) {
      seen.add(p.pid.id);
      out.push(view(p));
    }
    for (const p of this.node.procs.values()) {
      if (out.length >= MAX_PROCESSES) break;
      if (!seen.has(p.pid.id)) out.push(view(p));
    }
    return out;
  }

  /** Stops listening to the node's events. */
  close(): void {
    for (const s of this.subs) s.unsubscribe();
  }
}

function copy(s: SessionStats): Counts {
  return { framesIn: s.framesIn, framesOut: s.framesOut, bytesIn: s.bytesIn, bytesOut: s.bytesOut };
}

function add(m: Map<string, Counts>, carrier: string, s: SessionStats | undefined): void {
  if (s === undefined) return;
  const c = m.get(carrier) ?? zero();
  c.framesIn += s.framesIn;
  c.framesOut += s.framesOut;
  c.bytesIn += s.bytesIn;
  c.bytesOut += s.bytesOut;
  m.set(carrier, c);
}

const RETURN = 'return';

/**
 * The exit of an erpc worker whose call succeeded: erpc's `execute_call` (what `rpc:call`,
 * `erpc:call` and `courier call` spawn) delivers its result as the exit reason
 * `{Ref, return, Value}` — a finished call, not a crash. `{Ref, error | throw | exit, …}` is a
 * call that raised and stays a crash.
 */
function isErpcReturn(reason: Term): boolean {
  if (!(reason instanceof Tuple) || reason.elements.length !== 3) return false;
  const [ref, kind] = reason.elements;
  return ref instanceof Ref && kind instanceof Atom && kind.name === RETURN;
}

/** An exit reason as Erlang would print it (maps and nested terms included), an exception as its message. */
function exitText(reason: Term): string {
  if (reason instanceof ExceptionReason) return reasonText(reason);
  try {
    return formatErlang(reason);
  } catch {
    return reasonText(reason);
  }
}
