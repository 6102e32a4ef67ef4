import { Atom, Pid, Tuple, atom, formatErlang, type Term } from '@courier/term';
import { silentLogger, type Carrier, type Logger } from '@courier/core';
import { SshRpcError } from '../errors.js';
import { HostTrust, type HostTrustOptions } from '../keys/host-trust.js';
import { SshClientConnection } from '../ssh/client-connection.js';
import { settleFlat, settleTuple } from './answers.js';
import { SshRpcClientChannel } from './client-channel.js';
import { A } from './protocol.js';

/** The SSH subsystem name of sshrpc. */
export const SSHRPC_SUBSYSTEM = 'sshrpc@k2r.org';

export interface SshRpcConnectOptions extends HostTrustOptions {
  readonly host: string;
  readonly port: number;
  /** The SSH user name. Courier daemons (and Erlang daemons with a binding key_cb) require the node name the key's comment gives. */
  readonly user: string;
  /** Our private key (OpenSSH or PEM text). */
  readonly privateKey: string | Buffer;
  /** Channels to open on the one SSH connection; calls are spread over them. Default 1. */
  readonly channels?: number;
  /** Largest answer frame accepted. Default 64 MiB. */
  readonly maxFrame?: number;
  /** Connection set-up deadline. Default 10 s. */
  readonly timeoutMs?: number;
  /** The node name the server should be, for host-key lookups by node name. */
  readonly node?: string;
  readonly log?: Logger;
}

type Name = string | Atom;
const a = (x: Name): Atom => (typeof x === 'string' ? atom(x) : x);
const t = (...xs: Term[]): Tuple => new Tuple(xs);

/**
 * An sshrpc client: one SSH connection, one or more `sshrpc@k2r.org` channels.
 *
 * - `call` sends `{call, Id, M, F, A}`: any number in flight, answers matched by id (Courier
 *   daemons and servers with the extensions).
 * - `mfa` sends sshrpc's own `{mfa, {M, F, A}}` (form `'tuple'`, default) or the slides'
 *   `{mfa, M, F, A}` (`'flat'`): answered in order, as any sshrpc server does.
 * - `cast`, `send`, `spawn`, `whoami` are the extensions' other requests.
 * Failures reject with SshRpcError (`NOT_ALLOWED`, `BADRPC`, `CLOSED`, …).
 */
export class SshRpcClient {
  private next = 0;
  private turn = 0;

  constructor(
    private readonly channels: readonly SshRpcClientChannel[],
    private readonly conn?: SshClientConnection,
  ) {}

  /** Dial a daemon and open the channels. */
  static async connect(o: SshRpcConnectOptions): Promise<SshRpcClient> {
    const log = o.log ?? silentLogger;
    const conn = await SshClientConnection.dial({ ...o, trust: new HostTrust(o, log), timeoutMs: o.timeoutMs ?? 10_000, log });
    try {
      const n = Math.max(1, o.channels ?? 1);
      const carriers = await Promise.all(Array.from({ length: n }, () => conn.openSubsystem(SSHRPC_SUBSYSTEM)));
      return SshRpcClient.over(carriers, { maxFrame: o.maxFrame, log }, conn);
    } catch (err) {
      conn.close();
      throw err;
    }
  }

  /** A client over channels already open (e.g. on a pooled connection). */
  static over(carriers: readonly Carrier[], o: { maxFrame?: number; log?: Logger } = {}, conn?: SshClientConnection): SshRpcClient {
    const log = o.log ?? silentLogger;
    return new SshRpcClient(
      carriers.map((c) => new SshRpcClientChannel(c, o.maxFrame ?? 64 * 1024 * 1024, log)),
      conn,
    );
  }

  /** `M:F(Args)` with a transaction id; many may be in flight. */
  async call(m: Name, f: Name, args: Term[]): Promise<Term> {
    const ch = this.pick();
    await ch.writable();
    const id = (this.next = (this.next + 1) % 0x7fffffff);
    return ch.request(t(A.call, id, a(m), a(f), args), settleFlat, id);
  }

  /** The legacy request `{mfa, {M, F, A}}` (`'tuple'`) or `{mfa, M, F, A}` (`'flat'`). */
  async mfa(m: Name, f: Name, args: Term[], form: 'tuple' | 'flat' = 'tuple'): Promise<Term> {
    const ch = this.pick();
    await ch.writable();
    if (form === 'tuple') return ch.request(t(A.mfa, t(a(m), a(f), args)), settleTuple);
    return ch.request(t(A.mfa, a(m), a(f), args), settleFlat);
  }

  /** `{cast, M, F, A}`: run it, no answer. */
  cast(m: Name, f: Name, args: Term[]): void {
    this.pick().post(t(A.cast, a(m), a(f), args));
  }

  /** `{send, Dest, Msg}` to a registered name the server allows, or a pid this connection spawned. */
  send(dest: Name | Pid, msg: Term): void {
    this.pick().post(t(A.send, dest instanceof Pid ? dest : a(dest), msg));
  }

  /** `{spawn, Id, M, F, A}` → the new process's pid. */
  async spawn(m: Name, f: Name, args: Term[]): Promise<Pid> {
    const ch = this.pick();
    const id = (this.next = (this.next + 1) % 0x7fffffff);
    const r = await ch.request(
      t(A.spawn, id, a(m), a(f), args),
      (body) => (body instanceof Tuple && body.elements[0] === A.pid ? { ok: true, value: body.elements[1] } : settleFlat(body)),
      id,
    );
    if (!(r instanceof Pid)) throw new SshRpcError('BAD_ANSWER', `spawn answered ${formatErlang(r)}, not a pid`, r);
    return r;
  }

  /** `{whoami}`: what the server knows of us. */
  whoami(): Promise<Term> {
    return this.pick().request(t(A.whoami));
  }

  /** Any request term; resolves with the next positional answer, as the server sent it. */
  raw(req: Term): Promise<Term> {
    return this.pick().request(req, (x) => ({ ok: true, value: x }));
  }

  /** Close the channels (and the connection, when this client dialed it). */
  close(): void {
    for (const ch of this.channels) ch.close();
    this.conn?.close();
  }

  private pick(): SshRpcClientChannel {
    const n = this.channels.length;
    for (let i = 0; i < n; i++) {
      const ch = this.channels[(this.turn = (this.turn + 1) % n)] as SshRpcClientChannel;
      if (ch.closed === undefined) return ch;
    }
    throw (this.channels[0] as SshRpcClientChannel).closed ?? new SshRpcError('CLOSED', 'no open channel');
  }
}
