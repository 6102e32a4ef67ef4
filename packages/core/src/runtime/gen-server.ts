import { Atom, ImproperList, Pid, Ref, Tuple, atom, atoms, formatAtom, type Term } from '@courier/term';
import { CallError, UsageError } from '../errors.js';
import type { Dest } from './dest.js';
import { refKey } from './keys.js';
import { ExitCall, asError, reasonFromThrow } from './exit-reason.js';
import { TIMEOUT } from './mailbox.js';
import type { Node } from './node.js';
import type { Process } from './process.js';

/**
 * A gen_server in TypeScript, wire-compatible with Erlang's: calls are
 * `{'$gen_call', {From, Tag}, Request}` answered by `{Tag, Reply}`, casts are
 * `{'$gen_cast', Msg}`. An Erlang node can `gen_server:call({Name, Node}, Req)` a Courier server
 * and a Courier process can `call` an Erlang one.
 */
const GEN_CALL = atom('$gen_call');
const GEN_CAST = atom('$gen_cast');
const ALIAS = atom('alias');

/** `{Pid, Tag}` of a call, to answer with {@link reply}. */
export type From = Tuple;

export class Reply<S> {
  constructor(
    readonly value: Term,
    readonly state: S,
  ) {}
}
export class NoReply<S> {
  constructor(readonly state: S) {}
}
export class Stop<S> {
  constructor(
    readonly reason: Term,
    readonly state: S,
    readonly reply?: Term,
  ) {}
}
export const reply = <S>(value: Term, state: S): Reply<S> => new Reply(value, state);
export const noreply = <S>(state: S): NoReply<S> => new NoReply(state);
export const stop = <S>(reason: Term, state: S, replyValue?: Term): Stop<S> => new Stop(reason, state, replyValue);

type Async<T> = T | Promise<T>;

export interface GenServer<S, A = unknown> {
  init(self: Process, args: A): Async<S>;
  handleCall?(request: Term, from: From, state: S, self: Process): Async<Reply<S> | NoReply<S> | Stop<S>>;
  handleCast?(msg: Term, state: S, self: Process): Async<NoReply<S> | Stop<S>>;
  handleInfo?(msg: Term, state: S, self: Process): Async<NoReply<S> | Stop<S>>;
  terminate?(reason: Term, state: S, self: Process): Async<void>;
}

export interface StartOptions {
  readonly name?: Atom;
  /** Link to this process (start_link). */
  readonly linkTo?: Process;
}

/** Start a server and wait until its `init` has returned (gen_server:start/start_link). */
export function startServer<S, A>(node: Node, impl: GenServer<S, A>, args: A, opts: StartOptions = {}): Promise<Pid> {
  return new Promise((resolve, reject) => {
    node.spawn(
      async (self) => {
        let state: S;
        try {
          state = await impl.init(self, args);
        } catch (e) {
          reject(asError(e, 'the init of the server failed'));
          throw e;
        }
        resolve(self.pid);
        await loop(self, impl, state);
      },
      { name: opts.name, linkTo: opts.linkTo, trapExit: false },
    );
  });
}

async function loop<S, A>(self: Process, impl: GenServer<S, A>, state: S): Promise<void> {
  for (;;) {
    const msg = await self.receive();
    let r: Reply<S> | NoReply<S> | Stop<S>;
    try {
      r = await dispatch(self, impl, msg, state);
    } catch (e) {
      const reason = reasonFromThrow(e);
      if (impl.terminate) await impl.terminate(reason, state, self);
      throw e;
    }
    state = r.state;
    if (r instanceof Stop) {
      if (r.reply !== undefined && isCall(msg)) reply0(self, (msg as Tuple).elements[1] as From, r.reply);
      if (impl.terminate) await impl.terminate(r.reason, state, self);
      throw new ExitCall(r.reason);
    }
  }
}

function isCall(msg: Term): boolean {
  return msg instanceof Tuple && msg.elements.length === 3 && msg.elements[0] === GEN_CALL;
}

async function dispatch<S, A>(self: Process, impl: GenServer<S, A>, msg: Term, state: S): Promise<Reply<S> | NoReply<S> | Stop<S>> {
  if (isCall(msg)) {
    const [, from, request] = (msg as Tuple).elements;
    if (!impl.handleCall) throw new Error(`no handleCall for ${String(request)}`);
    const r = await impl.handleCall(request, from as From, state, self);
    if (r instanceof Reply) reply0(self, from as From, r.value);
    return r;
  }
  if (msg instanceof Tuple && msg.elements.length === 2 && msg.elements[0] === GEN_CAST) {
    if (!impl.handleCast) return new NoReply(state);
    return impl.handleCast(msg.elements[1], state, self);
  }
  if (impl.handleInfo) return impl.handleInfo(msg, state, self);
  return new NoReply(state);
}

function reply0(self: Process, from: From, value: Term): void {
  const [to, tag] = from.elements;
  // OTP 24+ callers tag with [alias|Ref]: the reply goes to the alias.
  const dest: Dest = tag instanceof ImproperList && tag.items[0] === ALIAS && tag.tail instanceof Ref ? tag.tail : (to as Pid);
  self.send(dest, new Tuple([tag, value]));
}

/** Answer a call later (gen_server:reply/2). */
export function replyTo(self: Process, from: From, value: Term): void {
  reply0(self, from, value);
}

/**
 * gen_server:call. Throws CallError: TIMEOUT after `timeoutMs`, NOPROC if the server is not
 * there, NOCONNECTION if its node cannot be reached, EXIT if it died during the call.
 */
export async function call(self: Process, server: Dest, request: Term, timeoutMs = 5000): Promise<Term> {
  const mref = self.monitor(server as Pid);
  const key = refKey(mref);
  const isRef = (t: Term | undefined): boolean => t === mref || (t instanceof Ref && refKey(t) === key);
  try {
    self.send(server, new Tuple([GEN_CALL, new Tuple([self.pid, mref]), request]));
  } catch (e) {
    // An unregistered local name: the monitor already reported noproc.
    if (!(e instanceof UsageError)) throw e;
  }
  const msg = await self.receive(
    (m) => m instanceof Tuple && ((m.elements.length === 2 && isRef(m.elements[0])) || (m.elements.length === 5 && m.elements[0] === atoms.DOWN && isRef(m.elements[1]))),
    timeoutMs,
  );
  if (msg === TIMEOUT) {
    self.demonitor(mref, { flush: true });
    throw new CallError('TIMEOUT', `call to ${destText(server)} timed out after ${timeoutMs} ms`);
  }
  const t = msg as Tuple;
  if (t.elements.length === 2) {
    self.demonitor(mref, { flush: true });
    return t.elements[1];
  }
  const reason = t.elements[4];
  if (reason === atoms.noproc) throw new CallError('NOPROC', `no process ${destText(server)} to call`, reason);
  if (reason === atoms.noconnection) throw new CallError('NOCONNECTION', `cannot reach the node of ${destText(server)}`, reason);
  throw new CallError('EXIT', `${destText(server)} exited during the call: ${String(reason)}`, reason);
}

/** `server` as the errors of {@link call} show it: a `{ name, node }` object as the `{Name, Node}` it stands for. */
function destText(d: Dest): string {
  if (typeof d === 'object' && !(d instanceof Pid || d instanceof Atom || d instanceof Ref || d instanceof Tuple)) {
    const text = (x: Atom | string): string => formatAtom(typeof x === 'string' ? x : x.name);
    return `{${text(d.name)},${text(d.node)}}`;
  }
  return String(d);
}

/** gen_server:cast: fire and forget. */
export function cast(self: Process | Node, server: Dest, msg: Term): void {
  try {
    self.send(server, new Tuple([GEN_CAST, msg]));
  } catch {
    // gen_server:cast never fails, even to an unregistered name.
  }
}
