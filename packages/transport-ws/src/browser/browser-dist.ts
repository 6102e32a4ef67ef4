import { atom, type Atom } from '@courier/term';
import {
  CarrierError,
  DEFAULT_SETUP_TIME_MS,
  HIDDEN_BY_DEFAULT,
  HandshakeError,
  Node,
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
import { PAGE_SUBPROTOCOL, type PageWelcome } from '../subprotocol.js';
import { PageAuthError, type PageAuthErrorCode } from '../page-auth-error.js';
import { urlResolver } from '../url-resolver.js';

/** A WebSocket as the browser makes them, with the open event the join waits for. */
type DialingSocket = WebSocketLike & { onopen: (() => void) | null };

export interface JoinGatewayOptions {
  /** The gateway's URL (`wss://gw.example/courier`; `ws://` on loopback only). */
  readonly url: string;
  /** The page's credential from the application (a page token), sent as the first WebSocket message. */
  readonly token: string;
  /** Open the WebSocket, be let in and handshake within this many ms (each). Default DEFAULT_SETUP_TIME_MS. */
  readonly handshakeTimeoutMs?: number;
  readonly netTicktime?: number;
  /** Output bytes queued per connection past which it is busy (dist_buf_busy_limit). Default 1 MiB. */
  readonly busyLimit?: number;
  readonly log?: Logger;
  /** Makes the WebSocket; default the browser's own (`globalThis.WebSocket`). */
  readonly createWebSocket?: (url: string, protocol: string) => WebSocketLike;
}

/** A page let in by its gateway: its node (started, connected to the gateway) and what the gateway said. */
export interface JoinedPage {
  readonly node: Node;
  readonly gateway: Atom;
  readonly identity: string;
  /** When the gateway ends the connection (ms since the epoch); join again with a fresh token before. */
  readonly expiresAt: number;
}

/**
 * Join a gateway as a page (docs/ws.md): open the WebSocket (subprotocol PAGE_SUBPROTOCOL), send
 * the token as the first message, read the gateway's welcome (the page's node name and this
 * connection's secret), then start a node of that name and run the Erlang handshake with the
 * secret over the same socket. The page never holds the cluster cookie. Refusals reject with a
 * {@link PageAuthError} naming the gateway's reason; a socket that does not open, with
 * CarrierError CONNECT_FAILED or HandshakeError TIMEOUT.
 */
export async function joinGateway(o: JoinGatewayOptions): Promise<JoinedPage> {
  const timeoutMs = o.handshakeTimeoutMs ?? DEFAULT_SETUP_TIME_MS;
  const make = o.createWebSocket ?? ((u: string, p: string) => new (globalThis as unknown as { WebSocket: new (u: string, p: string) => WebSocketLike }).WebSocket(u, p));
  const ws = make(o.url, PAGE_SUBPROTOCOL) as DialingSocket;
  ws.binaryType = 'arraybuffer';
  const welcome = await new Promise<PageWelcome>((resolve, reject) => {
    const done = (err?: Error, w?: PageWelcome): void => {
      clearTimeout(timer);
      ws.onopen = ws.onerror = ws.onclose = ws.onmessage = null;
      if (err === undefined) return resolve(w as PageWelcome);
      ws.close();
      reject(err);
    };
    const timer = setTimeout(() => done(new HandshakeError('TIMEOUT', `${o.url} did not let the page in within ${timeoutMs} ms`)), timeoutMs);
    let opened = false;
    // Before it opens, an error is the end; after, the close that follows carries the gateway's reason.
    ws.onerror = () => (opened ? undefined : done(new CarrierError('CONNECT_FAILED', `cannot connect to ${o.url}`)));
    ws.onclose = (ev) => done(opened ? refusal(ev.code, ev.reason, o.url) : new CarrierError('CONNECT_FAILED', `cannot connect to ${o.url}`));
    ws.onopen = () => {
      opened = true;
      (ws as unknown as { send(d: string): void }).send(o.token);
    };
    ws.onmessage = (ev) => {
      const w = typeof ev.data === 'string' ? parseWelcome(ev.data) : undefined;
      done(
        w === undefined ? new PageAuthError('BAD_WELCOME', `${o.url} answered the token with something other than a welcome: is it a Courier gateway taking pages?`) : undefined,
        w,
      );
    };
  });
  const transport = new BrowserWsTransport({ ...o, socket: ws, secret: welcome.secret, gateway: welcome.gateway });
  const node = new Node({ name: welcome.node, transports: [transport], ...(o.log !== undefined ? { log: o.log } : {}) });
  await node.start();
  const gateway = atom(welcome.gateway);
  if (!(await node.connect(gateway))) {
    await node.stop();
    throw new CarrierError('JOIN_FAILED', `the Erlang handshake with ${welcome.gateway} over ${o.url} failed: see the gateway's log`);
  }
  return { node, gateway, identity: welcome.identity, expiresAt: welcome.expiresAt };
}

/** The gateway's close: `CODE: what to do` in the reason. */
function refusal(code: number, reason: string, url: string): Error {
  const m = /^([A-Z_]+): (.*)$/s.exec(reason);
  if (m !== null) return new PageAuthError(m[1] as PageAuthErrorCode, `${url} refused the page (${code}): ${m[2]}`);
  return new CarrierError('CONNECT_FAILED', `${url} closed the connection (${code}${reason ? ` ${reason}` : ''}) before letting the page in`);
}

function parseWelcome(text: string): PageWelcome | undefined {
  let w: unknown;
  try {
    w = JSON.parse(text);
  } catch {
    return undefined;
  }
  const x = w as Partial<Record<keyof PageWelcome, unknown>>;
  if (w === null || typeof w !== 'object' || typeof x.node !== 'string' || typeof x.gateway !== 'string' || typeof x.secret !== 'string') return undefined;
  return { node: x.node, gateway: x.gateway, secret: x.secret, identity: typeof x.identity === 'string' ? x.identity : '', expiresAt: Number(x.expiresAt ?? 0) };
}

interface BrowserWsOptions extends Omit<JoinGatewayOptions, 'token'> {
  /** The socket the gateway let the page in on. */
  readonly socket: WebSocketLike;
  /** This connection's secret from the welcome, in place of a cookie. */
  readonly secret: string;
  /** The gateway's node name, from the welcome. */
  readonly gateway: string;
}

/**
 * The WebSocket carrier of a page: dial only (a page does not accept connections), the same
 * Erlang handshake and session as every other Courier node, over the socket the gateway let the
 * page in on — once: a page whose connection ended joins again (`joinGateway`, a fresh token).
 * Nothing here needs a Node module.
 */
class BrowserWsTransport implements Transport {
  readonly name = 'ws';
  private protocol: Protocol | undefined;
  private log: Logger;
  private socket: WebSocketLike | undefined;
  private readonly resolver: Resolver<string>;
  private readonly carrier: CarrierFactory<string>;

  constructor(private readonly opts: BrowserWsOptions) {
    this.log = opts.log ?? silentLogger;
    this.socket = opts.socket;
    // A page reaches its gateway only: every other node is through the gateway's proxies.
    this.resolver = urlResolver((peer) => (peer.name === opts.gateway ? opts.url : undefined));
    this.carrier = { dial: (url) => this.take(url) };
  }

  start(host: TransportHost): Promise<void> {
    this.log = (this.opts.log ?? host.log).child({ carrier: 'ws' });
    const secret = this.opts.secret;
    this.protocol = erlProtocol({
      self: host.name,
      creation: host.creation,
      cookie: () => secret,
      hidden: HIDDEN_BY_DEFAULT.browser,
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

  private take(url: string): Promise<WsCarrier> {
    const ws = this.socket;
    this.socket = undefined;
    if (ws === undefined || ws.readyState !== 1) {
      this.log.debug({ url }, 'page connection ended: join again');
      return Promise.reject(new CarrierError('REJOIN_NEEDED', `the page's connection to ${url} ended: join again with a fresh token (joinGateway)`));
    }
    return Promise.resolve(new WsCarrier(ws, url));
  }

  stop(): Promise<void> {
    this.socket?.close();
    this.socket = undefined;
    return Promise.resolve();
  }
}
