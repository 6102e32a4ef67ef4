import { CourierError, ProtocolError } from '../errors.js';
import type { Logger } from '../log.js';
import type { CarrierReceiver } from '../seams/carrier.js';

/**
 * The one guard around code that handles a peer's bytes: the connection pipeline puts it around
 * every handshake and session, and listeners outside the pipeline (the EPMD server, the observer,
 * sshrpc channels) around their own parsers. An exception thrown while handling one connection's
 * bytes — a parser's ProtocolError, or a bug a hostile input reaches — closes that connection with
 * a logged, typed error and touches nothing else: never the process, never another connection.
 */

/** What a fault is reported as: the ProtocolError it was, or one wrapping what was thrown. */
export function peerFault(err: unknown, what: string): CourierError {
  if (err instanceof CourierError) return err;
  const detail = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return new ProtocolError('PEER_INPUT_FAULT', `handling ${what} failed (${detail})`, -1, { cause: err });
}

/** Log a fault once: a peer's mistake at warn without a stack, our own failure at error with one. */
export function logFault(log: Logger, fault: CourierError, fields: Record<string, unknown>): void {
  const offset = fault instanceof ProtocolError && fault.offset >= 0 ? fault.offset : undefined;
  const record = { ...fields, code: fault.code, offset, err: fault.message };
  if (fault.code === 'PEER_INPUT_FAULT') log.error({ ...record, stack: (fault.cause as Error | undefined)?.stack }, 'connection closed: its input broke the handler');
  else log.warn(record, 'connection closed: protocol error');
}

/** `handle`, with anything it throws turned into `onFault(typed error)` instead of reaching the caller. */
export function guarded<A extends unknown[]>(what: string, handle: (...args: A) => void, onFault: (fault: CourierError) => void): (...args: A) => void {
  return (...args: A): void => {
    try {
      handle(...args);
    } catch (err) {
      onFault(peerFault(err, what));
    }
  };
}

/** A carrier receiver whose `onData` runs under the guard. */
export function guardReceiver(receiver: CarrierReceiver, what: string, onFault: (fault: CourierError) => void): CarrierReceiver {
  const guardedReceiver: CarrierReceiver = {
    onData: guarded(what, (chunk: Uint8Array) => receiver.onData(chunk), onFault),
    onDrain: () => receiver.onDrain(),
    onClose: (error) => receiver.onClose(error),
  };
  if (receiver.readBuffer !== undefined) {
    const r = receiver as CarrierReceiver & { readBuffer(): Uint8Array | undefined };
    guardedReceiver.readBuffer = () => r.readBuffer();
  }
  return guardedReceiver;
}
