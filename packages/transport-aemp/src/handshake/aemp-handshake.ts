import { randomBytes } from 'node:crypto';
import { MAX_ATOM_CHARS, atom, provisionalAtom, type Atom } from '@courier/term';
import { HandshakeError, UsageError, type Handshake, type HandshakeAction, type HandshakeArbiter, type HandshakeErrorCode } from '@courier/core';
import { isFraming, type Dialect, type Framing } from '../framing/codec.js';
import { AuthMethod, authData, authMessage, sameHex } from './auth.js';
import { PROTOCOL, PROTOCOL_VERSION, formatGreeting, parseGreeting, type Greeting } from './greeting.js';
import { LineReader } from './line-reader.js';

/** Options of an AEMP handshake: the role, our node id, the secret, framings, TLS and cleartext auth. */
export interface AempHandshakeOptions {
  readonly role: 'initiator' | 'acceptor';
  /** Our node id. */
  readonly self: Atom;
  /** The shared secret (raw bytes of the string are the HMAC key). Never logged. */
  readonly secret: string;
  /** Framings we read, in the order we prefer the peer to send them. */
  readonly framings: readonly Framing[];
  /** Accept a peer's `cleartext` auth line (off by default: it shows the secret on the wire). */
  readonly allowCleartext?: boolean;
  /**
   * We hold a certificate: announce `tls=1.0`, and when the peer does too, switch to TLS after
   * the greeting (the side with the smaller nonce line is the TLS client) and authenticate with
   * `tls_sha3_512`, as Transport.pm does.
   */
  readonly tls?: boolean;
  /** Under TLS, accept a peer's `tls_anon` (no proof of the secret; off by default). */
  readonly allowTlsAnon?: boolean;
  /** Initiator: the node id we dialed, when known (a different id fails with NAME_MISMATCH). */
  readonly peer?: Atom;
  /** Acceptor: the node's say on an incoming node id (one connection per node id). */
  readonly arbiter?: HandshakeArbiter;
  /** key=value pairs for our greeting. */
  readonly kv?: Readonly<Record<string, string>>;
  /** Announce `courier=1`, so that a Courier peer speaks the extended mapping with us (default true). */
  readonly courier?: boolean;
  /** Source of the nonce line (tests inject a fixed one). */
  readonly nonce?: () => string;
}

/**
 * Where an AEMP handshake is: exchanging greeting lines, upgrading to TLS, checking the auth line, done or
 * failed.
 */
export type AempHandshakeState = 'greeting1' | 'greeting2' | 'tls' | 'auth' | 'done' | 'failed';

/** How the carrier is upgraded: our TLS role. */
export type TlsRole = 'tls-client' | 'tls-server';

/** What the session needs from the handshake, in HandshakeResult.details. */
export interface AempDetails {
  /** The framing we send: the first of the peer's list that we speak. */
  readonly sendFraming: Framing;
  /** The framing the peer sends, from its auth line. */
  readonly recvFraming: Framing;
  /** Both greetings carry `courier=1`: the extended value mapping is spoken. */
  readonly dialect: Dialect;
  readonly auth: string;
  readonly peerGreeting: Greeting;
  /** The connection runs over TLS (the peer's certificate was verified against our CA). */
  readonly tls: boolean;
  /** The peer authenticated with `tls_anon`: it proved no secret. */
  readonly untrusted: boolean;
}

/** The auth line a Courier acceptor sends instead of its own when it refuses the peer. */
export const REFUSED = 'courier_refused';
/** The monitoring (`mproto`) and global (`gproto`) protocol levels of AnyEvent::MP 2.02. */
export const MPROTO = '1';
export const GPROTO = '1';
/** In the message of the handshake failure when the peer turns out to be this node (a seed that is ourselves). */
export const OWN_NODE_ID = 'the peer has our own node id';
const REFUSAL_CODES: readonly string[] = ['NOK', 'NOT_ALLOWED', 'ALREADY_CONNECTED'];
const write = (s: string): HandshakeAction => ({ type: 'write', bytes: Buffer.from(s, 'utf8') });
const defaultNonce = (): string => randomBytes(66).toString('base64');

/**
 * The AEMP handshake (Transport.pm), sans-IO. It is symmetric: each side sends its two greeting
 * lines at once, reads the peer's, answers with its auth line, and is done once the peer's auth
 * line checks out. An acceptor asks its node's arbiter about the peer's node id after line 1; a
 * refusal is sent in place of the auth line (`courier_refused;<CODE>;<text>`, which a Perl peer
 * reads as an unsupported auth method and closes). Every failure is a HandshakeError.
 */
export class AempHandshake implements Handshake {
  private state: AempHandshakeState = 'greeting1';
  private readonly reader = new LineReader();
  private readonly own1: string;
  private readonly own2: string;
  private peer1 = '';
  private peer2 = '';
  private greeting: Greeting | undefined;
  private sendFraming: Framing | undefined;
  private sendAuth: string = AuthMethod.HMAC_SHA3_512;
  private tlsActive = false;

  constructor(private readonly opts: AempHandshakeOptions) {
    if (opts.role === 'acceptor' && opts.arbiter === undefined) throw new UsageError('BAD_OPTIONS', 'an accepting AEMP handshake needs an arbiter');
    if (opts.framings.length === 0) throw new UsageError('BAD_OPTIONS', 'an AEMP node reads at least one framing (json or cbor)');
    const auths: string[] = opts.tls ? [AuthMethod.TLS_SHA3_512, AuthMethod.HMAC_SHA3_512] : [AuthMethod.HMAC_SHA3_512];
    if (opts.tls && opts.allowTlsAnon) auths.push(AuthMethod.TLS_ANON);
    if (opts.allowCleartext) auths.push(AuthMethod.CLEARTEXT);
    const kv: Record<string, string> = { ...opts.kv };
    if (opts.tls) kv['tls'] = '1.0';
    if (opts.courier !== false) kv['courier'] = '1';
    this.own1 = formatGreeting({ nodeid: opts.self.name, auths, framings: opts.framings, kv });
    this.own2 = (opts.nonce ?? defaultNonce)();
    if (/[\r\n]/.test(this.own2)) throw new UsageError('BAD_OPTIONS', 'a nonce may not contain a line break');
  }

  /** current Where the handshake is now. */
  get current(): AempHandshakeState {
    return this.state;
  }

  start(): HandshakeAction[] {
    return [write(`${this.own1}\n${this.own2}\n`)];
  }

  /** TLS is up: authenticate inside it. */
  upgraded(): HandshakeAction[] {
    if (this.state !== 'tls') return [];
    this.tlsActive = true;
    const out = [this.authLine()];
    this.state = 'auth';
    // Whatever came with the upgrade was the new layer's; the auth line arrives through receive().
    return out;
  }

  receive(bytes: Uint8Array): HandshakeAction[] {
    if (this.state === 'done' || this.state === 'failed') return [];
    const out: HandshakeAction[] = [];
    try {
      this.reader.push(bytes);
      for (let line = this.reader.next(); line !== undefined; line = this.current === 'done' ? undefined : this.reader.next()) {
        this.step(line, out);
        if (this.current === 'failed') return out;
      }
    } catch (e) {
      if (!(e instanceof HandshakeError)) throw e;
      out.push(this.fail(e.code as HandshakeErrorCode, e.message));
    }
    return out;
  }

  private step(line: string, out: HandshakeAction[]): void {
    switch (this.state) {
      case 'greeting1':
        this.recvGreeting1(line, out);
        return;
      case 'greeting2':
        this.recvGreeting2(line, out);
        return;
      case 'auth':
        this.recvAuth(line, out);
        return;
      default:
        return;
    }
  }

  /** Line 1: protocol and version, node id (not ours, the one dialed, allowed by the node). */
  private recvGreeting1(line: string, out: HandshakeAction[]): void {
    const g = parseGreeting(line);
    if (g === undefined || g.protocol !== PROTOCOL || g.version !== PROTOCOL_VERSION) {
      out.push(this.fail('BAD_MESSAGE', `version mismatch: the peer greets with ${JSON.stringify(line.slice(0, 80))}`));
      return;
    }
    if (!validNodeId(g.nodeid)) {
      out.push(this.fail('BAD_MESSAGE', `the peer's node id is not 1 to ${MAX_ATOM_CHARS} characters without control characters`));
      return;
    }
    // Our own line back may be an echo: that is judged on line 2, with the nonce.
    if (g.nodeid === this.opts.self.name && line !== this.own1) {
      out.push(this.fail('NOT_ALLOWED', `${OWN_NODE_ID} (I refuse to talk to myself)`));
      return;
    }
    if (this.opts.peer !== undefined && g.nodeid !== this.opts.peer.name) {
      out.push(this.fail('NAME_MISMATCH', `dialed ${this.opts.peer.name} but ${g.nodeid} answered`));
      return;
    }
    if (this.opts.arbiter !== undefined) {
      // Not authenticated yet: no new atom (a stand-in unless the node is known).
      const status = this.opts.arbiter.acceptPending(provisionalAtom(g.nodeid));
      if (status === 'nok' || status === 'not_allowed') {
        const code: HandshakeErrorCode = status === 'nok' ? 'NOK' : 'NOT_ALLOWED';
        out.push(write(`${REFUSED};${code};${status === 'nok' ? 'we are connecting to you' : 'not allowed'}\n`));
        out.push(this.fail(code, `refused ${g.nodeid} (${status})`));
        return;
      }
    }
    this.peer1 = line;
    this.greeting = g;
    this.state = 'greeting2';
  }

  /** Line 2, the nonce: echo check, then choose auth and framing and send our auth line. */
  private recvGreeting2(line: string, out: HandshakeAction[]): void {
    this.peer2 = line;
    if (this.peer1 === this.own1 && this.peer2 === this.own2) {
      out.push(this.fail('BAD_MESSAGE', 'the peer echoed our greeting (echo attack)'));
      return;
    }
    if (this.peer1 === this.own1) {
      out.push(this.fail('NOT_ALLOWED', `${OWN_NODE_ID} (I refuse to talk to myself)`));
      return;
    }
    const g = this.greeting as Greeting;
    // Perl: `1 == int $remote_greeting{tls}`.
    const tls = this.opts.tls === true && Math.trunc(Number(g.kv['tls'])) === 1;
    // Perl: the first of the peer's methods that we offer; tls_* only under TLS.
    const offer: string[] = tls ? [AuthMethod.TLS_SHA3_512, AuthMethod.HMAC_SHA3_512] : [AuthMethod.HMAC_SHA3_512];
    const auth = g.auths.find((a) => offer.includes(a));
    if (auth === undefined) {
      out.push(this.fail('NOT_ALLOWED', `no common auth type supported (the peer accepts ${g.auths.join(',') || 'nothing'})`));
      return;
    }
    this.sendAuth = auth;
    const framing = g.framings.find((f) => isFraming(f) && this.opts.framings.includes(f)) as Framing | undefined;
    if (framing === undefined) {
      out.push(this.fail('BAD_MESSAGE', `no common framing method supported (the peer reads ${g.framings.join(',') || 'nothing'})`));
      return;
    }
    this.sendFraming = framing;
    if (tls) {
      // Perl: `$lnonce lt $rnonce ? connect : accept` over the base64 text.
      this.state = 'tls';
      const how: TlsRole = this.own2 < this.peer2 ? 'tls-client' : 'tls-server';
      out.push({ type: 'upgrade', how, rest: this.reader.rest() });
      return;
    }
    out.push(this.authLine());
    this.state = 'auth';
  }

  private authLine(): HandshakeAction {
    const data = authData(this.sendAuth, this.opts.secret, authMessage(this.own1, this.own2, this.peer1, this.peer2));
    return write(`${this.sendAuth};${data};${this.sendFraming}\n`);
  }

  /** The peer's auth line: the method it names is checked (Perl never enforces its advertised list). */
  private recvAuth(line: string, out: HandshakeAction[]): void {
    const [method = '', data = '', framing = ''] = line.split(';');
    if (method === REFUSED) {
      const code = REFUSAL_CODES.includes(data) ? (data as HandshakeErrorCode) : 'NOT_ALLOWED';
      out.push(this.fail(code, `the peer refused the connection (${data})`));
      return;
    }
    const msg = authMessage(this.peer1, this.peer2, this.own1, this.own2);
    let ok: boolean;
    const tls = this.tlsActive;
    if (method === AuthMethod.HMAC_SHA3_512) ok = sameHex(data, authData(method, this.opts.secret, msg) as string);
    else if (method === AuthMethod.CLEARTEXT && this.opts.allowCleartext === true) ok = sameHex(data, authData(method, this.opts.secret, msg) as string);
    else if (method === AuthMethod.TLS_SHA3_512 && tls) ok = sameHex(data, authData(method, undefined, msg) as string);
    else if (method === AuthMethod.TLS_ANON && tls && this.opts.allowTlsAnon === true) ok = true;
    else {
      out.push(this.fail('NOT_ALLOWED', `unsupported auth method ${JSON.stringify(method.slice(0, 40))}`));
      return;
    }
    if (!ok) {
      out.push(this.fail('BAD_COOKIE', 'authentication failure/shared secret mismatch'));
      return;
    }
    if (!isFraming(framing) || !this.opts.framings.includes(framing)) {
      out.push(this.fail('BAD_MESSAGE', `the peer sends framing ${JSON.stringify(framing.slice(0, 40))}, which we did not offer`));
      return;
    }
    const g = this.greeting as Greeting;
    this.state = 'done';
    const details: AempDetails = {
      sendFraming: this.sendFraming as Framing,
      recvFraming: framing,
      dialect: g.kv['courier'] === '1' && this.opts.courier !== false ? 'courier' : 'perl',
      auth: method,
      peerGreeting: g,
      tls,
      untrusted: method === AuthMethod.TLS_ANON,
    };
    out.push({
      type: 'done',
      result: { peer: atom(g.nodeid), peerCreation: 0, flags: 0n, tail: this.reader.rest(), hidden: false, details: details as unknown as Record<string, unknown> },
    });
  }

  private fail(code: HandshakeErrorCode, message: string): HandshakeAction {
    this.state = 'failed';
    return { type: 'fail', error: new HandshakeError(code, message) };
  }
}

/** A node id a Courier node can use: 1–255 characters (an atom's limit), no control characters. */
function validNodeId(id: string): boolean {
  const chars = [...id];
  return chars.length > 0 && chars.length <= MAX_ATOM_CHARS && !chars.some((ch) => (ch.codePointAt(0) ?? 0) < 0x20 || ch === '\u007f');
}
