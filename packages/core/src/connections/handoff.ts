import type { Carrier, CarrierReceiver } from '../seams/carrier.js';
import type { Handover } from './drive-handshake.js';

/**
 * Give a carrier to the session that runs on it after the handshake: the bytes that came with
 * the last handshake message (`tail`), then what arrived while the node recorded the session
 * (the driver's handover), then live data; a close seen meanwhile is passed on. The carrier was
 * paused by the handshake driver and is resumed here, so nothing is read out of order.
 */
export function handOff(carrier: Carrier, session: CarrierReceiver & { readonly isClosed: boolean }, tail: Uint8Array, handover: Handover): void {
  carrier.setReceiver(session);
  if (tail.length > 0) session.onData(tail);
  for (const chunk of handover.chunks) if (!session.isClosed) session.onData(chunk);
  handover.chunks.length = 0;
  if (handover.closed !== undefined) return session.onClose(handover.closed.error);
  if (!session.isClosed) carrier.resume();
}
