import { CarrierError, HandshakeError } from '../errors.js';
import type { Carrier } from '../seams/carrier.js';
import type { Handshake, HandshakeResult } from '../seams/handshake.js';

/**
 * Runs a sans-IO handshake over a carrier: feeds it what arrives, performs its writes, and settles
 * on `done` (the result carries the leftover bytes) or `fail` (the carrier is aborted). A
 * handshake that has not finished within `timeoutMs` fails with HandshakeError TIMEOUT. After
 * `done` the carrier's receiver is left to the caller (the session sets its own).
 */
export function driveHandshake(carrier: Carrier, hs: Handshake, timeoutMs: number, signal?: AbortSignal): Promise<HandshakeResult> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const finish = (err: Error | undefined, result?: HandshakeResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      if (err) {
        carrier.abort(err);
        reject(err);
      } else {
        resolve(result as HandshakeResult);
      }
    };
    const perform = (actions: ReturnType<Handshake['receive']>) => {
      for (const a of actions) {
        if (settled) return;
        if (a.type === 'write') carrier.write(a.bytes);
        else if (a.type === 'done') finish(undefined, a.result);
        else if (a.type === 'fail') {
          // Let the last write (a refusal status) leave before closing.
          settled = true;
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          carrier.close();
          reject(a.error);
        } else if (a.type === 'upgrade') {
          finish(new HandshakeError('BAD_MESSAGE', `carrier upgrade "${a.how}" is not supported by this driver`));
        }
      }
    };
    const timer = setTimeout(
      () => finish(new HandshakeError('TIMEOUT', `handshake with ${carrier.remote} did not finish within ${timeoutMs} ms`)),
      timeoutMs,
    );
    const onAbort = () => finish(new CarrierError('ABORTED', `handshake with ${carrier.remote} was cancelled`));
    if (signal?.aborted) return onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    carrier.setReceiver({
      onData: (chunk) => {
        if (!settled) perform(hs.receive(chunk));
      },
      onDrain: () => {},
      onClose: (err) => finish(new CarrierError('CLOSED', `${carrier.remote} closed the connection during the handshake`, { cause: err })),
    });
    perform(hs.start());
  });
}
