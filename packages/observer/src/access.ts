import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import { UsageError } from '@courier/core';

/**
 * Who may use the observer's listener. Three checks, in this order, on every HTTP request and on
 * the WebSocket upgrade:
 *
 * 1. **Host** must name this listener: the address it is bound to (any address of this machine
 *    for a wildcard bind), `localhost` for a loopback or wildcard bind, or one of `hostnames`; with
 *    a port, the port it listens on. A page that reached the listener by DNS rebinding
 *    (`evil.example` resolving to 127.0.0.1) carries its own name and is refused.
 * 2. **Origin**, when present (browsers send it on every WebSocket upgrade; curl, Prometheus and
 *    other programs do not), must be the observer itself (`http://` + an accepted name + its port)
 *    or one of `origins`. Any other web site the operator visits cannot open `/ws`.
 * 3. **Token**, when one is set (required to listen beyond loopback): `Authorization: Bearer TOKEN`,
 *    or the cookie a browser gets by opening `/?token=TOKEN` once (the answer is a redirect to `/`
 *    that takes the token out of the address bar). `/metrics` asks for it only with `metricsToken`.
 *
 * Refusals are 403 (not addressed to us) and 401 (no or a wrong token), each logged at warn.
 */
export interface AccessOptions {
  /** The interface the observer listens on. Anything but loopback needs `token`. */
  readonly host: string;
  /** The access token: at least 16 printable characters without spaces (`openssl rand -hex 16`). */
  readonly token?: string;
  /** More names the observer answers to (`Host`), e.g. the machine's DNS name behind a wildcard bind. */
  readonly hostnames?: readonly string[];
  /** More origins whose pages may open `/ws` (`https://ops.example.com`), e.g. behind a TLS proxy. */
  readonly origins?: readonly string[];
  /** Default false: `/metrics` is plain for Prometheus. `true` asks it for the token too. */
  readonly metricsToken?: boolean;
}

/**
 * Why a request was refused: a `Host` or `Origin` the observer does not answer to (403), or no or a wrong
 * token (401).
 */
export type RefusalCode = 'FOREIGN_HOST' | 'FOREIGN_ORIGIN' | 'NO_TOKEN' | 'BAD_TOKEN';

/** Why a request is refused: the status to answer with, a code for the log, a line for the client. */
export interface Refusal {
  readonly status: 401 | 403;
  readonly code: RefusalCode;
  readonly message: string;
}

/** Tokens a person cannot guess: long enough, and usable in a header, a cookie and a URL unchanged. */
const TOKEN = /^[\x21-\x7e]{16,4096}$/;
const BEARER = /^Bearer +(\S+) *$/i;
/** The cookie's value is derived from the token (not the token itself) under this label. */
const COOKIE_LABEL = 'courier observer cookie v1';

/** A loopback interface: 127.0.0.0/8, ::1 (also as ::ffff:127.x.y.z), or the name localhost. */
export function isLoopback(host: string): boolean {
  const h = bare(host);
  if (h === 'localhost') return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) {
    const n = normalName(h);
    return n === '[::1]' || /^\[::ffff:(127\.|7f[0-9a-f]{2}:)/.test(n ?? '');
  }
  return false;
}

/** 0.0.0.0, :: or an empty host: every interface of the machine. */
function isWildcard(host: string): boolean {
  const h = bare(host);
  return h === '' || h === '0.0.0.0' || (isIP(h) === 6 && /^[0:]+$/.test(h));
}

const bare = (host: string): string =>
  host
    .trim()
    .replace(/^\[(.*)\]$/, '$1')
    .toLowerCase();

/**
 * A host name or address as a URL has it (lower case, IPv6 in brackets and compressed, IPv4 in
 * dotted decimal, one trailing dot dropped), or undefined if it is not one.
 */
function normalName(name: string): string | undefined {
  let n = name.trim();
  if (isIP(n) === 6) n = `[${n}]`;
  if (n === '' || /[\s/\\?#@%]/.test(n)) return undefined;
  try {
    const h = new URL(`http://${n}/`).hostname;
    return h.endsWith('.') ? h.slice(0, -1) : h;
  } catch {
    return undefined;
  }
}

/** A Host header's name and port (`undefined` when it names none), or undefined if it is not `name[:port]`. */
function parseHost(value: string): { name: string; port: number | undefined } | undefined {
  const m = /^(\[[0-9A-Fa-f:.]+\]|[^:[\]]+)(?::(\d{0,5}))?$/.exec(value.trim());
  if (m === null) return undefined;
  const name = normalName(m[1] as string);
  if (name === undefined) return undefined;
  return { name, port: m[2] === undefined || m[2] === '' ? undefined : Number(m[2]) };
}

const sha256 = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();
/** Equal strings, in time that does not depend on where they differ (digests of equal length). */
const sameSecret = (given: string, expected: Buffer): boolean => timingSafeEqual(sha256(given), expected);
const clip = (s: string | undefined): string | undefined => (s === undefined ? undefined : s.length > 200 ? `${s.slice(0, 200)}…` : s);

/**
 * Check observer options before anything listens: the errors say what to do. Throws UsageError
 * (`OBSERVER_TOKEN_REQUIRED` for a bind beyond loopback without a token, `OBSERVER_OPTIONS` for the rest).
 */
export function checkAccessOptions(o: AccessOptions): void {
  const bad = (what: string): never => {
    throw new UsageError('OBSERVER_OPTIONS', what);
  };
  if (o.token !== undefined && !TOKEN.test(o.token)) {
    bad('the observer token must be at least 16 printable characters without spaces; make one with `openssl rand -hex 16`');
  }
  if (o.token === undefined && !isLoopback(o.host)) {
    throw new UsageError(
      'OBSERVER_TOKEN_REQUIRED',
      `the observer would listen on ${o.host}, beyond loopback, without an access token: anyone who reaches it would see the node's processes and peers. ` +
        'Give it a token (the `token` option; --observer-token or COURIER_OBSERVER_TOKEN, e.g. from `openssl rand -hex 16`), or listen on 127.0.0.1',
    );
  }
  if (o.metricsToken === true && o.token === undefined)
    bad('metricsToken puts /metrics behind the observer token, and no token is set: give one (--observer-token or COURIER_OBSERVER_TOKEN)');
  for (const h of o.hostnames ?? []) if (normalName(h) === undefined) bad(`observer hostname ${JSON.stringify(h)} is not a host name or address`);
  for (const x of o.origins ?? []) {
    let origin: string;
    try {
      origin = new URL(x).origin;
    } catch {
      origin = 'null';
    }
    if (origin === 'null' || origin !== x.replace(/\/$/, '').toLowerCase())
      bad(`observer origin ${JSON.stringify(x)} is not an origin such as https://ops.example.com (a scheme, a host, a port if not the default, no path)`);
  }
}

export class ObserverAccess {
  private readonly names = new Set<string>();
  private readonly origins: ReadonlySet<string>;
  private readonly token: Buffer | undefined;
  private readonly cookieValue: Buffer | undefined;
  private readonly wildcard: boolean;
  private port = 0;
  /** The cookie a browser keeps after `/?token=…` (one per port: cookies do not tell ports apart). */
  private cookieName = '';

  constructor(private readonly o: AccessOptions) {
    checkAccessOptions(o);
    this.wildcard = isWildcard(o.host);
    const add = (n: string): void => {
      const x = normalName(bare(n));
      if (x !== undefined) this.names.add(x);
    };
    if (!this.wildcard) add(o.host);
    if (this.wildcard || isLoopback(o.host)) add('localhost');
    for (const h of o.hostnames ?? []) add(h);
    this.origins = new Set((o.origins ?? []).map((x) => new URL(x).origin));
    this.token = o.token === undefined ? undefined : sha256(o.token);
    this.cookieValue = o.token === undefined ? undefined : sha256(createHmac('sha256', o.token).update(COOKIE_LABEL).digest('hex'));
  }

  get hasToken(): boolean {
    return this.token !== undefined;
  }

  /** Once listening: the port (a Host or Origin with another port is refused) and the address bound. */
  listening(port: number, address: string): void {
    this.port = port;
    this.cookieName = `courier_observer_${port}`;
    if (!this.wildcard && !isWildcard(address)) {
      const x = normalName(bare(address));
      if (x !== undefined) this.names.add(x);
    }
  }

  /** Host and Origin: is the request addressed to this listener, by a page of its own (or no page)? */
  addressed(req: IncomingMessage): Refusal | undefined {
    const host = req.headers.host;
    const h = host === undefined ? undefined : parseHost(host);
    if (h === undefined || !(this.names.has(h.name) || this.isOwnAddress(h.name)) || (h.port !== undefined && h.port !== this.port)) {
      return {
        status: 403,
        code: 'FOREIGN_HOST',
        message: `this observer does not answer to Host ${JSON.stringify(clip(host) ?? '')}; open it by the address it listens on, or list the name in its hostnames (--observer-hostname)`,
      };
    }
    const origin = req.headers.origin;
    if (origin === undefined || this.sameOrigin(origin) || this.origins.has(origin.toLowerCase())) return undefined;
    return {
      status: 403,
      code: 'FOREIGN_ORIGIN',
      message: `pages from ${JSON.stringify(clip(origin))} may not use this observer; list the origin in its origins (--observer-origin) if it should`,
    };
  }

  /** The token, when one is set and the resource asks for it (`/metrics` only with `metricsToken`). */
  authorized(req: IncomingMessage, resource: 'page' | 'metrics'): Refusal | undefined {
    if (this.token === undefined || (resource === 'metrics' && this.o.metricsToken !== true)) return undefined;
    const auth = req.headers.authorization;
    if (auth !== undefined) {
      const m = BEARER.exec(auth);
      if (m !== null && sameSecret(m[1] as string, this.token)) return undefined;
      return { status: 401, code: 'BAD_TOKEN', message: 'wrong observer token' };
    }
    const cookies = cookieValues(req.headers.cookie, this.cookieName);
    if (cookies.some((c) => sameSecret(c, this.cookieValue as Buffer))) return undefined;
    return {
      status: 401,
      code: cookies.length > 0 ? 'BAD_TOKEN' : 'NO_TOKEN',
      message:
        'this observer needs its access token: send Authorization: Bearer TOKEN, or open /?token=TOKEN once in the browser (it is then kept in a cookie and taken out of the address)',
    };
  }

  /** `/?token=…`: the Set-Cookie for a right token, undefined for a wrong one. */
  cookieFor(token: string): string | undefined {
    if (this.token === undefined || !sameSecret(token, this.token)) return undefined;
    const value = createHmac('sha256', this.o.token as string)
      .update(COOKIE_LABEL)
      .digest('hex');
    // HttpOnly: the page's script never sees it. SameSite=Lax: other sites' subrequests and WebSockets do not
    // carry it; another port of this host is the same site, and the Origin check refuses those.
    return `${this.cookieName}=${value}; Path=/; HttpOnly; SameSite=Lax`;
  }

  /** A Refusal as a log entry's fields. */
  static fields(req: IncomingMessage, r: Refusal): Record<string, unknown> {
    return {
      remote: `${req.socket.remoteAddress}:${req.socket.remotePort}`,
      code: r.code,
      path: clip(req.url),
      host: clip(req.headers.host),
      origin: clip(req.headers.origin),
    };
  }

  private sameOrigin(origin: string): boolean {
    let u: URL;
    try {
      u = new URL(origin);
    } catch {
      return false;
    }
    if (u.protocol !== 'http:' || u.origin !== origin.toLowerCase()) return false;
    const port = u.port === '' ? 80 : Number(u.port);
    const name = normalName(u.hostname);
    return port === this.port && name !== undefined && (this.names.has(name) || this.isOwnAddress(name));
  }

  /** Behind a wildcard bind: an address of one of this machine's interfaces (read now: they change). */
  private isOwnAddress(name: string): boolean {
    if (!this.wildcard) return false;
    for (const list of Object.values(networkInterfaces())) {
      for (const a of list ?? []) if (normalName(a.address.replace(/%.*$/, '')) === name) return true;
    }
    return false;
  }
}

/** The values of cookie `name` in a Cookie header (`a=1; b=2`). */
function cookieValues(header: string | undefined, name: string): string[] {
  if (header === undefined || name === '') return [];
  const out: string[] = [];
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) out.push(part.slice(i + 1).trim());
  }
  return out;
}
