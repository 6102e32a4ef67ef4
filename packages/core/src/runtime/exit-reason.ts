import { Atom, Tuple, atom, atoms, formatErlang, type Term } from '@courier/term';

/**
 * Exit reasons are data. An exception thrown by a process body becomes an ExceptionReason:
 * on the wire it is the tuple `{error, <<"Name: message">>}`; locally it also keeps the Error
 * (with its stack) for logs.
 */
export class ExceptionReason extends Tuple {
  constructor(readonly error: unknown) {
    // A Buffer on Node (as before); plain UTF-8 bytes where there is none (a browser node).
    const text = describe(error);
    super([atoms.error, typeof Buffer === 'function' ? Buffer.from(text) : new TextEncoder().encode(text)]);
  }
}

function describe(e: unknown): string {
  if (e instanceof Error) return `${e.name}: ${e.message}`;
  return String(e);
}

/**
 * Thrown by `ctx.exit(reason)` to end the calling process with `reason`. An Error, so whatever
 * catches it has a message and a stack; the catch sites of the runtime (the process runner, gen_server,
 * exposed functions) test `instanceof ExitCall` first and take `reason` from it.
 */
export class ExitCall extends Error {
  constructor(readonly reason: Term) {
    super();
    this.name = 'ExitCall';
    // Formatted only when someone reads it: exiting stays cheap whatever the reason holds.
    Object.defineProperty(this, 'message', { get: () => `exit: ${reasonText(reason)}`, configurable: true, enumerable: false });
  }
}

/**
 * Thrown by process operations after the process has exited, and the rejection of what its body
 * was awaiting when an exit signal killed it (`reason`: the exit reason). Let it propagate: the
 * body's `finally` blocks run, and the process is already gone for everyone else.
 */
export class ProcessGone extends Error {
  constructor(readonly reason?: Term) {
    super(
      reason === undefined
        ? 'this process has exited; its body is still running after an exit signal killed it'
        : `this process has exited (${reasonText(reason)}); its body is still running after an exit signal killed it`,
    );
    this.name = 'ProcessGone';
  }
}

/** `e` when it is an Error, else an Error saying `what` failed, with `e` as its cause. */
export function asError(e: unknown, what: string): Error {
  return e instanceof Error ? e : new Error(`${what}: ${String(e)}`, { cause: e });
}

export function reasonFromThrow(e: unknown): Term {
  if (e instanceof ExitCall) return e.reason;
  return new ExceptionReason(e);
}

/** Whether an exit reason is `normal`. */
export function isNormal(reason: Term): boolean {
  return reason === atoms.normal;
}

/** `{shutdown, X}` and `shutdown` count as normal for transient children (OTP semantics). */
export function isShutdown(reason: Term): boolean {
  if (reason === atoms.shutdown) return true;
  return reason instanceof Tuple && reason.elements.length === 2 && reason.elements[0] === atoms.shutdown;
}

/**
 * An exit reason as one readable line for logs and errors: an exception's message, an atom's name, other
 * terms in Erlang syntax.
 */
export function reasonText(reason: Term): string {
  if (reason instanceof ExceptionReason) return describe(reason.error);
  if (reason instanceof Atom) return reason.name;
  // A plain object (a map with atom keys) has no Erlang toString of its own.
  if (isRecordTerm(reason)) return formatErlang(reason);
  return String(reason);
}

function isRecordTerm(t: Term): t is { readonly [key: string]: Term } {
  return typeof t === 'object' && t !== null && Object.getPrototypeOf(t) === Object.prototype;
}

export const shutdownWith = (x: Term): Tuple => new Tuple([atoms.shutdown, x]);
export const nodedownAtom = atom('nodedown');

/**
 * An Erlang exception raised from TypeScript: `erlang:error(Reason)`, `throw(Value)` or
 * `exit(Reason)` as seen by an Erlang caller of an exposed function (rpc, erpc).
 */
export class ErlangException extends Error {
  constructor(
    readonly kind: 'error' | 'throw' | 'exit',
    readonly reason: Term,
  ) {
    super(`${kind}: ${reasonText(reason)}`);
    this.name = 'ErlangException';
  }
}

/** erlang:error(Reason): the Erlang caller sees an error with this reason. */
export function erlError(reason: Term): never {
  throw new ErlangException('error', reason);
}

/** throw(Value): the Erlang caller sees a throw. */
export function erlThrow(value: Term): never {
  throw new ErlangException('throw', value);
}
