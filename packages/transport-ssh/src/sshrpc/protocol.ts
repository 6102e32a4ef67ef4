import { Atom, Pid, Tuple, atom, listItems, type Term } from '@courier/term';
import type { Outcome } from '@courier/core';

/**
 * The sshrpc messages (subsystem `sshrpc@k2r.org`; every frame is `<<Len:32/big, Etf/binary>>`).
 *
 * | request                         | answer                                                    |
 * |---------------------------------|-----------------------------------------------------------|
 * | `{mfa, {M, F, A}}` (sshrpc code) | `{answer, {Result, 0}}` or `{answer, {{exec_badrpc \| exec_error, Why}, -1}}` |
 * | `{mfa, M, F, A}` (the slides)    | `{answer, Result}` or `{error, Reason}`                   |
 * | `{call, Id, M, F, A}`            | `{reply, Id, {answer, Result} \| {error, Reason}}`, in completion order |
 * | `{cast, M, F, A}`                | none                                                      |
 * | `{send, NameOrPid, Msg}`         | none                                                      |
 * | `{spawn, Id, M, F, A}`           | `{reply, Id, {pid, Pid} \| {error, Reason}}` (`system_limit`: too many live) |
 * | `{whoami}`                       | `{answer, [{user, <<User>>}, {node, Node}]}`              |
 * | anything else                    | `{error, {bad_request, Term}}`                            |
 *
 * `Reason` is `{not_allowed, {M, F, Arity}}`, `{badrpc, {Class, Why}}` (the function raised),
 * `{not_allowed, Dest}` (send), `bad_term` or `{frame_too_large, Len}` (the channel then closes).
 */
export const A = {
  mfa: atom('mfa'),
  call: atom('call'),
  cast: atom('cast'),
  send: atom('send'),
  spawn: atom('spawn'),
  whoami: atom('whoami'),
  answer: atom('answer'),
  reply: atom('reply'),
  error: atom('error'),
  pid: atom('pid'),
  user: atom('user'),
  node: atom('node'),
  execBadrpc: atom('exec_badrpc'),
  execError: atom('exec_error'),
  EXIT: atom('EXIT'),
  nocatch: atom('nocatch'),
  notAllowed: atom('not_allowed'),
  badrpc: atom('badrpc'),
  badRequest: atom('bad_request'),
  badTerm: atom('bad_term'),
  frameTooLarge: atom('frame_too_large'),
  systemLimit: atom('system_limit'),
  throw: atom('throw'),
  exit: atom('exit'),
} as const;

export interface Mfa {
  readonly module: Atom;
  readonly fun: Atom;
  readonly args: Term[];
}

/** An sshrpc request parsed: an mfa (tuple or flat form), a call, a cast, a spawn, a send, or whoami. */
export type Request =
  | ({ readonly kind: 'mfa'; readonly form: 'tuple' | 'flat' } & Mfa)
  | ({ readonly kind: 'call'; readonly id: Term } & Mfa)
  | ({ readonly kind: 'cast' } & Mfa)
  | ({ readonly kind: 'spawn'; readonly id: Term } & Mfa)
  | { readonly kind: 'send'; readonly to: Atom | Pid; readonly msg: Term }
  | { readonly kind: 'whoami' }
  /** Not understood; `form` when it was an `mfa` request of that shape with bad parts. */
  | { readonly kind: 'bad'; readonly term: Term; readonly form?: 'tuple' | 'flat' };

function mfa(m: Term, f: Term, a: Term): Mfa | undefined {
  const args = listItems(a);
  return m instanceof Atom && f instanceof Atom && args !== undefined ? { module: m, fun: f, args } : undefined;
}

/** Classify a decoded request term. */
export function parseRequest(t: Term): Request {
  if (!(t instanceof Tuple) || t.elements.length === 0) return { kind: 'bad', term: t };
  const e = t.elements;
  const tag = e[0];
  const n = e.length;
  if (tag === A.mfa && n === 2) {
    const inner = e[1];
    const x = inner instanceof Tuple && inner.elements.length === 3 ? mfa(inner.elements[0], inner.elements[1], inner.elements[2]) : undefined;
    return x ? { kind: 'mfa', form: 'tuple', ...x } : { kind: 'bad', term: t, form: 'tuple' };
  }
  if (tag === A.mfa && n === 4) {
    const x = mfa(e[1], e[2], e[3]);
    return x ? { kind: 'mfa', form: 'flat', ...x } : { kind: 'bad', term: t, form: 'flat' };
  }
  if ((tag === A.call || tag === A.spawn) && n === 5) {
    const x = mfa(e[2], e[3], e[4]);
    if (x) return { kind: tag === A.call ? 'call' : 'spawn', id: e[1], ...x };
  }
  if (tag === A.cast && n === 4) {
    const x = mfa(e[1], e[2], e[3]);
    if (x) return { kind: 'cast', ...x };
  }
  if (tag === A.send && n === 3 && (e[1] instanceof Atom || e[1] instanceof Pid)) return { kind: 'send', to: e[1], msg: e[2] };
  if (tag === A.whoami && n === 1) return { kind: 'whoami' };
  return { kind: 'bad', term: t };
}

const t = (...xs: Term[]): Tuple => new Tuple(xs);

export const notAllowed = (x: Mfa): Tuple => t(A.notAllowed, t(x.module, x.fun, x.args.length));

/** `{error, Reason}` for a refused or failed call in the slide and extension forms. */
export function errorReason(o: Outcome): Term {
  switch (o.kind) {
    case 'return':
      return o.value;
    case 'throw':
      return t(A.badrpc, t(A.throw, o.value));
    case 'exit':
      return t(A.badrpc, t(A.exit, o.reason));
    case 'error':
      return t(A.badrpc, t(A.error, o.reason));
  }
}

/** The answer to `{mfa, M, F, A}` and the body of `{reply, Id, _}`: `{answer, V}` or `{error, R}`. */
export function flatAnswer(o: Outcome | { kind: 'refused'; reason: Term }): Tuple {
  if (o.kind === 'return') return t(A.answer, o.value);
  return t(A.error, o.kind === 'refused' ? o.reason : errorReason(o));
}

/**
 * The answer to `{mfa, {M, F, A}}` in sshrpc's own shape: `{answer, {V, 0}}`, a crash as
 * `catch apply/3` shows it (`{'EXIT', {Reason, Stack}}` for errors, `{'EXIT', Reason}` for
 * exits, `{'EXIT', {{nocatch, V}, []}}` for throws) under `exec_badrpc`, and anything refused
 * before running under `exec_error`.
 */
export function tupleAnswer(o: Outcome | { kind: 'refused'; reason: Term }): Tuple {
  const fail = (why: Term): Tuple => t(A.answer, t(why, -1));
  switch (o.kind) {
    case 'return':
      return t(A.answer, t(o.value, 0));
    case 'refused':
      return fail(t(A.execError, o.reason));
    case 'error':
      return fail(t(A.execBadrpc, t(A.EXIT, t(o.reason, o.stack))));
    case 'exit':
      return fail(t(A.execBadrpc, t(A.EXIT, o.reason)));
    case 'throw':
      return fail(t(A.execBadrpc, t(A.EXIT, t(t(A.nocatch, o.value), []))));
  }
}

export const reply = (id: Term, body: Term): Tuple => t(A.reply, id, body);
export const badRequest = (term: Term): Tuple => t(A.error, t(A.badRequest, term));
