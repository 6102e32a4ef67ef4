import { Atom, Tuple, formatErlang, type Term } from '@courier/term';
import { SshRpcError } from '../errors.js';
import { A } from './protocol.js';

/** The result an sshrpc answer carries, or the SshRpcError it stands for. */
export type Settled = { readonly ok: true; readonly value: Term } | { readonly ok: false; readonly error: SshRpcError };

const el = (x: Term, i: number): Term => (x as Tuple).elements[i];
const isTuple = (x: Term, n: number, tag?: Atom): x is Tuple => x instanceof Tuple && x.elements.length === n && (tag === undefined || x.elements[0] === tag);

/** `{error, Reason}` → the typed error. */
export function errorOf(reason: Term): SshRpcError {
  const text = formatErlang(reason).slice(0, 500);
  if (isTuple(reason, 2, A.notAllowed)) return new SshRpcError('NOT_ALLOWED', `the server refused the request: ${text}`, reason);
  if (isTuple(reason, 2, A.badrpc)) return new SshRpcError('BADRPC', `the remote function raised: ${text}`, reason);
  if (isTuple(reason, 2, A.badRequest)) return new SshRpcError('BAD_REQUEST', `the server did not understand the request: ${text}`, reason);
  if (reason === A.badTerm) return new SshRpcError('BAD_TERM', 'the server could not decode our frame and closed the channel', reason);
  if (isTuple(reason, 2, A.frameTooLarge)) return new SshRpcError('FRAME_TOO_LARGE', `our frame was over the server's limit: ${text}`, reason);
  return new SshRpcError('REMOTE', `the server answered with an error: ${text}`, reason);
}

/** `{answer, V}` | `{error, R}`: the slide form's answer and the body of `{reply, Id, _}`. */
export function settleFlat(a: Term): Settled {
  if (isTuple(a, 2, A.answer)) return { ok: true, value: el(a, 1) };
  if (isTuple(a, 2, A.error)) return { ok: false, error: errorOf(el(a, 1)) };
  return { ok: false, error: new SshRpcError('BAD_ANSWER', `unexpected answer ${formatErlang(a).slice(0, 200)}`, a) };
}

/** `{answer, {V, 0}}` | `{answer, {{exec_badrpc | exec_error, Why}, -1}}`: sshrpc's code form. */
export function settleTuple(a: Term): Settled {
  if (isTuple(a, 2, A.answer) && isTuple(el(a, 1), 2)) {
    const [v, status] = (el(a, 1) as Tuple).elements as [Term, Term];
    if (status === 0) return { ok: true, value: v };
    if (status === -1 && isTuple(v, 2)) {
      const [kind, why] = v.elements as [Term, Term];
      const text = formatErlang(why).slice(0, 500);
      if (kind === A.execBadrpc) return { ok: false, error: new SshRpcError('BADRPC', `the remote function raised: ${text}`, why) };
      if (kind === A.execError && isTuple(why, 2, A.notAllowed)) return { ok: false, error: new SshRpcError('NOT_ALLOWED', `the server refused the request: ${text}`, why) };
      if (kind === A.execError) return { ok: false, error: new SshRpcError('EXEC_ERROR', `the server could not run the request: ${text}`, why) };
    }
  }
  return settleFlat(a);
}
