import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { WebSocket } from 'ws';
import { Atom, Tuple, atom, type Term } from '@courier/term';
import type { DistOp, Logger, PipelineSession, Protocol, Router, TransportHost } from '@courier/core';
import { erlProtocol } from '@courier/erl-dist';
import { WsCarrier, type WebSocketLike } from './ws-carrier.js';
import { PAGE_CLOSE, type PageWelcome } from './subprotocol.js';
import { PageAuthError } from './page-auth-error.js';
import type { PageAuthorization, PageInfo, PagePolicy, PageRequest, PagesOptions } from './page-types.js';

/** Largest distribution message from or to a page by default: 1 MiB (a node's is 64 MiB). */
export const PAGE_MAX_MESSAGE = 1024 * 1024;
/** The largest page token accepted, by default (8 KiB). */
export const PAGE_MAX_CREDENTIAL_BYTES = 8 * 1024;
/** Pages connected at once with one identity, by default. */
export const PAGE_MAX_PER_IDENTITY = 4;
/** Pages connected at once to one gateway, by default. */
export const PAGE_MAX_PAGES = 256;
/** Refusals logged at warn per page; past it, one line says so and the rest go to debug. */
const WARN_REFUSALS = 20;
const NOT_GRANTED = atom('not_granted');
const GATEWAY_ERROR = atom('gateway_error');
/** setTimeout's longest delay. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** The pages a listener has let in, for the gateway: who each page node is and what it may reach. */
export interface PageDirectory {
  /** The page whose node is `node`, while its session is up. */
  get(node: Atom): PageInfo | undefined;
  /** Install the gateway's policy (undefined: pages may do nothing). */
  setPolicy(policy: PagePolicy | undefined): void;
  /** Pages connected now. */
  readonly size: number;
}

export interface PageDoorSettings {
  readonly host: TransportHost;
  readonly log: Logger;
  readonly hidden: boolean;
  readonly netTicktime?: number;
  readonly busyLimit?: number;
}

/**
 * How a page comes in (docs/ws.md): its credential in the first WebSocket message, judged by the
 * application's `authorize`; capped per identity and in all; then a welcome naming its node (made
 * here, unique to the connection) and a secret for this connection's Erlang handshake, which
 * refuses any other name. Every operation its session delivers passes the gateway's policy first.
 */
export class PageDoor implements PageDirectory {
  private readonly pages = new Map<string, PageInfo>();
  private readonly perIdentity = new Map<string, number>();
  private open = 0;
  private policy: PagePolicy | undefined;

  constructor(
    private readonly o: PagesOptions,
    private s: PageDoorSettings | undefined = undefined,
  ) {}

  started(s: PageDoorSettings): void {
    this.s = s;
  }

  get size(): number {
    return this.pages.size;
  }

  get(node: Atom): PageInfo | undefined {
    return this.pages.get(node.name);
  }

  setPolicy(policy: PagePolicy | undefined): void {
    this.policy = policy;
  }

  /** An upgrade's `Origin` (absent: not a browser) may go on. */
  originAllowed(origin: string | undefined): boolean {
    return origin === undefined || this.o.origins.includes(origin);
  }

  /** A WebSocket that named the page subprotocol: read its credential within `leftMs`, then bring it up. */
  admit(ws: WebSocket, req: IncomingMessage, leftMs: number): void {
    const s = this.s as PageDoorSettings;
    const remote = `${req.socket.remoteAddress}:${req.socket.remotePort}`;
    const log = s.log.child({ page: remote });
    const deadline = Date.now() + leftMs;
    const refuse = (code: number, err: PageAuthError): void => {
      log.warn({ code: err.code, origin: req.headers.origin }, `page refused: ${err.message}`);
      // Read on (nothing is taken any more) so the peer's close frame ends the connection.
      ws.resume();
      ws.close(code, `${err.code}: ${err.message}`.slice(0, 120));
    };
    const timer = setTimeout(() => refuse(PAGE_CLOSE.UNAUTHORIZED, new PageAuthError('NO_TOKEN', 'no credential within the set-up time')), leftMs);
    ws.once('close', () => clearTimeout(timer));
    ws.once('message', (data: Buffer, isBinary: boolean) => {
      clearTimeout(timer);
      ws.pause();
      const max = this.o.maxCredentialBytes ?? PAGE_MAX_CREDENTIAL_BYTES;
      if (isBinary) return refuse(PAGE_CLOSE.UNAUTHORIZED, new PageAuthError('NO_TOKEN', 'the first message must be the token, as text'));
      if (data.length > max) return refuse(PAGE_CLOSE.UNAUTHORIZED, new PageAuthError('BAD_TOKEN', `the credential has ${data.length} bytes; at most ${max}`));
      const request: PageRequest = {
        credential: data.toString('utf8'),
        origin: req.headers.origin,
        remoteAddress: req.socket.remoteAddress ?? '?',
        url: req.url ?? '/',
        headers: req.headers,
      };
      void this.authorize(request).then(
        (a) => {
          if (ws.readyState !== ws.OPEN) return;
          const left = deadline - Date.now();
          if (left <= 0) return refuse(PAGE_CLOSE.UNAUTHORIZED, new PageAuthError('REFUSED', 'authorization took longer than the set-up time'));
          if (a.expiresAt <= Date.now()) return refuse(PAGE_CLOSE.UNAUTHORIZED, new PageAuthError('TOKEN_EXPIRED', 'the authorization has already ended'));
          const perId = this.perIdentity.get(a.identity) ?? 0;
          const maxPer = this.o.maxPerIdentity ?? PAGE_MAX_PER_IDENTITY;
          if (perId >= maxPer) return refuse(PAGE_CLOSE.TOO_MANY, new PageAuthError('TOO_MANY', `${a.identity} has ${perId} page connections open; at most ${maxPer}`));
          const maxPages = this.o.maxPages ?? PAGE_MAX_PAGES;
          if (this.open >= maxPages) return refuse(PAGE_CLOSE.TOO_MANY, new PageAuthError('TOO_MANY', `the gateway has ${this.open} pages connected; at most ${maxPages}`));
          this.enter(ws, req, a, remote, log, left);
        },
        (err: unknown) => {
          if (ws.readyState !== ws.OPEN) return;
          refuse(PAGE_CLOSE.UNAUTHORIZED, err instanceof PageAuthError ? err : new PageAuthError('REFUSED', err instanceof Error ? err.message : String(err), { cause: err }));
        },
      );
    });
  }

  private async authorize(r: PageRequest): Promise<PageAuthorization> {
    const a = await this.o.authorize(r);
    if (typeof a?.identity !== 'string' || a.identity === '' || typeof a.expiresAt !== 'number' || a.grants === undefined) {
      throw new PageAuthError('REFUSED', 'authorize answered no identity, grants or expiresAt');
    }
    return a;
  }

  /** Authorized: count it, welcome it, and hand its socket to the pipeline with its own protocol. */
  private enter(ws: WebSocket, req: IncomingMessage, a: PageAuthorization, remote: string, log: Logger, leftMs: number): void {
    const s = this.s as PageDoorSettings;
    const self = s.host.name;
    const node = atom(`page_${a.identity.replace(/[^A-Za-z0-9_]/g, '_').slice(0, 24)}_${randomBytes(6).toString('hex')}@${self.name.slice(self.name.indexOf('@') + 1)}`);
    const secret = randomBytes(24).toString('base64url');
    const info: PageInfo = { node, identity: a.identity, grants: a.grants, expiresAt: a.expiresAt, remote, origin: req.headers.origin };
    const plog = log.child({ identity: a.identity, node: node.name });
    this.open++;
    this.perIdentity.set(a.identity, (this.perIdentity.get(a.identity) ?? 0) + 1);
    const expiry = setTimeout(
      () => {
        plog.info('page authorization ended: connection closed');
        ws.close(PAGE_CLOSE.EXPIRED, 'EXPIRED: the authorization ended; join again with a fresh token');
      },
      Math.min(MAX_TIMER_MS, Math.max(0, a.expiresAt - Date.now())),
    );
    ws.once('close', () => {
      clearTimeout(expiry);
      this.open--;
      const n = (this.perIdentity.get(a.identity) ?? 1) - 1;
      if (n > 0) this.perIdentity.set(a.identity, n);
      else this.perIdentity.delete(a.identity);
      this.leave(info);
    });
    const welcome: PageWelcome = { node: node.name, gateway: self.name, secret, identity: a.identity, expiresAt: a.expiresAt };
    ws.send(JSON.stringify(welcome));
    plog.info({ origin: info.origin, expiresAt: new Date(a.expiresAt).toISOString() }, 'page authorized');
    const carrier = new WsCarrier(ws as unknown as WebSocketLike, remote);
    s.host.accept(carrier, { protocol: this.protocol(info, secret, plog), setupTimeMs: leftMs });
    ws.resume();
  }

  /** This page's protocol: the Erlang distribution with its secret, its name only, its operations judged. */
  private protocol(info: PageInfo, secret: string, log: Logger): Protocol {
    const s = this.s as PageDoorSettings;
    const inner = erlProtocol({
      self: s.host.name,
      creation: s.host.creation,
      cookie: () => secret,
      hidden: s.hidden,
      lengthBytes: 2,
      carrierName: 'ws',
      netTicktime: s.netTicktime,
      maxMessage: this.o.maxMessage ?? PAGE_MAX_MESSAGE,
      busyLimit: s.busyLimit,
      // The welcome named the page's node: no other name (a cluster node's, another page's) is taken.
      arbiter: (a) => ({ acceptPending: (peer) => (peer.name === info.node.name ? a.acceptPending(peer) : 'not_allowed') }),
    });
    return {
      handshake: (attempt) => inner.handshake(attempt),
      session: (carrier, result, ctx) => {
        // The session, once made: refusals are told the page over it.
        const made: { session?: PipelineSession } = {};
        let refusals = 0;
        const router: Router = {
          route: (op, peer) => {
            const why = this.policy === undefined ? 'no gateway runs on this node (startGateway): a page may do nothing' : this.policy.check(op, info);
            if (why === undefined) return ctx.router.route(op, peer);
            refusals++;
            const fields = { op: op.op, to: targetText(op), why };
            if (refusals <= WARN_REFUSALS) log.warn(fields, 'page operation refused');
            else if (refusals === WARN_REFUSALS + 1) log.warn(fields, 'page operation refused (further refusals of this page at debug)');
            else log.debug(fields, 'page operation refused');
            if (made.session !== undefined) tellRefused(made.session, op, info);
          },
          nodeDown: (peer, reason, sess) => {
            this.leave(info);
            ctx.router.nodeDown(peer, reason, sess);
          },
        };
        const session = inner.session(carrier, result, { ...ctx, router });
        made.session = session;
        this.pages.set(info.node.name, info);
        return session;
      },
    };
  }

  private leave(info: PageInfo): void {
    if (this.pages.get(info.node.name) !== info) return;
    this.pages.delete(info.node.name);
    this.policy?.pageDown?.(info);
  }
}

/** The target of an operation, for the log line. */
function targetText(op: DistOp): string {
  const to = 'to' in op ? (op as { to: unknown }).to : op.op === 'alias_send' ? op.alias : op.op === 'spawn_request' ? `${op.module.name}:${op.fun.name}` : undefined;
  return to instanceof Atom ? to.name : String(to);
}

/**
 * Tell the page what it was refused, as Erlang would tell of a missing process: a link breaks at
 * once and a monitor fires (`not_granted`), a spawn answers `not_granted`, and a message or exit
 * signal makes `{gateway_error, Op, Target, not_granted}` for the sending process.
 */
function tellRefused(s: PipelineSession, op: DistOp, page: PageInfo): void {
  const mine = (p: { node: Atom } | undefined): boolean => p !== undefined && p.node.name === page.node.name;
  switch (op.op) {
    case 'spawn_request':
      if (mine(op.from)) s.send({ op: 'spawn_reply', reqId: op.reqId, to: op.from, flags: 0, result: NOT_GRANTED });
      return;
    case 'link':
      if (mine(op.from)) s.send({ op: 'exit', from: op.to, to: op.from, reason: NOT_GRANTED });
      return;
    case 'monitor_p':
      if (mine(op.from)) s.send({ op: 'monitor_p_exit', from: op.to, to: op.from, ref: op.ref, reason: NOT_GRANTED });
      return;
    case 'send':
    case 'reg_send':
    case 'port_send':
    case 'alias_send':
    case 'exit2': {
      if (!mine(op.from)) return;
      const target: Term = op.op === 'alias_send' ? op.alias : op.to;
      s.send({ op: 'send', to: op.from as NonNullable<typeof op.from>, msg: new Tuple([GATEWAY_ERROR, atom(op.op), target, NOT_GRANTED]) });
      return;
    }
    default:
      return;
  }
}
