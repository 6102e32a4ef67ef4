import { EncodeError, Encoder, type Atom, type Term } from '@courier/term';
import { UsageError } from '../errors.js';

let checker = new Encoder();

/**
 * Throws UsageError BADARG when `msg` has no Erlang form: used for what waits in a connection's
 * queue while it is set up, so a bad term is refused at the caller's `send`, never later. (Once a
 * connection is up its session does the same check as it encodes.)
 */
export function checkEncodable(msg: Term, peer: Atom): void {
  try {
    checker.writeTerm(msg);
  } catch (err) {
    if (!(err instanceof EncodeError || err instanceof RangeError)) throw err;
    throw new UsageError(
      'BADARG',
      `cannot send this message to ${peer.name} (badarg): ${err.message}. Send terms with an Erlang form (no functions, Dates, Symbols, NaN or cycles)`,
      { cause: err },
    );
  } finally {
    checker.reset();
    // Keep no large buffer for the rare check.
    if (checker.capacity > 64 * 1024) checker = new Encoder();
  }
}
