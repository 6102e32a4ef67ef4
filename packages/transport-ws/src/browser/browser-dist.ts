import type { Atom } from '@courier/term';
import {
  CarrierError,
  DEFAULT_SETUP_TIME_MS,
  HIDDEN_BY_DEFAULT,
  silentLogger,
  type CarrierFactory,
  type Dialer,
  type Logger,
  type Protocol,
  type Resolver,
  type Transport,
  type TransportHost,
} from '@courier/core';
import { erlProtocol } from '@courier/erl-dist';
import { WsCarrier, type WebSocketLike } from '../ws-carrier.js';
import { SUBPROTOCOL } from '../subprotocol.js';
import { urlResolver } from '../url-resolver.js';

/** A WebSocket as the browser makes them, with the open event the dialer waits for. */
type DialingSocket = WebSocketLike & { onopen: (() => void) | null };

export interface BrowserWsOptions {
  /** The cookie shared with the gateway. */
  readonly cookie: string;
  /** The gateway's URL for `peer` (`wss://gateway.example:8443/courier`). */
  readonly urlFor: (peer: Atom) => string | undefined;
  /** Not listed by the gateway's nodes(). Default: HIDDEN_BY_DEFAULT.browser (true). */
  readonly hidden?: boolean;
  /** Resolve, open the WebSocket and handshake within this many ms. Default DEFAULT_SETUP_TIME_MS. */
  readonly handshakeTimeoutMs?: number;
  readonly netTicktime?: number;
  /** Output bytes queued per connection past which it is busy (dist_buf_busy_limit). Default 1 MiB. */
  readonly busyLimit?: number;
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
  private protocol: Protocol | undefined;
  private log: Logger;
  private readonly resolver: Resolver<string>;
  private readonly carrier: CarrierFactory<string>;

  constructor(private readonly opts: BrowserWsOptions) {
    this.log = opts.log ?? silentLogger;
    this.resolver = urlResolver(opts.urlFor);
    this.carrier = { dial: (url, _peer, signal) => this.open(url, signal) };
  }

  start(host: TransportHost): Promise<void> {
    this.log = (this.opts.log ?? host.log).child({ carrier: 'ws' });
    const cookie = this.opts.cookie;
    this.protocol = erlProtocol({
      self: host.name,
      creation: host.creation,
      cookie: () => cookie,
      hidden: this.opts.hidden ?? HIDDEN_BY_DEFAULT.browser,
      lengthBytes: 2,
      carrierName: 'ws',
      netTicktime: this.opts.netTicktime,
      busyLimit: this.opts.busyLimit,
    });
    return Promise.resolve();
  }

  dialer(_peer: Atom): Dialer<string> {
    const protocol = this.protocol;
    if (protocol === undefined) throw new CarrierError('NOT_STARTED', 'start the node before connecting');
    return { resolver: this.resolver, carrier: this.carrier, protocol, setupTimeMs: this.opts.handshakeTimeoutMs ?? DEFAULT_SETUP_TIME_MS };
  }

  /**
   * Open a WebSocket to `url` and wrap it once open. The pipeline's signal bounds the wait (its
   * set-up deadline becomes HandshakeError TIMEOUT there); a socket that errors or closes before
   * opening fails the dial.
   */
  private open(url: string, signal: AbortSignal): Promise<WsCarrier> {
    const make = this.opts.createWebSocket ?? ((u: string, p: string) => new (globalThis as unknown as { WebSocket: new (u: string, p: string) => WebSocketLike }).WebSocket(u, p));
    return new Promise((resolve, reject) => {
      const ws = make(url, SUBPROTOCOL) as DialingSocket;
      ws.binaryType = 'arraybuffer';
      const onAbort = (): void => fail(new CarrierError('ABORTED', `connecting to ${url} was cancelled`));
      const fail = (err: Error): void => {
        signal.removeEventListener('abort', onAbort);
        ws.onopen = ws.onerror = ws.onclose = null;
        ws.close();
        this.log.debug({ url, code: (err as CarrierError).code }, 'websocket not opened');
        reject(err);
      };
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      ws.onerror = () => fail(new CarrierError('CONNECT_FAILED', `cannot connect to ${url}`));
      ws.onclose = () => fail(new CarrierError('CONNECT_FAILED', `${url} closed the connection`));
      ws.onopen = () => {
        signal.removeEventListener('abort', onAbort);
        ws.onopen = null;
        resolve(new WsCarrier(ws, url));
      };
    });
  }

  stop(): Promise<void> {
    return Promise.resolve();
  }
}
