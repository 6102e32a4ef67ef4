import { Atom, Pid, Tuple, atom, atoms, type Term } from '@courier/term';
import { CourierError, UsageError } from '../errors.js';
import { GEN_CALL, GEN_CAST, answersThroughReplyTo, replyTo, systemTerminate, type From } from './gen-call.js';
import { ExitCall, ProcessGone, asError, isNormal, isShutdown, reasonFromThrow, reasonText } from './exit-reason.js';
import { TIMEOUT } from './mailbox.js';
import type { Node } from './node.js';
import type { Process } from './process.js';

/**
 * A gen_server in TypeScript, wire-compatible with Erlang's: calls are
 * `{'$gen_call', {From, Tag}, Request}` answered by `{Tag, Reply}`, casts are
 * `{'$gen_cast', Msg}`. An Erlang node can `gen_server:call({Name, Node}, Req)` a Courier server
 * and a Courier process can `call` an Erlang one. Callers tag calls as OTP 24+ does,
 * `[alias|Ref]`, so a reply that comes after the caller gave up is dropped by the runtime.
 */
const TIMEOUT_ATOM = atom('timeout');

/** `{continue, Value}`: run `handleContinue(value)` before the next message (OTP 21+). */
export class Continue {
  constructor(readonly value: Term) {}
}
/**
 * What a callback may add to its result, as OTP's third element: a timeout in ms (no message
 * within it calls `handleInfo('timeout')`), a {@link Continue}, or `'hibernate'`. Hibernation has
 * no JS equivalent (a process holds no stack or heap of its own to compact; V8 collects the
 * whole isolate): it is accepted for OTP parity and means only "no timeout".
 */
export type Action = number | Continue | 'hibernate';

/** What `handleCall` returns to answer: made by {@link reply}. */
export class Reply<S> {
  constructor(
    readonly value: Term,
    readonly state: S,
    readonly action?: Action,
  ) {}
}
/** What a callback returns to go on without answering (now): made by {@link noreply}. */
export class NoReply<S> {
  constructor(
    readonly state: S,
    readonly action?: Action,
  ) {}
}
/** What a callback returns to stop the server with a reason: made by {@link stop}. */
export class Stop<S> {
  constructor(
    readonly reason: Term,
    readonly state: S,
    readonly reply?: Term,
  ) {}
}
/** `{ok, State, Action}` from init. */
export class InitWith<S> {
  constructor(
    readonly state: S,
    readonly action: Action,
  ) {}
}
/**
 * `{reply, Value, State}`: answer the call with `value` and go on with `state` (and an optional {@link
 * Action}).
 */
export const reply = <S>(value: Term, state: S, action?: Action): Reply<S> => new Reply(value, state, action);
/** `{noreply, State}`: go on with `state` without answering (answer later with `replyTo(from, …)`). */
export const noreply = <S>(state: S, action?: Action): NoReply<S> => new NoReply(state, action);
/**
 * `{stop, Reason, State}` (or `{stop, Reason, Reply, State}` with `replyValue`): stop the server;
 * `terminate` runs first.
 */
export const stop = <S>(reason: Term, state: S, replyValue?: Term): Stop<S> => new Stop(reason, state, replyValue);
/** `{continue, Value}`: run `handleContinue(value)` before the next message. */
export const continueWith = (value: Term): Continue => new Continue(value);
/**
 * `{ok, State, Action}` from `init`: start with `state` and an {@link Action} (a timeout, a continue,
 * hibernate).
 */
export const initWith = <S>(state: S, action: Action): InitWith<S> => new InitWith(state, action);

type Async<T> = T | Promise<T>;

/** What a crash log shows of a server: `formatStatus` may redact any part (OTP 25 format_status/1). */
export interface ServerStatus {
  readonly state: unknown;
  readonly message?: Term;
  readonly reason?: Term;
}

/**
 * The callbacks of a gen_server, wire-compatible with Erlang's: calls are `{'$gen_call', {From, Tag},
 * Request}` answered by `{Tag, Reply}`, casts `{'$gen_cast', Msg}`, so an Erlang node can `gen_server:call`
 * a Courier server and back. Started by {@link startServer}.
 */
export interface GenServer<S, A = unknown> {
  /** The state, `initWith(state, action)`, or `stop(reason, …)` to refuse to start. */
  init(self: Process, args: A): Async<S | InitWith<S> | Stop<unknown>>;
  /** A call: answer with {@link reply}, later with {@link noreply}, or {@link stop}. */
  handleCall?(request: Term, from: From, state: S, self: Process): Async<Reply<S> | NoReply<S> | Stop<S>>;
  /** A cast (no answer expected). */
  handleCast?(msg: Term, state: S, self: Process): Async<NoReply<S> | Stop<S>>;
  /**
   * Any other message: monitors' `DOWN`, exit signals when trapping exits, `timeout` after an {@link Action}
   * timeout, plain sends.
   */
  handleInfo?(msg: Term, state: S, self: Process): Async<NoReply<S> | Stop<S>>;
  /** Runs after a callback that returned {@link continueWith}, before the next message. */
  handleContinue?(value: Term, state: S, self: Process): Async<NoReply<S> | Stop<S>>;
  /**
   * Runs once when the server stops (a `stop` result, a thrown exception, an exit signal while trapping
   * exits).
   */
  terminate?(reason: Term, state: S, self: Process): Async<void>;
  /** Redact what the `gen_server terminating` log shows (passwords, keys, big buffers). */
  formatStatus?(status: ServerStatus): ServerStatus;
}

/**
 * Options of {@link startServer}: a registered name, a process to link to, and trapping exits from the
 * start.
 */
export interface StartOptions {
  readonly name?: Atom;
  /** Link to this process (start_link); its exit signal stops a server that traps exits. */
  readonly linkTo?: Process;
  /** Trap exits from the start (process_flag(trap_exit, true) before init). */
  readonly trapExit?: boolean;
}

/** The server's init returned `stop(reason)` or threw: the reason it exited with is `reason`. */
export class StartError extends CourierError {
  constructor(
    readonly reason: Term,
    cause?: unknown,
  ) {
    super('START_FAILED', `the process failed to start: ${reasonText(reason)}; see its init`, { cause });
    this.name = 'StartError';
  }
}

/** Start a server and wait until its `init` has returned (gen_server:start/start_link). */
export function startServer<S, A>(node: Node, impl: GenServer<S, A>, args: A, opts: StartOptions = {}): Promise<Pid> {
  return new Promise((resolve, reject) => {
    node.spawn(
      async (self) => {
        let r: S | InitWith<S> | Stop<unknown>;
        try {
          r = await impl.init(self, args);
        } catch (e) {
          reject(e instanceof ExitCall ? new StartError(e.reason, e) : asError(e, 'the init of the server failed'));
          throw e;
        }
        if (r instanceof Stop) {
          reject(new StartError(r.reason));
          throw new ExitCall(r.reason);
        }
        resolve(self.pid);
        answersThroughReplyTo(self);
        const loop = new ServerLoop(self, impl, opts.linkTo?.pid);
        await (r instanceof InitWith ? loop.run(r.state, r.action) : loop.run(r, undefined));
      },
      { name: opts.name, linkTo: opts.linkTo, trapExit: opts.trapExit ?? false },
    );
  });
}

type Result<S> = Reply<S> | NoReply<S> | Stop<S>;

class ServerLoop<S, A> {
  constructor(
    private readonly self: Process,
    private readonly impl: GenServer<S, A>,
    private readonly parent: Pid | undefined,
  ) {}

  async run(state: S, action: Action | undefined): Promise<void> {
    const self = this.self;
    for (;;) {
      let msg: Term | typeof TIMEOUT;
      let g: Async<Result<S>>;
      if (action instanceof Continue) {
        msg = undefined;
        g = this.guard(state, undefined, action);
      } else {
        msg = typeof action === 'number' ? await self.receive(undefined, action) : await self.receive();
        if (this.fromParent(msg)) await this.stop((msg as Tuple).elements[2], state, msg);
        const sysStop = systemTerminate(self, msg);
        if (sysStop !== undefined) await this.stop(sysStop, state, msg);
        g = this.guard(state, msg === TIMEOUT ? TIMEOUT_ATOM : msg, undefined);
      }
      // A callback that answered synchronously costs no promise here.
      const r = g instanceof Promise ? await g : g;
      state = r.state;
      if (r instanceof Stop) {
        if (r.reply !== undefined && isCall(msg)) replyTo(self, (msg as Tuple).elements[1] as From, r.reply);
        return this.stop(r.reason, state, msg);
      }
      action = r.action;
    }
  }

  /** `{'EXIT', Parent, Reason}` while trapping exits: the server terminates with Reason (OTP). */
  private fromParent(msg: Term | typeof TIMEOUT): boolean {
    if (this.parent === undefined || !this.self.trapExit || !(msg instanceof Tuple) || msg.elements.length !== 3 || msg.elements[0] !== atoms.EXIT) return false;
    const from = msg.elements[1];
    return from instanceof Pid && from.id === this.parent.id && from.serial === this.parent.serial && from.node === this.parent.node;
  }

  private dispatch(msg: Term, state: S): Async<Result<S>> {
    const { self, impl } = this;
    if (isCall(msg)) {
      const [, from, request] = (msg as Tuple).elements;
      if (!impl.handleCall) throw new UsageError('NO_HANDLE_CALL', `the server got the call ${String(request)} but has no handleCall`);
      const r = impl.handleCall(request, from as From, state, self);
      if (r instanceof Promise) return r.then((x) => answerCall(self, from as From, x));
      return answerCall(self, from as From, r);
    }
    if (msg instanceof Tuple && msg.elements.length === 2 && msg.elements[0] === GEN_CAST) {
      if (!impl.handleCast) return new NoReply(state);
      return impl.handleCast(msg.elements[1], state, self);
    }
    if (impl.handleInfo) return impl.handleInfo(msg, state, self);
    return new NoReply(state);
  }

  /**
   * Run the callback for `msg` (handleContinue for `cont`); a throw or rejection terminates the
   * server as OTP does (terminate, crash log, exit). Synchronous when the callback is.
   */
  private guard(state: S, msg: Term, cont: Continue | undefined): Async<Result<S>> {
    let r: Async<Result<S>>;
    try {
      r = cont === undefined ? this.dispatch(msg, state) : this.continue(cont.value, state);
    } catch (e) {
      return this.failed(e, state, msg);
    }
    return r instanceof Promise ? r.catch((e: unknown) => this.failed(e, state, msg)) : r;
  }

  private continue(value: Term, state: S): Async<Result<S>> {
    const { self, impl } = this;
    if (!impl.handleContinue) throw new UsageError('NO_HANDLE_CONTINUE', 'a callback returned continueWith(...) but the server has no handleContinue');
    return impl.handleContinue(value, state, self);
  }

  private async failed(e: unknown, state: S, msg: Term): Promise<never> {
    if (!this.self.alive || e instanceof ProcessGone) throw e;
    await this.terminate(reasonFromThrow(e), state, msg);
    throw e;
  }

  private async stop(reason: Term, state: S, msg: Term | typeof TIMEOUT): Promise<never> {
    await this.terminate(reason, state, msg === TIMEOUT ? TIMEOUT_ATOM : msg);
    throw new ExitCall(reason);
  }

  private async terminate(reason: Term, state: S, msg: Term): Promise<void> {
    const { self, impl } = this;
    let why = reason;
    if (impl.terminate) {
      try {
        await impl.terminate(reason, state, self);
      } catch (e) {
        if (!self.alive || e instanceof ProcessGone) throw e;
        why = reasonFromThrow(e);
        this.crashLog(why, state, msg);
        throw e;
      }
    }
    if (!isNormal(why) && !isShutdown(why)) this.crashLog(why, state, msg);
  }

  /** The `gen_server terminating` report, through formatStatus when the server has one. */
  private crashLog(reason: Term, state: unknown, message: Term): void {
    let status: ServerStatus = { state, message, reason };
    if (this.impl.formatStatus) {
      try {
        status = this.impl.formatStatus(status);
      } catch (e) {
        status = { state: 'formatStatus failed', message: undefined, reason: reasonText(reasonFromThrow(e)) };
      }
    }
    const text = (t: unknown): string | undefined => (t === undefined ? undefined : showTerm(t));
    this.self.node.log.error(
      { server: this.self.pid.toString(), name: this.self.name?.name, lastMessage: text(status.message), state: text(status.state), reason: text(status.reason) },
      'gen_server terminating',
    );
  }
}

/** A term, or any JS value a state holds, as a log shows it (never throws). */
export function showTerm(t: unknown): string {
  try {
    return reasonText(t as Term);
  } catch {
    try {
      return JSON.stringify(t, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)) ?? String(t);
    } catch {
      return String(t);
    }
  }
}

/** Send the reply of a `reply(...)` result. */
function answerCall<S>(self: Process, from: From, r: Result<S>): Result<S> {
  if (r instanceof Reply) replyTo(self, from, r.value);
  return r;
}

function isCall(msg: Term | typeof TIMEOUT): boolean {
  return msg instanceof Tuple && msg.elements.length === 3 && msg.elements[0] === GEN_CALL;
}

export { GEN_CALL, GEN_CAST, answersThroughReplyTo, asCaller, call, cast, destText, replyTo, stopServer, systemTerminate, type Caller, type From } from './gen-call.js';
export { abcast, multiCall, type MultiCallResult } from './multi-call.js';
