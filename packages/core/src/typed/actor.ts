import { Atom, Pid, atom, type Term } from '@courier/term';
import { asCaller, call as genCall, cast as genCast } from '../runtime/gen-server.js';
import type { Dest } from '../runtime/dest.js';
import { TIMEOUT } from '../runtime/mailbox.js';
import type { Node } from '../runtime/node.js';
import type { Process } from '../runtime/process.js';
import { destName, markTyped, sendToTyped, sendTyped, typedLocal, unwrap, wireForm } from './local.js';
import type { Checked, KeyEncoding, Value } from './value.js';

/** Default timeout of a typed call, as gen_server:call's. */
export const DEFAULT_CALL_TIMEOUT_MS = 5000;

/** Options of a typed call: the timeout, and the process calling. */
export interface CallOptions {
  /** Give up after this long: CallError TIMEOUT (default 5000). */
  readonly timeoutMs?: number;
  /** The process that calls; a short-lived one is spawned when absent (outside any process). */
  readonly from?: Process | TypedProcess<never>;
}

interface RefOptions<Reply> {
  /** How the target's plain objects travel (default `binary`). */
  readonly keys?: KeyEncoding;
  /** Check or reshape a reply (e.g. an Erlang `{ok, V}`) before the caller sees it; throw to refuse it. */
  readonly decode?: (reply: Value) => Reply;
}

/**
 * Where typed messages of type `Msg` can be sent. `in Msg`: a ref that accepts more is usable
 * where one that accepts less is wanted, never the reverse. Sending a wrong message is a compile
 * error. A ref made by spawnTyped leads to a typed process; one made by {@link typedRef} to any
 * process (an Erlang pid or name, a term-level Courier process): the value is mapped to a term
 * (docs/typed.md) unless the target turns out to be a typed process of this node.
 */
export class TypedRef<in Msg, out P extends Pid | undefined = Pid | undefined> {
  /**
   * The typed process of this node the pid leads to, once a send found it: later sends skip the
   * lookup. Only a pid's target is kept (a name may move), and only while it lives.
   */
  private target: Process | undefined = undefined;

  constructor(
    readonly node: Node,
    readonly dest: Dest,
    readonly keys: KeyEncoding = 'binary',
  ) {}

  /** The pid, when the ref was made from one (always, for a ref spawnTyped returned: `P` is then `Pid`). */
  get pid(): P {
    return (this.dest instanceof Pid ? this.dest : undefined) as P;
  }

  /** Send from outside any process (use `self.send(ref, msg)` inside one). */
  send(msg: Msg): void {
    this.deliver(undefined, msg);
  }

  /** @internal A send from `from` (a pid, or none). */
  deliver(from: Pid | undefined, msg: Msg): void {
    const p = this.target;
    if (p !== undefined) {
      if (sendToTyped(this.node, p, msg)) return;
      this.target = undefined;
    }
    const dest = this.dest;
    if (dest instanceof Pid) {
      const q = typedLocal(this.node, dest);
      if (q !== undefined) {
        this.target = q;
        sendToTyped(this.node, q, msg);
        return;
      }
    }
    sendTyped(this.node, from, dest, msg, this.keys);
  }

  /** `TypedRef<name or pid>`, for logs. */
  toString(): string {
    return `TypedRef<${destName(this.dest)}>`;
  }
}

/**
 * A gen_server-compatible typed server: `call` sends `{'$gen_call', {From, Tag}, Req}`, `cast`
 * sends `{'$gen_cast', Msg}`, so the target may be startTypedServer's or any Erlang gen_server.
 */
export class ServerRef<in Call, out Reply, in Cast = never, out P extends Pid | undefined = Pid | undefined> {
  constructor(
    readonly node: Node,
    readonly dest: Dest,
    private readonly opts: RefOptions<Reply> = {},
  ) {}

  /** keys How this server's plain objects travel and are read (`binary` or `atom` keys). */
  get keys(): KeyEncoding {
    return this.opts.keys ?? 'binary';
  }

  /** The pid, when the ref was made from one (always, for a ref startTypedServer returned: `P` is then `Pid`). */
  get pid(): P {
    return (this.dest instanceof Pid ? this.dest : undefined) as P;
  }

  /**
   * gen_server:call with a typed request and reply. Throws CallError (TIMEOUT, NOPROC,
   * NOCONNECTION, EXIT) as `call` does, UsageError BADARG for a request with no Erlang form.
   */
  call(req: Call, opts: CallOptions = {}): Promise<Reply> {
    const timeoutMs = opts.timeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
    const from = opts.from instanceof TypedProcess ? opts.from.process : opts.from;
    if (from !== undefined) return this.callFrom(from, req, timeoutMs);
    // Mapped here, so a request with no Erlang form throws at the caller before any process runs.
    const form = wireForm(this.node, this.dest, req, this.keys);
    return asCaller(this.node, (self) => this.callWith(self, form, timeoutMs));
  }

  /** @internal The call from `self` (a request with no Erlang form throws before anything is sent). */
  callFrom(self: Process, req: Call, timeoutMs: number): Promise<Reply> {
    return this.callWith(self, wireForm(this.node, this.dest, req, this.keys), timeoutMs);
  }

  private async callWith(self: Process, form: Term, timeoutMs: number): Promise<Reply> {
    const raw = await genCall(self, this.dest, form, timeoutMs);
    const v = unwrap(raw, this.keys);
    return this.opts.decode === undefined ? (v as Reply) : this.opts.decode(v);
  }

  /** gen_server:cast: fire and forget (never throws for a missing server; BADARG for a bad message). */
  cast(msg: Cast, from?: Process | TypedProcess<never>): void {
    const self = from instanceof TypedProcess ? from.process : (from ?? this.node);
    genCast(self, this.dest, wireForm(this.node, this.dest, msg, this.keys));
  }

  /** `ServerRef<name or pid>`, for logs. */
  toString(): string {
    return `ServerRef<${destName(this.dest)}>`;
  }
}

/** A typed ref to an existing process: an Erlang pid or `{Name, Node}`, a local name or pid. */
export function typedRef<Msg>(node: Checked<Msg, Node>, dest: Dest, opts?: { keys?: KeyEncoding }): TypedRef<Msg> {
  const keys = opts?.keys ?? 'binary';
  // A process sends the same Pid object in every message (local messages are not copied), so an
  // actor that answers `typedRef(self.node, m.from)` usually asks for the ref it made last time.
  const last = lastRef;
  if (last !== undefined && last.dest === dest && last.node === node && last.keys === keys) return last as TypedRef<Msg>;
  const ref = new TypedRef<Msg>(node as Node, dest, keys);
  lastRef = ref;
  return ref;
}
/** The ref {@link typedRef} made last (a ref is immutable but for the target it caches, checked alive at each send). */
let lastRef: TypedRef<never> | undefined;

/** A typed ref to a gen_server anywhere (an Erlang one, or startTypedServer's by name or pid). */
export function serverRef<Call, Reply, Cast = never>(
  node: Checked<Call, Checked<Cast, Checked<Reply, Node>>>,
  dest: Dest,
  opts: RefOptions<Reply> = {},
): ServerRef<Call, Reply, Cast> {
  return new ServerRef<Call, Reply, Cast>(node as Node, dest, opts);
}

// The typed value of what a receive returned (TIMEOUT passes through), one function per key encoding.
const readBinary = (raw: Term | typeof TIMEOUT): Value | typeof TIMEOUT => (raw === TIMEOUT ? TIMEOUT : unwrap(raw, 'binary'));
const readAtom = (raw: Term | typeof TIMEOUT): Value | typeof TIMEOUT => (raw === TIMEOUT ? TIMEOUT : unwrap(raw, 'atom'));

/**
 * The typed view of a process, given to a typed actor's body: `receive()` resolves with `Msg`,
 * `send(ref, msg)` checks `msg` against the ref. `process` is the untyped Process underneath
 * (links, monitors, trap_exit, timers): messages it receives directly are raw terms.
 */
export class TypedProcess<Msg> {
  constructor(
    readonly process: Process,
    readonly keys: KeyEncoding,
  ) {}

  /** pid The pid of this actor. */
  get pid(): Pid {
    return this.process.pid;
  }

  /** node The node this actor runs on. */
  get node(): Node {
    return this.process.node;
  }

  /** A ref to this process, to hand to others. */
  get ref(): TypedRef<Msg> {
    return new TypedRef<Msg>(this.process.node, this.process.pid, this.keys);
  }

  /** The next message; with a guard, the first one it accepts (selective receive), narrowed. */
  receive(): Promise<Msg>;
  receive<S extends Msg>(guard: (m: Msg) => m is S): Promise<S>;
  receive<S extends Msg>(guard: (m: Msg) => m is S, timeoutMs: number): Promise<S | typeof TIMEOUT>;
  /** Wait at most `timeoutMs` (0 polls): TIMEOUT when nothing (accepted) came in time (`after`). */
  receive(guard: ((m: Msg) => boolean) | undefined, timeoutMs: number): Promise<Msg | typeof TIMEOUT>;
  receive(guard?: (m: Msg) => boolean, timeoutMs?: number): Promise<Msg | typeof TIMEOUT> {
    const keys = this.keys;
    // A `then` with a shared function rather than an async method: one promise less per message.
    const read = keys === 'binary' ? readBinary : readAtom;
    if (guard === undefined) return this.process.receive(undefined, timeoutMs as number).then(read) as Promise<Msg | typeof TIMEOUT>;
    return this.process.receive((t: Term) => guard(unwrap(t, keys) as Msg), timeoutMs as number).then(read) as Promise<Msg | typeof TIMEOUT>;
  }

  /** Sends a typed message to another typed actor from this process. */
  send<T>(to: TypedRef<T>, msg: T): void {
    this.process.check();
    to.deliver(this.process.pid, msg);
  }

  /**
   * Calls a typed server from this process: gen_server:call with a typed request and reply (CallError
   * TIMEOUT, NOPROC, NOCONNECTION or EXIT on failure).
   */
  call<Call, Reply>(to: ServerRef<Call, Reply, never>, req: Call, opts?: Omit<CallOptions, 'from'>): Promise<Reply> {
    return to.callFrom(this.process, req, opts?.timeoutMs ?? DEFAULT_CALL_TIMEOUT_MS);
  }

  /** Casts a typed message to a server from this process (gen_server:cast). */
  cast<Cast>(to: ServerRef<never, unknown, Cast>, msg: Cast): void {
    to.cast(msg, this.process);
  }

  /** End this process with `reason` (exit/1). */
  exit(reason: Term): never {
    return this.process.exit(reason);
  }
}

/**
 * Options of {@link spawnTyped}: a registered name, how plain objects travel (`keys`), a process to link to,
 * trapping exits.
 */
export interface SpawnTypedOptions {
  readonly name?: Atom | string;
  /** How this actor's plain objects travel and are read (default `binary`). */
  readonly keys?: KeyEncoding;
  readonly linkTo?: Process | TypedProcess<never>;
  readonly trapExit?: boolean;
}

/** The body of a typed actor: an (async) function of its {@link TypedProcess}. */
export type TypedBody<Msg> = (self: TypedProcess<Msg>) => unknown;

/**
 * Spawn a typed actor: `body` receives `Msg` values. `Msg` must stay inside the typed mapping
 * (`Wire<Msg>`): a message type with a function, a Date or a Map in it does not compile.
 */
export function spawnTyped<Msg>(on: Checked<Msg, Node>, body: TypedBody<Msg>, opts: SpawnTypedOptions = {}): TypedRef<Msg, Pid> {
  const node = on as Node;
  const keys = opts.keys ?? 'binary';
  const linkTo = opts.linkTo instanceof TypedProcess ? opts.linkTo.process : opts.linkTo;
  const name = typeof opts.name === 'string' ? atom(opts.name) : opts.name;
  const pid = node.spawn((p) => body(new TypedProcess<Msg>(p, keys)), { name, linkTo, trapExit: opts.trapExit });
  const p = node.lookup(pid);
  if (p !== undefined) markTyped(p);
  return new TypedRef<Msg, Pid>(node, pid, keys);
}

/** The type of {@link stopped} (a class, so that it never widens the way a symbol does). */
export class Stopped {
  private readonly stopped = true;
}
/** Returned by an {@link actor} handler to end the actor (exit `normal`). */
export const stopped: Stopped = new Stopped();

/**
 * A body from a state and a handler (nact's / Akka's functional style): each message gives the
 * next state; return {@link stopped} to end.
 */
export function actor<Msg, S>(initial: S, onMessage: (state: S, msg: Msg, self: TypedProcess<Msg>) => S | Stopped | Promise<S | Stopped>): TypedBody<Msg> {
  return async (self) => {
    let state = initial;
    for (;;) {
      const next = await onMessage(state, await self.receive(), self);
      if (next instanceof Stopped) return;
      state = next;
    }
  };
}

/** Whether `dest` is a typed process of `node` (its messages are then never mapped). */
export function isTypedProcess(node: Node, dest: Dest): boolean {
  return typedLocal(node, dest) !== undefined;
}
