import { CarrierError, HandshakeError } from '../errors.js';
import { guarded } from './guard.js';
import type { Carrier, CarrierReceiver } from '../seams/carrier.js';
import type { Handshake, HandshakeAction, HandshakeResult } from '../seams/handshake.js';

/** Options of {@link driveHandshake}. */
export interface DriveOptions {
  /** The whole handshake must finish within this (OTP's net_setuptime). */
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
  /**
   * Initiator: after `nok` (the peer's own simultaneous attempt wins) keep this attempt pending
   * until `signal` aborts it (the node took the peer's connection) or the deadline passes, as
   * dist_util's initiator waits for net_kernel to kill it. Otherwise `nok` fails at once.
   */
  readonly waitOnNok?: boolean;
  /**
   * Performs a handshake's `upgrade` action (STARTTLS-style): given the carrier so far and the
   * bytes the handshake holds for the new layer, resolves with the carrier to go on with. Without
   * it an upgrade fails the handshake with CarrierError `UPGRADE_UNSUPPORTED`.
   */
  readonly upgrade?: (how: string, carrier: Carrier, rest: Uint8Array) => Promise<Carrier>;
}

/**
 * Whatever reaches the carrier after the handshake's last message, until the session takes the
 * carrier over: chunks delivered before the driver's pause took effect, and a close.
 */
export class Handover implements CarrierReceiver {
  readonly chunks: Uint8Array[] = [];
  closed: { readonly error: Error | undefined } | undefined;

  onData(chunk: Uint8Array): void {
    this.chunks.push(chunk);
  }
  onDrain(): void {}
  onClose(error?: Error): void {
    this.closed = { error };
  }
}

/**
 * What {@link driveHandshake} resolves with: the handshake's result, the carrier to run the session on, and
 * the bytes to hand over to it.
 */
export interface Handshaken {
  readonly result: HandshakeResult;
  /** Feed `result.tail`, then these, to the session. The carrier is paused until then. */
  readonly handover: Handover;
  /** The carrier the session runs on: the one given, or the one an upgrade swapped in. */
  readonly carrier: Carrier;
}

/**
 * Run a sans-IO handshake over a carrier: feed it what arrives, perform its actions (an
 * `upgrade` through `opts.upgrade`, going on over the carrier it gives), enforce the deadline.
 * Resolves at `done` with the carrier paused and a Handover attached; rejects
 * with the handshake's HandshakeError (the carrier closed gracefully, so a refusal written
 * just before still reaches the peer), HandshakeError `TIMEOUT`, or CarrierError `ABORTED` /
 * `CLOSED` (the carrier is then closed too).
 */
export function driveHandshake(first: Carrier, hs: Handshake, opts: DriveOptions): Promise<Handshaken> {
  return new Promise((resolve, reject) => {
    let carrier = first;
    /** An upgrade is under way: bytes of the old layer are not the handshake's any more. */
    let upgrading = false;
    let settled = false;
    let nok: HandshakeError | undefined;
    const { signal } = opts;

    const end = (): void => {
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    };
    const failHard = (err: Error): void => {
      if (settled) return;
      end();
      carrier.abort();
      reject(err);
    };
    const onAbort = (): void => failHard(new CarrierError('ABORTED', 'the connection attempt was aborted', { cause: signal?.reason }));
    const timer = setTimeout(
      () => failHard(nok ?? new HandshakeError('TIMEOUT', `the handshake with ${carrier.remote} did not finish within ${opts.timeoutMs} ms`)),
      opts.timeoutMs,
    );
    timer.unref?.();

    const act = (actions: HandshakeAction[]): void => {
      for (const a of actions) {
        if (settled || nok !== undefined) return;
        switch (a.type) {
          case 'write':
            carrier.write(a.bytes);
            break;
          case 'upgrade':
            if (opts.upgrade === undefined) {
              failHard(new CarrierError('UPGRADE_UNSUPPORTED', `this carrier cannot upgrade (${a.how})`));
              return;
            }
            upgrading = true;
            carrier.pause();
            carrier.setReceiver(new Handover());
            opts.upgrade(a.how, carrier, a.rest ?? new Uint8Array(0)).then(
              (next) => {
                if (settled) return next.abort();
                upgrading = false;
                carrier = next;
                // The handshake hears of the new layer before any byte of it (the carrier keeps
                // what arrives until a receiver is set).
                act(hs.upgraded?.() ?? []);
                if (!settled) listen();
              },
              (err: unknown) => failHard(err instanceof Error ? err : new CarrierError('UPGRADE_FAILED', String(err))),
            );
            return;
          case 'fail':
            if (a.error.code === 'NOK' && opts.waitOnNok === true) {
              nok = a.error;
              return;
            }
            end();
            carrier.close();
            reject(a.error);
            return;
          case 'done': {
            end();
            carrier.pause();
            const handover = new Handover();
            carrier.setReceiver(handover);
            resolve({ result: a.result, handover, carrier });
            return;
          }
        }
      }
    };

    if (signal?.aborted) {
      onAbort();
      return;
    }
    signal?.addEventListener('abort', onAbort, { once: true });
    const listen = (): void =>
      carrier.setReceiver({
        // Under the guard: a handshake that throws on a peer's bytes fails this attempt only.
        onData: guarded(
          'a handshake message',
          (chunk: Uint8Array) => {
            if (!settled && nok === undefined && !upgrading) act(hs.receive(chunk));
          },
          (fault) => failHard(new HandshakeError('BAD_MESSAGE', `${carrier.remote} sent what the handshake cannot take: ${fault.message}`, { cause: fault })),
        ),
        onDrain: () => {},
        onClose: (error) => {
          if (settled || nok !== undefined) return;
          end();
          reject(hs.closedByPeer?.() ?? new CarrierError('CLOSED', `${carrier.remote} closed the connection during the handshake`, { cause: error }));
        },
      });
    listen();
    act(hs.start());
  });
}
