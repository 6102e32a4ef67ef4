import { EncodeError, Tuple, atoms, type Atom, type Term } from '@courier/term';
import { UsageError, type DistOp, type Logger } from '@courier/core';

/** Erlang's dist_buf_busy_limit default: 1 MiB of output queued makes a connection busy. */
export const DEFAULT_BUSY_LIMIT = 1024 * 1024;

/**
 * Binaries from this size up are sent by reference (a chunk of their own in a writev) rather
 * than copied into the encoder's buffer; chosen by measurement (docs/performance.md).
 */
export const DEFAULT_SEND_BY_REFERENCE_MIN = 4 * 1024;

/** The reasons put in place of one that had no Erlang form: never replaced again. */
const substitutes = new WeakSet<Tuple>();

/**
 * What to do about an operation whose encoding threw (`err`): a message or a spawn request is
 * the caller's, refused at once with a UsageError BADARG (Erlang's badarg from `!`/`send/2`); an
 * exit or DOWN reason the runtime sends on its own (a link or monitor across the connection) is
 * replaced by `{error, <<"unencodable …">>}` so the signal still arrives: the returned operation
 * is sent instead. Anything else is dropped with a warn (undefined). Any error other than a
 * term without an Erlang form (an EncodeError, or a RangeError such as a too-long atom) is a
 * bug and is rethrown.
 */
export function refusal(op: DistOp, err: unknown, peer: Atom, log: Logger): DistOp | undefined {
  if (!(err instanceof EncodeError || err instanceof RangeError)) throw err;
  const why = err.message;
  switch (op.op) {
    case 'send':
    case 'reg_send':
    case 'alias_send':
    case 'port_send':
      throw new UsageError(
        'BADARG',
        `cannot send this message to ${peer.name} (badarg): ${why}. Send terms with an Erlang form: finite numbers, strings, binaries, atoms, arrays, Tuple, ErlMap, plain objects; no functions, Dates, Symbols or cycles`,
        { cause: err },
      );
    case 'spawn_request':
      throw new UsageError('BADARG', `cannot send the arguments of ${op.module.name}:${op.fun.name} to ${peer.name} (badarg): ${why}`, { cause: err });
    case 'exit':
    case 'exit2':
    case 'monitor_p_exit':
      if (!(op.reason instanceof Tuple && substitutes.has(op.reason))) {
        log.warn({ peer: peer.name, op: op.op, err: why }, 'exit reason has no Erlang form; sent as {error, <<"unencodable exit reason: …">>}');
        return { ...op, reason: substitute(`unencodable exit reason: ${why}`) };
      }
      break;
    default:
      break;
  }
  log.warn({ peer: peer.name, op: op.op, err: why }, 'cannot encode an outgoing operation; dropped');
  return undefined;
}

function substitute(text: string): Term {
  const bytes = typeof Buffer === 'function' ? Buffer.from(text) : new TextEncoder().encode(text);
  const t = new Tuple([atoms.error, bytes]);
  substitutes.add(t);
  return t;
}
