import { ProtocolError, Pid, Tag, Tuple, VERSION, decode, type Atom, type Term } from '@courier/term';
import { applyExposed, type Carrier, type Outcome } from '@courier/core';
import { LengthPrefixedReader } from '@courier/stream';
import type { SubsystemContext } from '../ssh/daemon.js';
import { rpcHost, type AllowList, type SpawnedPids, type SshRpcHost, type SshRpcHostLike } from './allow-list.js';
import { FrameWriter } from './frame-writer.js';
import { A, badRequest, flatAnswer, notAllowed, parseRequest, reply, tupleAnswer, type Mfa } from './protocol.js';

/**
 * Options of the sshrpc server on one channel: the node, what is allowed, the spawned processes, and the
 * limits of frames and calls in flight.
 */
export interface SshRpcServerOptions {
  /** The node's ServiceHost (`host.services`), or the Node. */
  readonly host: SshRpcHostLike;
  readonly allow: AllowList;
  readonly spawned: SpawnedPids;
  /** Largest request frame accepted, checked before anything is allocated. */
  readonly maxFrame: number;
  /** Most calls running at once on a channel; reading pauses beyond it. */
  readonly maxInFlight: number;
  /**
   * Most bytes of requests whose answers are still owed on a channel (a compressed request counts
   * its inflated size); reading pauses beyond it. One request of any size up to `maxFrame` always
   * gets in. Default {@link DEFAULT_MAX_IN_FLIGHT_BYTES}.
   */
  readonly maxInFlightBytes?: number;
}

/**
 * 1 MiB: with the count (maxInFlight) this bounds what the calls running on one channel hold. A
 * request's decoded term may take several times its bytes of heap (an empty tuple is 2 bytes on
 * the wire and an object in V8), so the bound is on bytes, not on calls: 1,024 sleeping calls of
 * 16 MiB each would otherwise hold 16 GiB.
 */
export const DEFAULT_MAX_IN_FLIGHT_BYTES = 1024 * 1024;

/** What a request weighs against maxInFlightBytes: its bytes, or the inflated size it declares (tag 80). */
function weight(frame: Uint8Array): number {
  if (frame.length >= 6 && frame[0] === VERSION && frame[1] === Tag.COMPRESSED) {
    const declared = ((frame[2] as number) * 0x1000000 + (((frame[3] as number) << 16) | ((frame[4] as number) << 8) | (frame[5] as number))) >>> 0;
    return Math.max(frame.length, declared);
  }
  return frame.length;
}

type Refused = { kind: 'refused'; reason: Term };

/** A carrier that tells when the peer has finished sending, and closes with an exit status (SshChannelCarrier). */
export interface EofCarrier extends Carrier {
  onPeerEof: (() => void) | undefined;
  close(exitStatus?: number): void;
}
const t = (...xs: Term[]): Tuple => new Tuple(xs);

/**
 * One sshrpc channel served by a Courier node: frames in, requests classified (protocol.ts),
 * allowed calls run as Courier processes over the node's exposed functions, answers framed out.
 * `{mfa, …}` answers keep request order (sshrpc clients match them by position); `{call, Id, …}`
 * replies go out as calls finish. A malformed term or an oversized frame is answered with
 * `{error, bad_term}` / `{error, {frame_too_large, Max}}`, logged once, and closes this channel
 * only. When the client sends EOF, calls in flight finish before the channel closes (exit 0).
 */
export class SshRpcServerChannel {
  private readonly reader: LengthPrefixedReader;
  private readonly out: FrameWriter;
  private readonly host: SshRpcHost;
  private inFlight = 0;
  /** Bytes of the requests counted in inFlight. */
  private inFlightBytes = 0;
  private readonly maxInFlightBytes: number;
  private ordered: Promise<unknown> = Promise.resolve();
  private eof = false;
  private done = false;
  private paused = false;

  constructor(
    private readonly carrier: EofCarrier,
    private readonly ctx: Pick<SubsystemContext, 'user' | 'log' | 'connection'>,
    private readonly opts: SshRpcServerOptions,
  ) {
    this.host = rpcHost(opts.host);
    this.maxInFlightBytes = opts.maxInFlightBytes ?? DEFAULT_MAX_IN_FLIGHT_BYTES;
    this.out = new FrameWriter(carrier, () => this.flow());
    this.reader = new LengthPrefixedReader(
      opts.maxFrame,
      (f) => this.onFrame(f),
      () => this.refuse(A.badTerm, 'an empty frame'),
    );
    carrier.onPeerEof = () => {
      this.eof = true;
      this.maybeFinish();
    };
    carrier.setReceiver({
      onData: (chunk) => {
        if (this.done) return;
        try {
          this.reader.push(chunk);
        } catch (err) {
          if (!(err instanceof ProtocolError)) throw err;
          this.refuse(t(A.frameTooLarge, this.opts.maxFrame), err.message);
        }
      },
      onDrain: () => this.out.drained(),
      onClose: () => {
        this.done = true;
        this.out.closed = true;
      },
    });
  }

  private onFrame(frame: Uint8Array): void {
    if (this.done) return;
    let term: Term;
    try {
      term = decode(frame, { maxTermBytes: this.opts.maxFrame });
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw err;
      return this.refuse(A.badTerm, err.message);
    }
    const r = parseRequest(term);
    const w = weight(frame);
    switch (r.kind) {
      case 'mfa': {
        const shape = r.form === 'tuple' ? tupleAnswer : flatAnswer;
        return this.inOrder(this.run(r).then(shape), w);
      }
      case 'call':
        return this.track(
          this.run(r).then((o) => this.send(reply(r.id, flatAnswer(o)))),
          w,
        );
      case 'cast':
        return this.track(
          this.run(r).then((o) => {
            if (o.kind !== 'return') this.ctx.log.warn({ module: r.module.name, fun: r.fun.name, outcome: o.kind }, 'sshrpc cast failed');
          }),
          w,
        );
      case 'spawn':
        return this.send(reply(r.id, this.spawn(r, w)));
      case 'send':
        return this.deliver(r.to, r.msg);
      case 'whoami':
        return this.inOrder(Promise.resolve(t(A.answer, [t(A.user, Buffer.from(this.ctx.user)), t(A.node, this.host.name)])), w);
      case 'bad':
        this.ctx.log.warn({ code: 'BAD_REQUEST' }, 'sshrpc request not understood');
        return this.inOrder(Promise.resolve(r.form === 'tuple' ? tupleAnswer({ kind: 'refused', reason: r.term }) : badRequest(r.term)), w);
    }
  }

  /** Run an allowed call in a fresh process; resolves with how it ended (never rejects). */
  private run(x: Mfa): Promise<Outcome | Refused> {
    if (!this.opts.allow.permits(x.module, x.fun, x.args.length)) {
      this.ctx.log.warn({ module: x.module.name, fun: x.fun.name, arity: x.args.length, code: 'NOT_ALLOWED' }, 'sshrpc call refused by the allow-list');
      return Promise.resolve({ kind: 'refused', reason: notAllowed(x) });
    }
    return new Promise<Outcome>((resolve) => {
      this.host.spawn(async (self) => resolve(await applyExposed(this.host.exposed, self, x.module, x.fun, x.args)));
    });
  }

  /** Count `work` (a request of `bytes`, up to its answer being queued) as in flight until it settles. */
  private track(work: Promise<unknown>, bytes: number): void {
    this.inFlight++;
    this.inFlightBytes += bytes;
    this.flow();
    void work.finally(() => {
      this.inFlight--;
      this.inFlightBytes -= bytes;
      this.flow();
    });
  }

  /** Spawn an allowed call from a request of `bytes`, within the connection's share of live processes. */
  private spawn(x: Mfa, bytes: number): Term {
    if (!this.opts.allow.permits(x.module, x.fun, x.args.length)) {
      this.ctx.log.warn({ module: x.module.name, fun: x.fun.name, arity: x.args.length, code: 'NOT_ALLOWED' }, 'sshrpc spawn refused by the allow-list');
      return t(A.error, notAllowed(x));
    }
    const host = this.host;
    if (!this.opts.spawned.hasRoom(this.ctx.connection, bytes, (pid) => host.isAlive(pid))) {
      this.ctx.log.warn(
        { module: x.module.name, fun: x.fun.name, max: this.opts.spawned.max, maxBytes: this.opts.spawned.maxBytes, code: 'SPAWN_LIMIT' },
        'sshrpc spawn refused: this connection has too many live processes',
      );
      return t(A.error, A.systemLimit);
    }
    const log = this.ctx.log;
    const pid = host.spawn(async (self) => {
      const o = await applyExposed(host.exposed, self, x.module, x.fun, x.args);
      if (o.kind !== 'return') log.warn({ module: x.module.name, fun: x.fun.name, outcome: o.kind }, 'sshrpc-spawned process failed');
    });
    this.opts.spawned.add(this.ctx.connection, pid, bytes);
    return t(A.pid, pid);
  }

  private deliver(to: Atom | Pid, msg: Term): void {
    const ok = to instanceof Pid ? this.opts.spawned.has(this.ctx.connection, to) : this.opts.allow.mayReceive(to);
    if (!ok) {
      this.ctx.log.warn({ to: to.toString(), code: 'NOT_ALLOWED' }, 'sshrpc send refused: not an allowed name or a pid this connection spawned');
      return;
    }
    try {
      this.host.send(to, msg);
    } catch (err) {
      this.ctx.log.debug({ to: to.toString(), err: (err as Error).message }, 'sshrpc send: no such process');
    }
  }

  /** Answer in request order, after every earlier ordered answer. */
  private inOrder(answer: Promise<Term>, bytes: number): void {
    this.ordered = this.ordered.then(() => answer).then((a) => this.send(a));
    this.track(this.ordered, bytes);
  }

  private send(term: Term): void {
    if (this.done) return;
    try {
      this.out.write(term);
    } catch (err) {
      // An exposed function returned something with no Erlang form: a local bug, not the peer's.
      this.ctx.log.error({ err }, 'sshrpc answer cannot be encoded');
      this.out.write(t(A.error, t(A.badrpc, t(A.error, Buffer.from((err as Error).message)))));
    }
  }

  /** The peer broke the protocol: answer once, log once, close this channel only. */
  private refuse(reason: Term, why: string): void {
    if (this.done) return;
    this.ctx.log.warn({ err: why, code: reason === A.badTerm ? 'BAD_TERM' : 'FRAME_TOO_LARGE' }, 'sshrpc frame refused, closing the channel');
    this.out.write(t(A.error, reason));
    this.out.flush();
    this.done = true;
    this.carrier.close(1);
  }

  /** Pause reading while the output is refused or too many calls (or bytes of calls) run; resume when all clear. */
  private flow(): void {
    const stop = this.out.busy || this.inFlight >= this.opts.maxInFlight || this.inFlightBytes >= this.maxInFlightBytes;
    if (stop !== this.paused) {
      this.paused = stop;
      if (stop) this.carrier.pause();
      else this.carrier.resume();
    }
    this.maybeFinish();
  }

  /** After the client's EOF, once every answer is queued: flush and close (exit status 0). */
  private maybeFinish(): void {
    if (!this.eof || this.done || this.inFlight > 0) return;
    this.done = true;
    this.out.flush();
    this.carrier.close(0);
  }
}
