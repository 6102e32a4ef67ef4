import { Atom, Pid, Ref, Tuple, atoms, type Term } from '@courier/term';
import { ExitCall, ProcessGone, asError } from './exit-reason.js';
import { Mailbox, TIMEOUT, type Matcher } from './mailbox.js';
import { wake } from './scheduler.js';
import { startTimeout, stopTimeout, timerDelay } from './timers.js';
import { toMatcher, type Pattern } from './pattern.js';
import type { Dest } from './dest.js';
import type { Node, SpawnOptions } from './node.js';
import { pidKey, refKey } from './keys.js';
import { ProcessExtrasHost, type ProcessExtras } from './process-extras.js';

/** A process body: an async function of its own Process. What it returns is ignored (exit `normal`). */
export type Body = (self: Process) => unknown;

/** A monitor this process holds on another. */
export interface MonitorOut {
  readonly ref: Ref;
  readonly target: Pid | undefined;
  /** The node the target lives on (for remote monitors and by-name monitors). */
  readonly node: Atom;
  /** The `Who` of the DOWN message: the pid, or `{Name, Node}` for by-name monitors. */
  readonly who: Term;
  readonly name: Atom | undefined;
}

/** A monitor another process holds on this one. */
export interface MonitorIn {
  readonly ref: Ref;
  readonly by: Pid;
  /** The `Who` to report: our pid, or `{Name, Node}` when monitored by name. */
  readonly who: Term;
  /** For remote by-name monitors: the name, sent back in MONITOR_P_EXIT. */
  readonly name: Atom | undefined;
}

const noop = (): void => undefined;

const samePid = (a: Pid, b: Pid): boolean => a === b || (a.id === b.id && a.serial === b.serial && a.creation === b.creation && a.node === b.node);

/**
 * A process: its pid, mailbox, links, monitors and the API its body uses (Erlang's BIFs as
 * methods). A Process is single-use: once it has exited every operation throws ProcessGone, and
 * what its body was awaiting (receive, sleep, yield, a remote spawn) rejects with ProcessGone, so
 * its `finally` blocks run (docs/processes.md: what can and cannot be interrupted).
 */
export class Process extends ProcessExtrasHost {
  readonly mailbox = new Mailbox();
  trapExit = false;
  alive = true;
  /**
   * The linked pids: none, the one (most linked processes have one link, to their supervisor or
   * parent: no Map and no key string for it), or a Map by pid key. Read with {@link linkedPids}.
   */
  private lk: Pid | Map<string, Pid> | undefined = undefined;
  /**
   * @internal What most processes never use, in one object made on first use: an idle process pays
   * one field for all of it (measured: 1,277 → 1,133 heap bytes per idle process, with the mailbox's
   * shared empty queue and its markers in one object). The accessors of {@link ProcessExtrasHost}
   * read and write it as if these were fields of the process. Declared here, after the fields above,
   * so that the process's hidden class keeps its field order.
   */
  protected x: ProcessExtras | undefined = undefined;

  constructor(
    readonly node: Node,
    readonly pid: Pid,
  ) {
    super();
  }

  /** This process's pid (Erlang's `self()`). */
  get self(): Pid {
    return this.pid;
  }

  // ---- messages --------------------------------------------------------------------------

  /**
   * Sends `msg` to a pid, a registered name, an alias, or `{name, node}` (Erlang's `!`); never blocks, never
   * fails for a dead destination.
   */
  send(dest: Dest, msg: Term): void {
    this.check();
    this.node.sendFrom(this.pid, dest, msg);
  }

  /** Wait for the first message (matching `pattern`, when given). */
  receive(pattern?: Pattern | Matcher): Promise<Term>;
  /** Wait at most `timeoutMs`; resolves with TIMEOUT when nothing matched in time (`after`). */
  receive(pattern: Pattern | Matcher | undefined, timeoutMs: number): Promise<Term | typeof TIMEOUT>;
  receive(pattern?: Pattern | Matcher, timeoutMs?: number): Promise<Term | typeof TIMEOUT> {
    return this.receiveSince(toMatcher(pattern), timeoutMs, undefined);
  }

  /**
   * A receive that skips every message queued before `ref` was made: OTP's receive-marker
   * optimisation, so waiting for the reply to a call costs the same whatever backlog the mailbox
   * holds. Use it when every message `pattern` can match is newer than `ref` (a reply carrying
   * it, the DOWN of a monitor made with it or after it). The marker is kept for the last few
   * references this process made with {@link makeRef}, {@link monitor} or {@link alias}; for any
   * other reference this is a plain {@link receive}. gen_server's call is the model:
   * `const mref = self.monitor(server); self.send(server, req); await self.receiveRef(mref, reply_or_down, timeout)`.
   */
  receiveRef(ref: Ref, pattern: Pattern | Matcher, timeoutMs?: number): Promise<Term | typeof TIMEOUT> {
    return this.receiveSince(toMatcher(pattern), timeoutMs, ref);
  }

  private receiveSince(m: Matcher | undefined, timeoutMs: number | undefined, ref: Ref | undefined): Promise<Term | typeof TIMEOUT> {
    this.check();
    const drained = this.unpark();
    if (drained !== undefined) {
      return drained.then(() => {
        this.check();
        return this.mailbox.receive(m, timeoutMs, ref);
      });
    }
    return this.mailbox.receive(m, timeoutMs, ref);
  }

  /** make_ref/0, with a receive marker for {@link receiveRef}. */
  makeRef(): Ref {
    this.check();
    const at = this.mailbox.mark();
    return this.bindMark(this.node.makeRef(), at);
  }

  /**
   * Take the first (matching) message now without waiting: Erlang's `receive … after 0`, but
   * synchronous, so a process can drain its mailbox without a promise per message. TIMEOUT when
   * nothing matches.
   */
  tryReceive(pattern?: Pattern | Matcher): Term | typeof TIMEOUT {
    this.check();
    return this.mailbox.take(toMatcher(pattern));
  }

  // ---- spawning --------------------------------------------------------------------------

  /** Spawns a process on this node (erlang:spawn/1). */
  spawn(body: Body, opts?: SpawnOptions): Pid {
    this.check();
    return this.node.spawn(body, opts);
  }

  /** Spawns a process linked to this one (erlang:spawn_link/1). */
  spawnLink(body: Body, opts?: SpawnOptions): Pid {
    this.check();
    return this.node.spawn(body, { ...opts, linkTo: this });
  }

  /**
   * Spawns a process monitored by this one, returning its pid and the monitor reference
   * (erlang:spawn_monitor/1).
   */
  spawnMonitor(body: Body, opts?: SpawnOptions): [Pid, Ref] {
    this.check();
    const pid = this.node.spawn(body, opts);
    return [pid, this.monitor(pid)];
  }

  /** spawn_request on another node: runs `module:fun(...args)` there. */
  spawnRemote(node: Atom, module: Atom, fun: Atom, args: Term[], opts?: { link?: boolean; monitor?: boolean }): Promise<[Pid, Ref | undefined]> {
    this.check();
    return this.untilExit(this.node.spawnRequest(this, node, module, fun, args, opts ?? {}));
  }

  // ---- links and exits -------------------------------------------------------------------

  /** Links this process to `pid`, local or remote (erlang:link/1). */
  link(pid: Pid): void {
    this.check();
    this.node.linkFrom(this, pid);
  }

  /** Removes the link to `pid` (erlang:unlink/1, with OTP's UNLINK_ID protocol for remote pids). */
  unlink(pid: Pid): void {
    this.check();
    this.node.unlinkFrom(this, pid);
  }

  /** exit/1: end this process with `reason`. */
  exit(reason: Term): never;
  /** exit/2: send an exit signal to `pid`. */
  exit(pid: Pid, reason: Term): void;
  exit(a: Term, b?: Term): void {
    this.check();
    if (b === undefined) throw new ExitCall(a);
    this.node.exitSignal(this.pid, a as Pid, b);
  }

  // ---- monitors --------------------------------------------------------------------------

  /** Monitor a pid, a registered name, or `{Name, Node}`. The DOWN message carries the ref. */
  monitor(target: Pid | Atom | Tuple | { name: Atom | string; node: Atom | string }): Ref {
    this.check();
    // Marked before the monitor is set: a DOWN for a dead target may be queued at once.
    const at = this.mailbox.mark();
    return this.bindMark(this.node.monitorFrom(this, target), at);
  }

  /** Remove a monitor. With `flush`, also drop a DOWN for it already in the mailbox. */
  demonitor(ref: Ref, opts?: { flush?: boolean }): boolean {
    this.check();
    const had = this.node.demonitorFrom(this, ref);
    if (opts?.flush) {
      const key = refKey(ref);
      // A DOWN is newer than its monitor: with the monitor's marker only what came since is tested.
      this.mailbox.drop((m) => m instanceof Tuple && m.elements.length === 5 && m.elements[0] === atoms.DOWN && m.elements[1] instanceof Ref && refKey(m.elements[1]) === key, ref);
    }
    return had;
  }

  /** monitor_node/2: `{nodedown, Node}` arrives when the connection to `node` is lost. */
  monitorNode(node: Atom, on = true): void {
    this.check();
    this.node.monitorNodeFrom(this, node, on);
  }

  /** An alias: a reference that delivers to this process while active (OTP 24 aliases). */
  alias(): Ref {
    this.check();
    const at = this.mailbox.mark();
    return this.bindMark(this.node.makeAlias(this), at);
  }

  /** Deactivates an alias made by {@link Process.alias}; false when it was not active. */
  unalias(ref: Ref): boolean {
    return this.node.dropAlias(this, ref);
  }

  // ---- names -----------------------------------------------------------------------------

  /** Registers this process as `name` (erlang:register(Name, self())). */
  register(name: Atom): void {
    this.check();
    this.node.register(name, this.pid);
  }

  // ---- timers ----------------------------------------------------------------------------

  /** erlang:send_after: deliver `msg` to `dest` after `ms`. Returns a ref for cancelTimer. */
  sendAfter(ms: number, dest: Dest, msg: Term): Ref {
    this.check();
    return this.node.timers.sendAfter(this.pid, ms, dest, msg);
  }

  /**
   * erlang:cancel_timer/1: the whole milliseconds the timer had left, or false when it already
   * fired, was cancelled, or went with the process it was addressed to.
   */
  cancelTimer(ref: Ref): number | false {
    return this.node.timers.cancel(ref);
  }

  /** erlang:read_timer/1: the milliseconds a timer has left, or false as {@link cancelTimer}. */
  readTimer(ref: Ref): number | false {
    return this.node.timers.read(ref);
  }

  /**
   * erlang:yield/0: let other processes run before going on. JS cannot preempt a busy loop the
   * way Erlang's scheduler counts reductions, so a process that sends in a long loop yields now
   * and then to let its receivers drain their mailboxes.
   */
  yield(): Promise<void> {
    this.check();
    return (
      this.unpark() ??
      new Promise((resolve, reject) => {
        wake(() => (this.alive ? resolve() : reject(new ProcessGone(this.exitReason))), undefined);
      })
    );
  }

  /** Sleep without touching the mailbox; any length (past setTimeout's limit too). */
  sleep(ms: number): Promise<void> {
    this.check();
    const delay = timerDelay(ms, 'sleep');
    const slept = new Promise<void>((resolve, reject) => {
      const abort = (err: Error): void => {
        stopTimeout(h);
        reject(err);
      };
      const h = startTimeout(() => {
        this.pending?.delete(abort);
        resolve();
      }, delay);
      (this.pending ??= new Set()).add(abort);
    });
    slept.catch(noop);
    const drained = this.unpark();
    return drained === undefined ? slept : Promise.all([drained, slept]).then(() => undefined);
  }

  // ---- internals -------------------------------------------------------------------------

  /** The drain this process waits for before its next await, if it sent to a busy connection. */
  private unpark(): Promise<void> | undefined {
    const s = this.parkedOn;
    if (s === undefined) return undefined;
    this.parkedOn = undefined;
    return this.untilExit(s.whenDrained());
  }

  /** @internal `p`, or a ProcessGone rejection as soon as this process exits. */
  untilExit<T>(p: Promise<T>): Promise<T> {
    const out = new Promise<T>((resolve, reject) => {
      const set = (this.pending ??= new Set());
      set.add(reject);
      p.then(
        (v) => {
          set.delete(reject);
          resolve(v);
        },
        (e: unknown) => {
          set.delete(reject);
          reject(asError(e, 'the awaited operation failed'));
        },
      );
    });
    out.catch(noop);
    return out;
  }

  /**
   * @internal The process has exited (signals.terminate): the receive and whatever else its body
   * awaits reject with ProcessGone, at once. Code between two awaits is not interrupted (JS
   * cannot preempt); the next process operation throws.
   */
  abort(reason: Term): void {
    // Made only when something awaits: most processes end with nothing pending, and an Error
    // (its stack, the reason's text) is the largest cost of an exit.
    let err: ProcessGone | undefined;
    const gone = (): ProcessGone => (err ??= new ProcessGone(reason));
    this.mailbox.close(gone);
    const pending = this.pending;
    if (pending === undefined) return;
    this.pending = undefined;
    for (const reject of pending) reject(gone());
  }

  private bindMark(ref: Ref, at: number): Ref {
    this.mailbox.bindMark(ref, at);
    return ref;
  }

  /** Throws when this process has exited, so a body that survives an exit signal stops at its next call. */
  check(): void {
    if (!this.alive) throw new ProcessGone(this.exitReason);
  }

  /** Records a link to `pid` on this side only (the runtime's half of a link; use {@link Process.link}). */
  addLink(pid: Pid): void {
    if (pid.node !== this.node.name) this.node.signals.peers.add(this, pid.node);
    const lk = this.lk;
    if (lk === undefined || (lk instanceof Pid && samePid(lk, pid))) this.lk = pid;
    else if (lk instanceof Pid)
      this.lk = new Map([
        [pidKey(lk), lk],
        [pidKey(pid), pid],
      ]);
    else lk.set(pidKey(pid), pid);
    if (this.linksChanged !== undefined && this.alive) this.notifyLinks();
  }

  /** Forgets the link to `pid` on this side only; false when there was none. */
  removeLink(pid: Pid): boolean {
    const lk = this.lk;
    let had = false;
    if (lk instanceof Pid) {
      had = samePid(lk, pid);
      if (had) this.lk = undefined;
    } else if (lk !== undefined) had = lk.delete(pidKey(pid));
    if (had && this.linksChanged !== undefined && this.alive) this.notifyLinks();
    return had;
  }

  /** The pids this process is linked to (a copy: links may change while the caller walks it). */
  linkedPids(): Pid[] {
    const lk = this.lk;
    return lk === undefined ? [] : lk instanceof Pid ? [lk] : [...lk.values()];
  }

  /** The number of links this process has. */
  get linkCount(): number {
    const lk = this.lk;
    return lk === undefined ? 0 : lk instanceof Pid ? 1 : lk.size;
  }

  /** Run the linksChanged handler; a throw there ends this process, not the signal or connection that caused it. */
  private notifyLinks(): void {
    try {
      (this.linksChanged as () => void)();
    } catch (err) {
      this.node.signals.handlerFailed(this, err);
    }
  }

  /** Whether this process is linked to `pid`. */
  isLinked(pid: Pid): boolean {
    const lk = this.lk;
    return lk === undefined ? false : lk instanceof Pid ? samePid(lk, pid) : lk.has(pidKey(pid));
  }
}

export { TIMEOUT };
