import { Tuple, atom, type Atom, type Pid, type Term } from '@courier/term';
import { ExitCall, asError, reasonFromThrow } from '../runtime/exit-reason.js';
import { GEN_CALL, GEN_CAST, replyTo, type From } from '../runtime/gen-server.js';
import type { Node } from '../runtime/node.js';
import type { Process } from '../runtime/process.js';
import { ServerRef, TypedProcess } from './actor.js';
import { Local, markTyped, unwrap } from './local.js';
import { valueToTerm } from './mapping.js';
import type { Checked, KeyEncoding, Value } from './value.js';

type Async<T> = T | Promise<T>;

/** A caller to answer later with `from.reply(value)` (gen_server:reply/2), after `{ noreply }`. */
export class TypedFrom<Reply> {
  /** @internal */
  constructor(
    private readonly self: Process,
    readonly from: From,
    private readonly local: boolean,
    private readonly keys: KeyEncoding,
  ) {}

  /** Answers the call now or later (a typed gen_server:reply). */
  reply(value: Reply): void {
    // A caller that sent its request unmapped (a typed process here) gets the reply the same way.
    replyTo(this.self, this.from, this.local ? (new Local(value) as unknown as Term) : valueToTerm(value, this.keys, 'the caller'));
  }
}

/**
 * What `handleCall` returns: `{ reply, state }` to answer now, or `{ noreply: true, state }` to answer later
 * through {@link TypedFrom.reply}.
 */
export type CallResult<Reply, S> = { readonly reply: Reply; readonly state: S } | { readonly noreply: true; readonly state: S };

/**
 * A gen_server with typed calls, casts and replies. Stop from any callback with
 * `self.exit(reason)`; a throw crashes the server (its callers get CallError EXIT), as in OTP.
 */
export interface TypedServer<Call, Reply, Cast, S, A = void> {
  /** The initial state from the start arguments; throw to refuse to start. */
  init(args: A, self: TypedProcess<never>): Async<S>;
  /** A typed call: answer with `{ reply, state }` or later. */
  handleCall?(req: Call, state: S, from: TypedFrom<Reply>, self: TypedProcess<never>): Async<CallResult<Reply, S>>;
  /** A typed cast: the new state. */
  handleCast?(msg: Cast, state: S, self: TypedProcess<never>): Async<S>;
  /** Any other message (timers, DOWN, EXIT when trapping), mapped as a typed value. */
  handleInfo?(msg: Value, state: S, self: TypedProcess<never>): Async<S>;
  /** Runs once when the server stops. */
  terminate?(reason: Term, state: S): Async<void>;
}

/**
 * Options of {@link startTypedServer}: a registered name, how plain objects travel (`keys`), a process to
 * link to, trapping exits.
 */
export interface StartTypedOptions {
  /** Register the server: Erlang can then `gen_server:call({Name, Node}, Req)` it. */
  readonly name?: Atom | string;
  readonly keys?: KeyEncoding;
  readonly linkTo?: Process | TypedProcess<never>;
  readonly trapExit?: boolean;
}

/** Start a typed server and wait for its `init` (gen_server:start/start_link). */
export function startTypedServer<Call, Reply, Cast, S, A = void>(
  on: Checked<Call, Checked<Cast, Checked<Reply, Node>>>,
  impl: TypedServer<Call, Reply, Cast, S, A>,
  args: A,
  opts: StartTypedOptions = {},
): Promise<ServerRef<Call, Reply, Cast, Pid>> {
  const node = on as Node;
  const keys = opts.keys ?? 'binary';
  const linkTo = opts.linkTo instanceof TypedProcess ? opts.linkTo.process : opts.linkTo;
  const name = typeof opts.name === 'string' ? atom(opts.name) : opts.name;
  return new Promise((resolve, reject) => {
    const pid = node.spawn(
      async (p) => {
        const self = new TypedProcess<never>(p, keys);
        let state: S;
        try {
          state = await impl.init(args, self);
        } catch (e) {
          reject(asError(e, 'the init of the typed server failed'));
          throw e;
        }
        resolve(new ServerRef<Call, Reply, Cast, Pid>(node, p.pid, { keys }));
        await serve(self, impl, state);
      },
      { name, linkTo, trapExit: opts.trapExit },
    );
    const p = node.lookup(pid);
    if (p !== undefined) markTyped(p);
  });
}

async function serve<Call, Reply, Cast, S, A>(self: TypedProcess<never>, impl: TypedServer<Call, Reply, Cast, S, A>, state: S): Promise<void> {
  const p = self.process;
  for (;;) {
    const msg = await p.receive();
    try {
      state = await handle(self, impl, msg, state);
    } catch (e) {
      if (impl.terminate) await impl.terminate(e instanceof ExitCall ? e.reason : reasonFromThrow(e), state);
      throw e;
    }
  }
}

async function handle<Call, Reply, Cast, S, A>(self: TypedProcess<never>, impl: TypedServer<Call, Reply, Cast, S, A>, msg: Term, state: S): Promise<S> {
  const keys = self.keys;
  if (msg instanceof Tuple && msg.elements.length === 3 && msg.elements[0] === GEN_CALL && msg.elements[1] instanceof Tuple) {
    const req = msg.elements[2];
    const from = new TypedFrom<Reply>(self.process, msg.elements[1], req instanceof Local, keys);
    if (!impl.handleCall) throw new Error(`the typed server has no handleCall for ${String(req)}`);
    const r = await impl.handleCall(unwrap(req, keys) as Call, state, from, self);
    if ('reply' in r) from.reply(r.reply);
    return r.state;
  }
  if (msg instanceof Tuple && msg.elements.length === 2 && msg.elements[0] === GEN_CAST) {
    return impl.handleCast ? impl.handleCast(unwrap(msg.elements[1], keys) as Cast, state, self) : state;
  }
  return impl.handleInfo ? impl.handleInfo(unwrap(msg, keys), state, self) : state;
}
