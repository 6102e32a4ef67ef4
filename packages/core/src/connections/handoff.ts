import type { Logger } from '../log.js';
import type { Carrier } from '../seams/carrier.js';
import type { PipelineSession } from '../seams/session.js';
import type { Handover } from './drive-handshake.js';
import { guardReceiver, logFault } from './guard.js';

/**
 * Give a carrier to the session that runs on it after the handshake: the bytes that came with
 * the last handshake message (`tail`), then what arrived while the node recorded the session
 * (the driver's handover), then live data; a close seen meanwhile is passed on. The carrier was
 * paused by the handshake driver and is resumed here, so nothing is read out of order.
 */
export function handOff(carrier: Carrier, session: PipelineSession, tail: Uint8Array, handover: Handover, log: Logger): void {
  // Under the guard: whatever the session's handling of these bytes throws closes this connection only.
  const input = guardReceiver(session, 'a frame', (fault) => {
    if (session.isClosed) return;
    logFault(log, fault, { peer: session.peer.name, carrier: session.carrier });
    carrier.abort(fault);
    session.onClose(fault);
  });
  carrier.setReceiver(input);
  if (tail.length > 0) input.onData(tail);
  for (const chunk of handover.chunks) if (!session.isClosed) input.onData(chunk);
  handover.chunks.length = 0;
  if (handover.closed !== undefined) return session.onClose(handover.closed.error);
  if (!session.isClosed) carrier.resume();
}
