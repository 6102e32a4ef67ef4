import { Pid, Ref, Tuple, atom, atoms, termEquals, termKey, type Atom, type Term } from '@courier/term';
import { UsageError } from '../errors.js';
import { ExitCall, ProcessGone, asError, isNormal, isShutdown, reasonFromThrow, reasonText } from './exit-reason.js';
import { GEN_CALL, GEN_CAST, answersThroughReplyTo, replyTo, systemTerminate, type From } from './gen-call.js';
import { StartError, showTerm, type ServerStatus } from './gen-server.js';
import { refKey } from './keys.js';
import { TIMEOUT } from './mailbox.js';
import type { Node } from './node.js';
import type { Process } from './process.js';

/**
 * gen_statem in TypeScript (OTP 25's gen_statem.erl semantics), wire-compatible with Erlang's:
 * `gen_statem:call(Ref, Req)` sends the same `{'$gen_call', From, Req}` as gen_server, a cast is
 * `{'$gen_cast', Msg}`, so `call`/`cast` of gen-server.ts reach a state machine, and an `erl`
 * process can `gen_statem:call` a Courier one.
 *
 * Both callback modes: `state_functions` (the state is an atom naming a function of `states`)
 * and `handle_event_function` (one `handleEvent` for any state term). Postponing (postponed events
 * are retried after the next state change, oldest first), state enter calls, next_event (inserted
 * before queued events, in order), event timeouts (cancelled by any event), state timeouts
 * (cancelled by a state change) and generic named timeouts (cancelled only explicitly).
 */
export type StatemEvent =
  | { readonly type: 'call'; readonly from: From }
  | { readonly type: 'cast' | 'info' | 'internal' | 'enter' | 'timeout' | 'state_timeout' }
  | { readonly type: 'generic_timeout'; readonly name: Term };

/**
 * A timeout in milliseconds, or `'cancel'` to cancel a running one (OTP's `infinity` is the absence of a
 * timeout action).
 */
export type TimeoutMs = number | 'cancel';

/**
 * An action a state callback returns beside its transition: postpone, reply, next_event, the three kinds of
 * timeout, hibernate.
 */
export type StatemAction =
  | { readonly kind: 'postpone' }
  | { readonly kind: 'reply'; readonly from: From; readonly value: Term }
  | { readonly kind: 'next_event'; readonly event: StatemEvent; readonly content: Term }
  | { readonly kind: 'timeout'; readonly ms: TimeoutMs; readonly content: Term }
  | { readonly kind: 'state_timeout'; readonly ms: TimeoutMs; readonly content: Term }
  | { readonly kind: 'generic_timeout'; readonly name: Term; readonly ms: TimeoutMs; readonly content: Term }
  | { readonly kind: 'hibernate' };

/** `postpone`: retry this event after the next state change. */
export const postpone = (): StatemAction => ({ kind: 'postpone' });
/** `{reply, From, Value}`: answer a call as part of a transition. */
export const replyAction = (from: From, value: Term): StatemAction => ({ kind: 'reply', from, value });
/** `{next_event, Type, Content}`: 'internal' by default. */
export const nextEvent = (content: Term, type: 'internal' | 'cast' | 'info' = 'internal'): StatemAction => ({ kind: 'next_event', event: { type }, content });
/** `{timeout, T, Msg}`: an event timeout, cancelled by any event. */
export const eventTimeout = (ms: TimeoutMs, content: Term = atom('timeout')): StatemAction => ({ kind: 'timeout', ms, content });
/** `{state_timeout, T, Msg}`: cancelled by a state change; `'cancel'` cancels it. */
export const stateTimeout = (ms: TimeoutMs, content: Term = atom('timeout')): StatemAction => ({ kind: 'state_timeout', ms, content });
/** `{{timeout, Name}, T, Msg}`: lives until it fires, is set again, or is cancelled. */
export const genericTimeout = (name: Term, ms: TimeoutMs, content: Term = atom('timeout')): StatemAction => ({ kind: 'generic_timeout', name, ms, content });
/** Accepted for OTP parity; a no-op (see gen-server.ts's Action). */
export const hibernateAction = (): StatemAction => ({ kind: 'hibernate' });

const KEEP: unique symbol = Symbol('keep');
/**
 * A state callback's result that keeps the machine running: made by {@link nextState}, {@link keepState},
 * {@link repeatState} and their `…AndData` forms.
 */
export class Transition<D> {
  constructor(
    readonly kind: 'next_state' | 'keep_state' | 'repeat_state',
    readonly state: Term | typeof KEEP,
    readonly data: D | typeof KEEP,
    readonly actions: readonly StatemAction[],
  ) {}
}
/** A result that stops the machine: made by {@link stopStatem}. */
export class StatemStop<D> {
  constructor(
    readonly reason: Term,
    readonly data: D | typeof KEEP,
    readonly replies: readonly StatemAction[],
  ) {}
}
/** What a state callback returns: a {@link Transition} or a {@link StatemStop}. */
export type StatemResult<D> = Transition<D> | StatemStop<D>;

/** `{next_state, State, Data, Actions}`: move to `state` with `data`. */
export const nextState = <D>(state: Term, data: D, actions: readonly StatemAction[] = []): Transition<D> => new Transition('next_state', state, data, actions);
/** `{keep_state, Data, Actions}`: stay in the state with new `data`. */
export const keepState = <D>(data: D, actions: readonly StatemAction[] = []): Transition<D> => new Transition('keep_state', KEEP, data, actions);
/** `{keep_state_and_data, Actions}`: change nothing, perform `actions`. */
export const keepStateAndData = <D = never>(actions: readonly StatemAction[] = []): Transition<D> => new Transition<D>('keep_state', KEEP, KEEP, actions);
/** `{repeat_state, Data, Actions}`: stay in the state as if re-entering it (state enter calls run again). */
export const repeatState = <D>(data: D, actions: readonly StatemAction[] = []): Transition<D> => new Transition('repeat_state', KEEP, data, actions);
/** `{repeat_state_and_data, Actions}`: re-enter the state, keeping the data. */
export const repeatStateAndData = <D = never>(actions: readonly StatemAction[] = []): Transition<D> => new Transition<D>('repeat_state', KEEP, KEEP, actions);
/** `{stop, Reason, Data}` / `{stop_and_reply, Reason, Replies, Data}`. */
export const stopStatem = <D = never>(reason: Term, data?: D, replies: readonly StatemAction[] = []): StatemStop<D> =>
  new StatemStop<D>(reason, data === undefined ? KEEP : data, replies);

type Async<T> = T | Promise<T>;
/** One state's callback in `state_functions` mode: the event type, its content, the data. */
export type StateFunction<D> = (event: StatemEvent, content: Term, data: D, self: Process) => Async<StatemResult<D>>;

interface StatemBase<D, A> {
  /** `{ok, State, Data, Actions}`: `nextState(state, data, actions)`, or `stopStatem(reason)` to refuse to start. */
  init(self: Process, args: A): Async<Transition<D> | StatemStop<D>>;
  /** Call the state's callback with ('enter', OldState) on every state change (OTP's state_enter). */
  readonly stateEnter?: boolean;
  /** Runs once when the machine stops. */
  terminate?(reason: Term, state: Term, data: D, self: Process): Async<void>;
  /** Redact what the `gen_statem terminating` log shows (passwords, keys, big buffers). */
  formatStatus?(status: ServerStatus): ServerStatus;
}
/** A gen_statem in `state_functions` mode: one callback per state name. */
export interface StateFunctions<D, A = unknown> extends StatemBase<D, A> {
  readonly callbackMode: 'state_functions';
  readonly states: Readonly<Record<string, StateFunction<D>>>;
}
/** A gen_statem in `handle_event_function` mode: one callback for every state, which may be any term. */
export interface HandleEventFunction<D, A = unknown> extends StatemBase<D, A> {
  readonly callbackMode: 'handle_event_function';
  /** Handles one event in `state`: returns the transition and its actions. */
  handleEvent(event: StatemEvent, content: Term, state: Term, data: D, self: Process): Async<StatemResult<D>>;
}
/** A gen_statem's callbacks, in either callback mode; started by {@link startStatem}. */
export type GenStatem<D, A = unknown> = StateFunctions<D, A> | HandleEventFunction<D, A>;

/** A timer message: `{'$courier_statem_timeout', Token}`; a token no longer current is stale and dropped. */
const TIMER_MSG = atom('$courier_statem_timeout');

interface Queued {
  readonly event: StatemEvent;
  readonly content: Term;
}

/** Start a state machine and wait until its init has returned (gen_statem:start/start_link). */
export function startStatem<D, A>(node: Node, impl: GenStatem<D, A>, args: A, opts: { name?: Atom; linkTo?: Process; trapExit?: boolean } = {}): Promise<Pid> {
  return new Promise((resolve, reject) => {
    node.spawn(
      async (self) => {
        let r: Transition<D> | StatemStop<D>;
        try {
          r = await impl.init(self, args);
        } catch (e) {
          reject(e instanceof ExitCall ? new StartError(e.reason, e) : asError(e, 'the init of the state machine failed'));
          throw e;
        }
        if (r instanceof StatemStop) {
          reject(new StartError(r.reason));
          throw new ExitCall(r.reason);
        }
        if (r.state === KEEP || r.data === KEEP) {
          const e = new UsageError('BAD_INIT', 'a state machine init returns nextState(state, data, actions)');
          reject(e);
          throw e;
        }
        resolve(self.pid);
        answersThroughReplyTo(self);
        await new StatemLoop(self, impl, r.state, r.data, opts.linkTo?.pid).run(r.actions);
      },
      { name: opts.name, linkTo: opts.linkTo, trapExit: opts.trapExit ?? false },
    );
  });
}

class StatemLoop<D, A> {
  private readonly queue: Queued[] = [];
  private postponed: Queued[] = [];
  private eventTimer: { ms: number; content: Term } | undefined;
  /** Timers by key: 'state', or 'g:' + the name's term key. */
  private readonly timers = new Map<string, { token: Ref; timer: Ref; event: StatemEvent; content: Term }>();
  private lastMessage: Term = undefined;

  constructor(
    private readonly self: Process,
    private readonly impl: GenStatem<D, A>,
    private state: Term,
    private data: D,
    private readonly parent: Pid | undefined,
  ) {}

  async run(initActions: readonly StatemAction[]): Promise<void> {
    // The initial state gets an enter call with itself as the old state, as OTP does.
    await this.apply(new Transition('next_state', this.state, this.data, initActions), undefined, false, true);
    for (;;) {
      const e = await this.nextEvent();
      if (e === undefined) continue;
      this.lastMessage = e.content;
      const r = await this.callback(e.event, e.content);
      await this.apply(r, e, false, false);
    }
  }

  private async nextEvent(): Promise<Queued | undefined> {
    const queued = this.queue.shift();
    if (queued !== undefined) {
      this.eventTimer = undefined;
      return queued;
    }
    const t = this.eventTimer;
    this.eventTimer = undefined;
    const msg = t === undefined ? await this.self.receive() : await this.self.receive(undefined, t.ms);
    if (msg === TIMEOUT) return { event: { type: 'timeout' }, content: (t as { content: Term }).content };
    return this.fromMessage(msg);
  }

  private async fromMessage(msg: Term): Promise<Queued | undefined> {
    if (msg instanceof Tuple) {
      const el = msg.elements;
      if (el.length === 3 && el[0] === GEN_CALL && el[1] instanceof Tuple) return { event: { type: 'call', from: el[1] }, content: el[2] };
      if (el.length === 2 && el[0] === GEN_CAST) return { event: { type: 'cast' }, content: el[1] };
      if (el.length === 2 && el[0] === TIMER_MSG && el[1] instanceof Ref) {
        const key = refKey(el[1]);
        for (const [k, v] of this.timers) {
          if (refKey(v.token) === key) {
            this.timers.delete(k);
            return { event: v.event, content: v.content };
          }
        }
        return undefined; // stale: cancelled or replaced after it was sent
      }
      const sysStop = systemTerminate(this.self, msg);
      if (sysStop !== undefined) {
        this.lastMessage = msg;
        await this.terminate(sysStop);
      }
      if (el.length === 3 && el[0] === atoms.EXIT && this.parent !== undefined && this.self.trapExit && el[1] instanceof Pid && termEquals(el[1], this.parent)) {
        this.lastMessage = msg;
        await this.terminate(el[2]);
      }
    }
    return { event: { type: 'info' }, content: msg };
  }

  private callback(event: StatemEvent, content: Term): Promise<StatemResult<D>> {
    const { impl, self } = this;
    return this.guard(() => {
      if (impl.callbackMode === 'handle_event_function') return impl.handleEvent(event, content, this.state, this.data, self);
      const name = typeof this.state === 'object' && this.state !== null && 'name' in this.state ? (this.state as Atom).name : undefined;
      const f = name === undefined ? undefined : impl.states[name];
      if (f === undefined) throw new UsageError('NO_STATE_FUNCTION', `the state machine is in state ${reasonText(this.state)} but has no function for it in states`);
      return f(event, content, this.data, self);
    });
  }

  /** Carry out a callback's result: replies, postpone, next events, timeouts, the state change, the enter call. */
  private async apply(r: StatemResult<D>, current: Queued | undefined, isEnter: boolean, isInit: boolean): Promise<void> {
    if (r instanceof StatemStop) {
      if (r.data !== KEEP) this.data = r.data;
      for (const a of r.replies) if (a.kind === 'reply') replyTo(this.self, a.from, a.value);
      await this.terminate(r.reason);
    }
    const t = r as Transition<D>;
    const old = this.state;
    const next = t.state === KEEP ? old : t.state;
    if (isEnter && t.kind === 'next_state' && !termEquals(next, old)) {
      return this.fail(new Tuple([atom('bad_state_enter_return_from_state_function'), reasonText(next)]));
    }
    if (t.data !== KEEP) this.data = t.data;
    const nextEvents: Queued[] = [];
    let postponeIt = false;
    for (const a of t.actions) {
      if (isEnter && (a.kind === 'postpone' || a.kind === 'next_event')) {
        return this.fail(new Tuple([atom('bad_state_enter_action_from_state_function'), atom(a.kind)]));
      }
      if (a.kind === 'reply') replyTo(this.self, a.from, a.value);
      else if (a.kind === 'postpone') postponeIt = true;
      else if (a.kind === 'next_event') nextEvents.push({ event: a.event, content: a.content });
    }
    if (postponeIt && current !== undefined) this.postponed.push(current);
    const changed = isInit || !termEquals(next, old);
    this.state = next;
    if (changed && !isInit) {
      this.cancel('state');
      this.queue.unshift(...this.postponed);
      this.postponed = [];
    }
    this.queue.unshift(...nextEvents);
    for (const a of t.actions) this.setTimeout(a);
    if (this.impl.stateEnter === true && (changed || t.kind === 'repeat_state')) {
      const er = await this.callback({ type: 'enter' }, old);
      await this.apply(er, undefined, true, false);
    }
  }

  private setTimeout(a: StatemAction): void {
    if (a.kind === 'timeout') {
      this.eventTimer = a.ms === 'cancel' || a.ms === Infinity ? undefined : { ms: Math.max(0, a.ms), content: a.content };
      return;
    }
    if (a.kind !== 'state_timeout' && a.kind !== 'generic_timeout') return;
    const key = a.kind === 'state_timeout' ? 'state' : `g:${termKey(a.name)}`;
    this.cancel(key);
    if (a.ms === 'cancel' || a.ms === Infinity) return;
    const token = this.self.node.makeRef();
    const timer = this.self.sendAfter(Math.max(0, a.ms), this.self.pid, new Tuple([TIMER_MSG, token]));
    const event: StatemEvent = a.kind === 'state_timeout' ? { type: 'state_timeout' } : { type: 'generic_timeout', name: a.name };
    this.timers.set(key, { token, timer, event, content: a.content });
  }

  private cancel(key: string): void {
    const t = this.timers.get(key);
    if (t === undefined) return;
    this.timers.delete(key);
    this.self.cancelTimer(t.timer);
  }

  private async guard(f: () => Async<StatemResult<D>>): Promise<StatemResult<D>> {
    try {
      return await f();
    } catch (e) {
      if (!this.self.alive || e instanceof ProcessGone) throw e;
      await this.terminateHook(reasonFromThrow(e));
      throw e;
    }
  }

  private async fail(reason: Term): Promise<never> {
    await this.terminateHook(reason);
    throw new ExitCall(reason);
  }

  private async terminate(reason: Term): Promise<never> {
    await this.terminateHook(reason);
    throw new ExitCall(reason);
  }

  private async terminateHook(reason: Term): Promise<void> {
    for (const t of this.timers.values()) this.self.cancelTimer(t.timer);
    this.timers.clear();
    let why = reason;
    if (this.impl.terminate) {
      try {
        await this.impl.terminate(reason, this.state, this.data, this.self);
      } catch (e) {
        if (!this.self.alive || e instanceof ProcessGone) throw e;
        why = reasonFromThrow(e);
      }
    }
    if (!isNormal(why) && !isShutdown(why)) this.crashLog(why);
  }

  private crashLog(reason: Term): void {
    let status: ServerStatus = { state: { state: this.state, data: this.data }, message: this.lastMessage, reason };
    if (this.impl.formatStatus) {
      try {
        status = this.impl.formatStatus(status);
      } catch (e) {
        status = { state: 'formatStatus failed', reason: reasonText(reasonFromThrow(e)) };
      }
    }
    const text = (t: unknown): string | undefined => (t === undefined ? undefined : showTerm(t));
    this.self.node.log.error(
      { statem: this.self.pid.toString(), name: this.self.name?.name, lastMessage: text(status.message), state: text(status.state), reason: text(status.reason) },
      'gen_statem terminating',
    );
  }
}
