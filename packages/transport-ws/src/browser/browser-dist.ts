import type { Atom } from '@courier/term';
import { CarrierError, HandshakeError, ResolveError, driveHandshake, silentLogger, type Logger, type Session, type Transport, type TransportHost } from '@courier/core';
import { ErlHandshake, ErlSession } from '@courier/transport-tcp/wire';
import { WsCarrier, type WebSocketLike } from '../ws-carrier.js';
import { SUBPROTOCOL } from '../subprotocol.js';

/** A WebSocket as the browser makes them, with the open event the dialer waits for. */
type DialingSocket = WebSocketLike & { onopen: (() => void) | null };

export interface BrowserWsOptions {
  /** The cookie shared with the gateway. */
  readonly cookie: string;
  /** The gateway's URL for `peer` (`wss://gateway.example:8443/courier`). */
  readonly urlFor: (peer: Atom) => string | undefined;
  readonly hidden?: boolean;
  readonly handshakeTimeoutMs?: number;
  readonly netTicktime?: number;
  readonly log?: Logger;
  /** Makes the WebSocket; default the browser's own (`globalThis.WebSocket`). */
  readonly createWebSocket?: (url: string, protocol: string) => WebSocketLike;
}

/**
 * The WebSocket carrier in a browser: dial only (a page does not accept connections), the same
 * Erlang handshake and session as every other Courier node, over the page's WebSocket. Nothing
 * here needs a Node module.
 */
export class BrowserWsTransport implements Transport {
  readonly name = 'ws';
  private host: TransportHost | undefined;
  private log: Logger;

  constructor(private readonly o: BrowserWsOptions) {
    this.log = o.log ?? silentLogger;
  }

  start(host: TransportHost): Promise<void> {
    this.host = host;
    this.log = (this.o.log ?? host.log).child({ carrier: 'ws' });
    return Promise.resolve();
  }

  async connect(peer: Atom, signal?: AbortSignal): Promise<Session> {
    const host = this.host;
    if (host === undefined) throw new CarrierError('NOT_STARTED', 'start the node before connecting');
    const url = this.o.urlFor(peer);
    if (url === undefined) throw new ResolveError('NO_ADDRESS', `no WebSocket URL is known for ${peer.name}`);
    const timeoutMs = this.o.handshakeTimeoutMs ?? 7000;
    const c = await this.dial(url, timeoutMs, signal);
    const hs = new ErlHandshake({ role: 'initiator', self: host.name, peer, creation: host.creation, cookie: () => this.o.cookie, hidden: this.o.hidden ?? true, lengthBytes: 2 });
    try {
      const { result: r, handover } = await driveHandshake(c, hs, { timeoutMs, signal, waitOnNok: true });
      const s = new ErlSession(c, host.router, { peer: r.peer, flags: r.flags, hidden: r.hidden ?? false, carrierName: 'ws', log: this.log.child({ peer: r.peer.name }), netTicktime: this.o.netTicktime });
      setTimeout(() => s.start(r.tail, handover), 0);
      return s;
    } catch (err) {
      if (!(err instanceof HandshakeError && err.code === 'NOK')) this.log.warn({ peer: peer.name, code: (err as { code?: string }).code, err: (err as Error).message }, 'handshake failed');
      throw err;
    }
  }

  private dial(url: string, timeoutMs: number, signal?: AbortSignal): Promise<WsCarrier> {
    const make = this.o.createWebSocket ?? ((u: string, p: string) => new (globalThis as unknown as { WebSocket: new (u: string, p: string) => WebSocketLike }).WebSocket(u, p));
    return new Promise((resolve, reject) => {
      const ws = make(url, SUBPROTOCOL) as DialingSocket;
      ws.binaryType = 'arraybuffer';
      const timer = setTimeout(() => fail(new HandshakeError('TIMEOUT', `connecting to ${url} did not finish within ${timeoutMs} ms`)), timeoutMs);
      const onAbort = (): void => fail(new CarrierError('ABORTED', `connecting to ${url} was cancelled`));
      const fail = (err: Error): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        ws.onopen = ws.onerror = ws.onclose = null;
        ws.close();
        reject(err);
      };
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      ws.onerror = () => fail(new CarrierError('CONNECT_FAILED', `cannot connect to ${url}`));
      ws.onclose = () => fail(new CarrierError('CONNECT_FAILED', `${url} closed the connection`));
      ws.onopen = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        ws.onopen = null;
        resolve(new WsCarrier(ws, url));
      };
    });
  }

  stop(): Promise<void> {
    return Promise.resolve();
  }
}
