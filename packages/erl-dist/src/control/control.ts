import { Atom, Pid, Ref, Tuple, atom, atoms, listItems, type Term } from '@courier/term';
import type { DistOp } from '@courier/core';
import { BadControlError, ControlOp as Op, UnknownControlError } from './control-op.js';

export { BadControlError, ControlErrorCode, ControlOp, UnknownControlError } from './control-op.js';

/**
 * DistOp ⇄ Erlang distribution control messages (erl_dist_protocol.md, "Protocol between
 * connected nodes"). A frame carries the control tuple and, for some operations, a payload term
 * after it (the message, an exit reason, spawn arguments). This module is bearer-neutral: the
 * Erlang TCP/TLS session and the in-memory session both frame what it produces.
 */

/** What the peer accepts, from the negotiated distribution flags. */
export interface ControlOptions {
  /** The peer advertised DFLAG_EXIT_PAYLOAD: exit reasons travel as payload (ops 24, 26, 28). */
  readonly payloadExits: boolean;
  /** The peer advertised DFLAG_SEND_SENDER: sends carry the sender (op 22 instead of 2). */
  readonly sendSender: boolean;
}

/** A control tuple and the payload term that follows it, when the operation has one. */
export interface ControlMessage {
  readonly control: Tuple;
  /** Present exactly for the operations that carry a payload; never `undefined` then. */
  readonly payload?: Term;
}

/** The `Unused` slot of SEND and REG_SEND (once the cookie): the empty atom, as OTP sends it. */
const UNUSED = atoms.empty;
const MAX_UNLINK_ID = (1n << 64n) - 1n;

const t = (...elements: Term[]): Tuple => new Tuple(elements);
/** JS `undefined`/`null` encode as the atom `undefined`; make it explicit so a payload is never undefined. */
const term = (x: Term): Term => (x === undefined || x === null ? atoms.undefined : x);
/** Unlink ids are bigints locally; small ones go out as plain integers (the encoder picks the tag). */
const wireId = (id: bigint): Term => (id <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(id) : id);

/** The control message (and payload) for `op`, as the peer described by `opts` expects it. */
export function encodeControl(op: DistOp, opts: ControlOptions): ControlMessage {
  switch (op.op) {
    case 'send':
      if (opts.sendSender && op.from !== undefined) return { control: t(Op.SEND_SENDER, op.from, op.to), payload: term(op.msg) };
      return { control: t(Op.SEND, UNUSED, op.to), payload: term(op.msg) };
    case 'reg_send':
      return { control: t(Op.REG_SEND, op.from, UNUSED, op.to), payload: term(op.msg) };
    case 'port_send':
      return { control: t(Op.REG_SEND, op.from, UNUSED, atom(op.to)), payload: term(op.msg) };
    case 'alias_send':
      return { control: t(Op.ALIAS_SEND, op.from, op.alias), payload: term(op.msg) };
    case 'link':
      return { control: t(Op.LINK, op.from, op.to) };
    case 'unlink_id':
      return { control: t(Op.UNLINK_ID, wireId(op.id), op.from, op.to) };
    case 'unlink_id_ack':
      return { control: t(Op.UNLINK_ID_ACK, wireId(op.id), op.from, op.to) };
    case 'exit':
      if (opts.payloadExits) return { control: t(Op.PAYLOAD_EXIT, op.from, op.to), payload: term(op.reason) };
      return { control: t(Op.EXIT, op.from, op.to, term(op.reason)) };
    case 'exit2':
      if (opts.payloadExits) return { control: t(Op.PAYLOAD_EXIT2, op.from, op.to), payload: term(op.reason) };
      return { control: t(Op.EXIT2, op.from, op.to, term(op.reason)) };
    case 'monitor_p':
      return { control: t(Op.MONITOR_P, op.from, op.to, op.ref) };
    case 'demonitor_p':
      return { control: t(Op.DEMONITOR_P, op.from, op.to, op.ref) };
    case 'monitor_p_exit':
      if (opts.payloadExits) return { control: t(Op.PAYLOAD_MONITOR_P_EXIT, op.from, op.to, op.ref), payload: term(op.reason) };
      return { control: t(Op.MONITOR_P_EXIT, op.from, op.to, op.ref, term(op.reason)) };
    case 'spawn_request': {
      const mfa = t(op.module, op.fun, op.args.length);
      return { control: t(Op.SPAWN_REQUEST, op.reqId, op.from, op.groupLeader, mfa, op.opts), payload: op.args };
    }
    case 'spawn_reply':
      return { control: t(Op.SPAWN_REPLY, op.reqId, op.to, op.flags, term(op.result)) };
    case 'group_leader':
      return { control: t(Op.GROUP_LEADER, op.from, op.to) };
  }
}

/**
 * The operation a received control message (and payload, `undefined` when the frame had none)
 * stands for. The `_TT` variants lose their trace token. Throws {@link BadControlError} (code
 * `BAD_CONTROL`) for a malformed message and {@link UnknownControlError} (code `UNKNOWN_CONTROL`)
 * for an operation number Courier does not handle.
 */
export function decodeControl(control: Term, payload: Term | undefined): DistOp {
  if (!(control instanceof Tuple) || control.elements.length === 0) {
    throw new BadControlError('the control message is not a non-empty tuple');
  }
  const e = control.elements;
  const n = e[0];
  if (typeof n === 'bigint') throw new UnknownControlError(Number(n));
  if (typeof n !== 'number' || !Number.isInteger(n)) throw new BadControlError('the control message does not start with an operation number');
  switch (n) {
    case Op.LINK:
      return noPayload(n, e, 3, payload, { op: 'link', from: pid(e, 1), to: pid(e, 2) });
    case Op.GROUP_LEADER:
      return noPayload(n, e, 3, payload, { op: 'group_leader', from: pid(e, 1), to: pid(e, 2) });
    case Op.SEND: // {2, Unused, ToPid}
    case Op.SEND_TT: // {12, Unused, ToPid, TraceToken}
      return withPayload(n, e, n === Op.SEND ? 3 : 4, payload, (msg) => ({ op: 'send', to: pid(e, 2), msg }));
    case Op.SEND_SENDER: // {22, FromPid, ToPid}
    case Op.SEND_SENDER_TT: // {23, FromPid, ToPid, TraceToken}
      return withPayload(n, e, n === Op.SEND_SENDER ? 3 : 4, payload, (msg) => ({ op: 'send', from: pid(e, 1), to: pid(e, 2), msg }));
    case Op.REG_SEND: // {6, FromPid, Unused, ToName}
    case Op.REG_SEND_TT: // {16, FromPid, Unused, ToName, TraceToken}
      return withPayload(n, e, n === Op.REG_SEND ? 4 : 5, payload, (msg) => ({ op: 'reg_send', from: pid(e, 1), to: name(e, 3), msg }));
    case Op.ALIAS_SEND: // {33, FromPid, Alias}
    case Op.ALIAS_SEND_TT: // {34, FromPid, Alias, TraceToken}
      return withPayload(n, e, n === Op.ALIAS_SEND ? 3 : 4, payload, (msg) => ({ op: 'alias_send', from: pid(e, 1), alias: ref(e, 2), msg }));
    case Op.EXIT: // {3, FromPid, ToPid, Reason}
    case Op.EXIT2: // {8, FromPid, ToPid, Reason}
      return noPayload(n, e, 4, payload, { op: n === Op.EXIT ? 'exit' : 'exit2', from: pid(e, 1), to: pid(e, 2), reason: e[3] });
    case Op.EXIT_TT: // {13, FromPid, ToPid, TraceToken, Reason}
    case Op.EXIT2_TT: // {18, FromPid, ToPid, TraceToken, Reason}
      return noPayload(n, e, 5, payload, { op: n === Op.EXIT_TT ? 'exit' : 'exit2', from: pid(e, 1), to: pid(e, 2), reason: e[4] });
    case Op.PAYLOAD_EXIT: // {24, FromPid, ToPid} + Reason
    case Op.PAYLOAD_EXIT2: // {26, FromPid, ToPid} + Reason
    case Op.PAYLOAD_EXIT_TT: // {25, FromPid, ToPid, TraceToken} + Reason
    case Op.PAYLOAD_EXIT2_TT: {
      // {27, FromPid, ToPid, TraceToken} + Reason
      const plain = n === Op.PAYLOAD_EXIT || n === Op.PAYLOAD_EXIT2;
      const kind = n === Op.PAYLOAD_EXIT || n === Op.PAYLOAD_EXIT_TT ? 'exit' : 'exit2';
      return withPayload(n, e, plain ? 3 : 4, payload, (reason) => ({ op: kind, from: pid(e, 1), to: pid(e, 2), reason }));
    }
    case Op.MONITOR_P: // {19, FromPid, ToProc, Ref}
    case Op.DEMONITOR_P: // {20, FromPid, ToProc, Ref}
      return noPayload(n, e, 4, payload, { op: n === Op.MONITOR_P ? 'monitor_p' : 'demonitor_p', from: pid(e, 1), to: proc(e, 2), ref: ref(e, 3) });
    case Op.MONITOR_P_EXIT: // {21, FromProc, ToPid, Ref, Reason}
      return noPayload(n, e, 5, payload, { op: 'monitor_p_exit', from: proc(e, 1), to: pid(e, 2), ref: ref(e, 3), reason: e[4] });
    case Op.PAYLOAD_MONITOR_P_EXIT: // {28, FromProc, ToPid, Ref} + Reason
      return withPayload(n, e, 4, payload, (reason) => ({ op: 'monitor_p_exit', from: proc(e, 1), to: pid(e, 2), ref: ref(e, 3), reason }));
    case Op.SPAWN_REQUEST: // {29, ReqId, From, GroupLeader, {M, F, Arity}, OptList} + ArgList
    case Op.SPAWN_REQUEST_TT: // {30, ReqId, From, GroupLeader, {M, F, Arity}, OptList, Token} + ArgList
      return withPayload(n, e, n === Op.SPAWN_REQUEST ? 6 : 7, payload, (args) => spawnRequest(e, args));
    case Op.SPAWN_REPLY: // {31, ReqId, To, Flags, Result}
    case Op.SPAWN_REPLY_TT: // {32, ReqId, To, Flags, Result, Token}
      return noPayload(n, e, n === Op.SPAWN_REPLY ? 5 : 6, payload, {
        op: 'spawn_reply',
        reqId: ref(e, 1),
        to: pid(e, 2),
        flags: smallInt(e, 3, 0xffff_ffff, 'Flags'),
        result: e[4],
      });
    case Op.UNLINK_ID: // {35, Id, FromPid, ToPid}
    case Op.UNLINK_ID_ACK: // {36, Id, FromPid, ToPid}
      return noPayload(n, e, 4, payload, { op: n === Op.UNLINK_ID ? 'unlink_id' : 'unlink_id_ack', id: unlinkId(e[1]), from: pid(e, 2), to: pid(e, 3) });
    default:
      throw new UnknownControlError(n);
  }
}

function spawnRequest(e: Term[], argsTerm: Term): DistOp {
  const mfa = e[4];
  if (!(mfa instanceof Tuple) || mfa.elements.length !== 3) throw new BadControlError('SPAWN_REQUEST: {M, F, Arity} is not a 3-tuple');
  const m = mfa.elements;
  const arity = smallInt(m, 2, 255, 'Arity');
  const args = properList(argsTerm);
  if (args === undefined) throw new BadControlError('SPAWN_REQUEST: the argument list is not a proper list');
  if (args.length !== arity) throw new BadControlError(`SPAWN_REQUEST: ${args.length} arguments for arity ${arity}`);
  const opts = properList(e[5]);
  if (opts === undefined) throw new BadControlError('SPAWN_REQUEST: the option list is not a proper list');
  return {
    op: 'spawn_request',
    reqId: ref(e, 1),
    from: pid(e, 2),
    groupLeader: pid(e, 3),
    module: name(m, 0),
    fun: name(m, 1),
    args,
    opts,
  };
}

function arity(n: number, e: Term[], want: number): void {
  if (e.length !== want) throw new BadControlError(`control operation ${n} has ${e.length} elements, not ${want}`);
}

function noPayload(n: number, e: Term[], want: number, payload: Term | undefined, op: DistOp): DistOp {
  arity(n, e, want);
  if (payload !== undefined) throw new BadControlError(`control operation ${n} takes no payload`);
  return op;
}

function withPayload(n: number, e: Term[], want: number, payload: Term | undefined, build: (p: Term) => DistOp): DistOp {
  arity(n, e, want);
  if (payload === undefined) throw new BadControlError(`control operation ${n} needs a payload`);
  return build(payload);
}

function pid(e: Term[], i: number): Pid {
  const v = e[i];
  if (v instanceof Pid) return v;
  throw new BadControlError(`element ${i} of the control message is not a pid`);
}

function ref(e: Term[], i: number): Ref {
  const v = e[i];
  if (v instanceof Ref) return v;
  throw new BadControlError(`element ${i} of the control message is not a reference`);
}

/** An atom in a name position; the decoder turns `true`/`false` into booleans, turn them back. */
function name(e: Term[], i: number): Atom {
  const v = e[i];
  if (v instanceof Atom) return v;
  if (typeof v === 'boolean') return v ? atoms.true : atoms.false;
  throw new BadControlError(`element ${i} of the control message is not an atom`);
}

/** A process: a pid, or a registered name (monitors by name). */
function proc(e: Term[], i: number): Pid | Atom {
  return e[i] instanceof Pid ? e[i] : name(e, i);
}

function smallInt(e: Term[], i: number, max: number, what: string): number {
  const v = e[i];
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= max) return v;
  throw new BadControlError(`${what} is not an integer in 0..${max}`);
}

function unlinkId(v: Term): bigint {
  const id = typeof v === 'bigint' ? v : typeof v === 'number' && Number.isInteger(v) ? BigInt(v) : undefined;
  if (id === undefined || id < 0n || id > MAX_UNLINK_ID) throw new BadControlError('the unlink id is not an integer in 0..2^64-1');
  return id;
}

/** A proper list; a STRING_EXT (how OTP sends a list of small integers) becomes its codes. */
const properList = listItems;

/** The control message as a readable op name, for logs: `SEND_SENDER (22)`. */
export function controlName(n: number): string {
  for (const [k, v] of Object.entries(Op)) if (v === n) return `${k} (${n})`;
  return `op ${n}`;
}
