import { Atom, ImproperList, Pid, Ref, Tuple, atom, atoms, formatAtom, termEquals, type Term } from '@courier/term';
import { CallError, UsageError } from '../errors.js';
import type { Dest } from './dest.js';
import { reasonText } from './exit-reason.js';
import { refKey } from './keys.js';
import { TIMEOUT } from './mailbox.js';
import type { Node } from './node.js';
import { Process } from './process.js';

/**
 * The client side of the behaviours, what OTP keeps in gen.erl: call (tagged `[alias|Mref]`),
 * reply, cast, and stop through the `sys` protocol. gen_server and gen_statem share it: both
 * are called with `{'$gen_call', {From, Tag}, Request}` and answer `{Tag, Reply}`.
 */
export const GEN_CALL = atom('$gen_call');
/** The atom `'$gen_cast'`: a cast is `{'$gen_cast', Msg}`. */
export const GEN_CAST = atom('$gen_cast');
const ALIAS = atom('alias');

/** `{Pid, Tag}` of a call, to answer with {@link replyTo}. */
export type From = Tuple;

const SYSTEM = atom('system');
const TERMINATE = atom('terminate');

/**
 * `{system, From, {terminate, Reason}}`, what sys:terminate/proc_lib:stop (gen_server:stop,
 * gen_statem:stop) send: the Reason to terminate with, else undefined. Other system messages
 * (sys:get_state, suspend, …) are not understood and go to handleInfo.
 */
export function systemTerminate(self: Process, msg: Term | typeof TIMEOUT): Term | undefined {
  if (!(msg instanceof Tuple) || msg.elements.length !== 3 || msg.elements[0] !== SYSTEM || !(msg.elements[1] instanceof Tuple)) return undefined;
  const req = msg.elements[2];
  if (!(req instanceof Tuple) || req.elements.length !== 2 || req.elements[0] !== TERMINATE) return undefined;
  // sys:handle_system_msg answers `ok` first, then terminates.
  replyTo(self, msg.elements[1], atoms.ok);
  return req.elements[1];
}

/**
 * gen_server:stop/3 (and gen_statem:stop/3): ask `server` to terminate with `reason` (its
 * terminate callback runs) and wait until it has. Throws CallError NOPROC when there is no such
 * process, TIMEOUT, or EXIT when it ended with another reason.
 */
export async function stopServer(caller: Caller, server: Dest, reason: Term = atoms.normal, timeoutMs = Infinity): Promise<void> {
  if (!(caller instanceof Process)) return asCaller(caller, (self) => stopServer(self, server, reason, timeoutMs));
  const self = caller;
  const mref = self.monitor(server as Pid);
  try {
    self.send(server, new Tuple([SYSTEM, new Tuple([self.pid, mref]), new Tuple([TERMINATE, reason])]));
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
  }
  const down = await self.receiveRef(mref, (m) => m instanceof Tuple && m.elements.length === 5 && m.elements[0] === atoms.DOWN && m.elements[1] === mref, timeoutMs);
  if (down === TIMEOUT) {
    self.demonitor(mref, { flush: true });
    throw new CallError('TIMEOUT', `${destText(server)} did not stop within ${timeoutMs} ms`);
  }
  // The server answered `ok` before it terminated, as sys does.
  self.tryReceive((m) => m instanceof Tuple && m.elements.length === 2 && m.elements[0] === mref);
  const why = (down as Tuple).elements[4];
  if (why === atoms.noproc) throw new CallError('NOPROC', `no process ${destText(server)} to stop`, why);
  if (!termEquals(why, reason)) throw new CallError('EXIT', `${destText(server)} ended with ${reasonText(why)} instead`, why);
}

/**
 * Answer a call, now or later (gen_server:reply/2): a handler that returned `noreply` keeps
 * `from` and replies from any process, any time. OTP 24+ tags (`[alias|Ref]`) are answered to
 * the alias, so a caller that gave up never sees the reply.
 */
export function replyTo(self: Process | Node, from: From, value: Term): void {
  const [to, tag] = from.elements;
  let dest: Dest = to as Pid;
  if (tag instanceof ImproperList && tag.items.length === 1 && tag.items[0] === ALIAS && tag.tail instanceof Ref) {
    // A local call in progress: its caller, without resolving the alias (the same Ref object).
    const caller = callers.get(tag.tail);
    dest = caller !== undefined ? caller.pid : tag.tail;
  }
  try {
    self.send(dest, new Tuple([tag, value]));
  } catch (e) {
    // A reply to a caller that is gone is dropped, as erlang:send to a dead pid is.
    if (!(e instanceof UsageError)) throw e;
  }
}

// Module functions, not closures made per call: the matchers run for every message a caller gets.
function isCallRef(r: Term, mref: Ref, mkey: string): boolean {
  return r === mref || (r instanceof Ref && refKey(r) === mkey);
}

/** `{[alias|Mref], Reply}` */
function isCallReply(m: Term, tag: ImproperList, mref: Ref, mkey: string): boolean {
  if (!(m instanceof Tuple) || m.elements.length !== 2) return false;
  const t = m.elements[0];
  return t === tag || (t instanceof ImproperList && t.items.length === 1 && t.items[0] === ALIAS && isCallRef(t.tail, mref, mkey));
}

/** The reply, or `{'DOWN', Mref, _, _, _}`. */
function isCallAnswer(m: Term, tag: ImproperList, mref: Ref, mkey: string): boolean {
  if (!(m instanceof Tuple)) return false;
  const n = m.elements.length;
  return n === 2 ? isCallReply(m, tag, mref, mkey) : n === 5 && m.elements[0] === atoms.DOWN && isCallRef(m.elements[1], mref, mkey);
}

/** Processes running a ServerLoop (or a state machine): their replies go through replyTo. */
const replyingServers = new WeakSet<Process>();

/** Mark `p` as answering calls only through {@link replyTo} (gen_server and gen_statem loops). */
/** @internal */
export function answersThroughReplyTo(p: Process): void {
  replyingServers.add(p);
}

function localServer(self: Process, server: Dest): boolean {
  const node = self.node;
  const pid = server instanceof Pid ? server : server instanceof Atom ? node.whereis(server) : undefined;
  const p = pid === undefined ? undefined : node.lookup(pid);
  return p !== undefined && replyingServers.has(p);
}

/**
 * Who makes a call: a process, or a node — from outside any process (a script, a test, an HTTP
 * handler), a short-lived process is spawned on the node for the call, as ServerRef.call does.
 */
export type Caller = Process | Node;

/** Run `f` as the process `from`, or in a short-lived process of the node `from`. */
export function asCaller<T>(from: Caller, f: (self: Process) => Promise<T>): Promise<T> {
  if (from instanceof Process) return f(from);
  return new Promise((resolve, reject) => {
    from.spawn((self) => f(self).then(resolve, reject));
  });
}

/** Calls in progress on this JS realm, by their alias Ref object: local replies skip the alias lookup. */
const callers = new WeakMap<Ref, Process>();

/**
 * gen_server:call. Throws CallError: TIMEOUT after `timeoutMs`, NOPROC if the server is not
 * there, NOCONNECTION if its node cannot be reached, EXIT if it died during the call.
 *
 * The call is tagged `[alias|Alias]` (gen.erl, OTP 24+): the server answers to the alias, and the
 * alias is dropped when the call ends, so a reply after a timeout is discarded by the runtime
 * instead of waiting in the caller's mailbox. A reply that arrived with the timeout is returned.
 */
export async function call(caller: Caller, server: Dest, request: Term, timeoutMs = 5000): Promise<Term> {
  if (!(caller instanceof Process)) return asCaller(caller, (self) => call(self, server, request, timeoutMs));
  const self = caller;
  const mref = self.monitor(server as Pid);
  const mkey = refKey(mref);
  // The monitor reference is also the alias, as erlang:monitor(process, P, [{alias, demonitor}]) makes it.
  // A local server of this module answers through replyTo, which finds the caller in `callers`;
  // anyone else (a remote node, a hand-written local server) sends to the alias.
  const aliases = localServer(self, server) ? undefined : self.node.aliasTable;
  aliases?.set(mkey, self);
  const tag = new ImproperList([ALIAS], mref);
  callers.set(mref, self);
  try {
    self.send(server, new Tuple([GEN_CALL, new Tuple([self.pid, tag]), request]));
  } catch (e) {
    // An unregistered local name: the monitor already reported noproc.
    if (!(e instanceof UsageError)) throw e;
  }
  let msg: Term | typeof TIMEOUT;
  try {
    msg = await self.receiveRef(mref, (m) => isCallAnswer(m, tag, mref, mkey), timeoutMs);
  } finally {
    // unalias: a reply from now on is dropped by the runtime.
    if (aliases !== undefined && aliases.get(mkey) === self) aliases.delete(mkey);
    callers.delete(mref);
  }
  if (msg === TIMEOUT) {
    self.demonitor(mref, { flush: true });
    const late = self.tryReceive((m) => isCallReply(m, tag, mref, mkey));
    if (late !== TIMEOUT) return (late as Tuple).elements[1];
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
  throw new CallError('EXIT', `${destText(server)} exited during the call: ${reasonText(reason)}`, reason);
}

/** `server` as the errors of {@link call} show it: a `{ name, node }` object as the `{Name, Node}` it stands for. */
export function destText(d: Dest): string {
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
