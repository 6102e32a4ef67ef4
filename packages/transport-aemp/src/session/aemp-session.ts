import { EncodeError, Pid, ProtocolError, atom, atoms, existingAtom, type Atom, type Term } from '@courier/term';
import type { Carrier, DistOp, HandshakeResult, Logger, PipelineSession, Router } from '@courier/core';
import { PacketReader, PacketWriter, type Dialect } from '../framing/codec.js';
import type { AempDetails } from '../handshake/aemp-handshake.js';
import { pidOfPortName, pidPortName } from '../values/port-id.js';
import { keyText } from '../values/natural.js';
import { courierFields, courierOp, isCourierTag } from './courier-ops.js';
import { PortMonitors } from './monitors.js';
import { reasonFromWire, reasonToWire } from './reasons.js';

/**
 * The largest AEMP packet a session accepts by default (64 MiB, as a distribution connection's message
 * limit).
 */
export const DEFAULT_MAX_PACKET_BYTES = 64 * 1024 * 1024;

/** What a session hands to its transport: node-port requests it does not answer itself. */
export interface NodePortService {
  /** `["", tag, ...args]` from the peer, for snd/can/time/eval/functions/the global registry. */
  request(session: AempSession, tag: string, args: Term[]): void;
}

/**
 * Options of an AEMP session: its carrier, the handshake's result, the node's router and port services, a
 * logger, the packet limit.
 */
export interface AempSessionOptions {
  readonly carrier: Carrier;
  readonly handshake: HandshakeResult;
  readonly router: Router;
  /** Our node id. */
  readonly self: Atom;
  /** The pid registered under a name on our node (for kil1 by name). */
  readonly whereis: (name: Atom) => Pid | undefined;
  /**
   * End a local process with reason `normal` (Perl's `kil` without a reason). Default: an
   * untrappable `kill`, for hosts that cannot end a process normally from outside.
   */
  readonly endNormally?: (pid: Pid) => void;
  readonly service: NodePortService;
  /** The connection's logger (a child with the peer bound). */
  readonly log: Logger;
  readonly maxPacketBytes?: number;
  /** Called once when the session has closed. */
  readonly onClosed?: (session: AempSession) => void;
}

/**
 * A connection after the AEMP handshake: packets `[port, @msg]` in the peer's framing, each
 * either a message for one of our ports (a pid's or a registered name's) or a node-port request
 * (`port = ""`). Outgoing operations become packets: sends to ports, `mon1`/`mon0`/`kil0`
 * monitors, `kil1` kills, and for Courier peers the `c_*` requests of courier-ops.ts. Packets of
 * one tick go out in one write; a malformed packet closes the connection after a warning.
 * The connection pipeline hands it the carrier (the handshake's tail first) once the node has
 * recorded it.
 */
export class AempSession implements PipelineSession {
  readonly carrier = 'aemp';
  readonly hidden = false;
  readonly peer: Atom;
  readonly dialect: Dialect;
  readonly details: AempDetails;
  /** The peer node's stand-in sender (for its messages and monitors, which have no pid). */
  readonly standIn: Pid;
  private readonly io: Carrier;
  private readonly reader: PacketReader;
  private readonly writer: PacketWriter;
  private readonly monitors: PortMonitors;
  private readonly log: Logger;
  private flushQueued = false;
  private congested = false;
  private closed = false;

  constructor(private readonly opts: AempSessionOptions) {
    const d = opts.handshake.details as unknown as AempDetails;
    this.details = d;
    this.peer = opts.handshake.peer;
    this.dialect = d.dialect;
    this.standIn = new Pid(this.peer, 0, 0, 0);
    this.io = opts.carrier;
    this.log = opts.log;
    this.reader = new PacketReader(d.recvFraming, d.dialect, opts.maxPacketBytes ?? DEFAULT_MAX_PACKET_BYTES);
    this.writer = new PacketWriter(d.sendFraming, d.dialect);
    this.monitors = new PortMonitors(this.peer);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  send(op: DistOp): boolean {
    if (this.closed) return false;
    try {
      this.encode(op);
    } catch (e) {
      if (!(e instanceof EncodeError)) throw e;
      this.log.error({ err: e, op: op.op }, 'cannot encode an outgoing operation; dropped');
    }
    return !this.congested;
  }

  /** Send `msg` to the peer's port `port`: Perl gets `@msg` (an array spread), Courier the term. */
  sendMessage(port: string, msg: Term): void {
    if (this.dialect === 'courier') this.packet([port, this.writer.value(msg)]);
    else this.packet(Array.isArray(msg) ? [port, ...msg.map((x) => this.writer.value(x))] : [port, this.writer.value(msg)]);
  }

  /** A node-port request `["", tag, ...args]` to the peer. */
  request(tag: string, ...args: Term[]): void {
    const values: unknown[] = ['', tag];
    for (const a of args) values.push(this.writer.value(a));
    this.packet(values);
  }

  close(reason = 'disconnect'): void {
    if (this.closed) return;
    this.congested = false;
    this.flush();
    this.shutdown(atom(reason), false);
    this.io.close();
  }

  // ---- output ---------------------------------------------------------------------------

  private encode(op: DistOp): void {
    switch (op.op) {
      case 'send':
        return this.sendMessage(pidPortName(op.to), op.msg);
      case 'reg_send':
        return this.sendMessage(op.to.name, op.msg);
      case 'port_send':
        return this.sendMessage(op.to, op.msg);
      case 'monitor_p':
        if (this.monitors.watch(op.from, op.ref, op.to)) this.request('mon1', PortMonitors.portOf(op.to));
        return;
      case 'demonitor_p':
        if (this.monitors.unwatch(op.ref, op.to)) this.request('mon0', PortMonitors.portOf(op.to));
        return;
      case 'monitor_p_exit':
        // The peer's monitors of our ports are held by its stand-in (see nodePort 'mon1').
        if (op.to.id === 0 && op.to.node === this.peer) {
          const port = PortMonitors.portOf(op.from);
          this.monitors.unwatchedBy(port);
          this.request('kil0', port, ...reasonToWire(op.reason, this.dialect, `${this.opts.self.name}#${port}`));
          return;
        }
        break;
      case 'exit2':
        if (this.dialect === 'perl') {
          this.request('kil1', pidPortName(op.to), ...reasonToWire(op.reason, 'perl', ''));
          return;
        }
        break;
      case 'spawn_request':
        if (this.dialect === 'perl') {
          // Perl spawns by function name into a port, not a pid: not a remote spawn Courier can answer.
          this.opts.router.route({ op: 'spawn_reply', reqId: op.reqId, to: op.from, flags: 0, result: atom('notsup') }, this.peer);
          return;
        }
        break;
      default:
        break;
    }
    if (this.dialect === 'courier') {
      const fields = courierFields(op);
      this.request(`c_${op.op}`, ...fields);
    } else {
      this.log.debug({ op: op.op }, 'operation has no AEMP form for a Perl node; dropped');
    }
  }

  private packet(values: unknown[]): void {
    this.writer.packet(values);
    if (!this.flushQueued && !this.congested) {
      this.flushQueued = true;
      // Once per turn of the event loop, after every process woken by this turn's input has
      // answered: a microtask would flush after each message of a batch.
      setImmediate(this.flushNow);
    }
  }

  private readonly flushNow = (): void => this.flush();

  private flush(): void {
    this.flushQueued = false;
    if (this.closed || this.congested) return;
    const chunks = this.writer.take();
    if (chunks.length === 0) return;
    const ok = chunks.length === 1 ? this.io.write(chunks[0] as Uint8Array) : this.io.writev ? this.io.writev(chunks) : this.io.write(Buffer.concat(chunks));
    if (!ok) this.congested = true;
  }

  onDrain(): void {
    this.congested = false;
    this.flush();
  }

  // ---- input ----------------------------------------------------------------------------

  onData(chunk: Uint8Array): void {
    if (this.closed || chunk.length === 0) return;
    this.reader.push(chunk);
    try {
      for (let p = this.reader.next(); p !== undefined; p = this.closed ? undefined : this.reader.next()) this.dispatch(p);
    } catch (e) {
      if (!(e instanceof ProtocolError)) throw e;
      this.log.warn({ code: e.code, err: e.message }, 'bad packet from peer; closing');
      this.shutdown(atom('protocol_error'), true);
    }
  }

  private dispatch(p: Term[]): void {
    if (p.length === 0) return;
    const port = p[0];
    if (typeof port !== 'string') throw new ProtocolError('BAD_PACKET', 'a packet must start with a port name (a string)', 0);
    if (port === '') return this.nodePort(p);
    const msg = this.dialect === 'courier' && p.length === 2 ? p[1] : p.slice(1);
    const pid = pidOfPortName(this.opts.self, port);
    if (pid !== undefined) return this.route({ op: 'send', to: pid, msg });
    // A name no atom has is no registered process: the message is dropped, as Perl drops messages
    // to unknown ports, and the peer's port names never grow the atom table.
    const name = existingAtom(port);
    if (name !== undefined) this.route({ op: 'reg_send', from: this.standIn, to: name, msg });
  }

  private nodePort(p: Term[]): void {
    const tag = p[1];
    if (tag === undefined || tag === '') return;
    if (typeof tag !== 'string') throw new ProtocolError('BAD_PACKET', 'a node-port request must name its tag with a string', 0);
    const args = p.slice(2);
    const port = keyText(args[0]);
    switch (tag) {
      case 'mon1': {
        const target = pidOfPortName(this.opts.self, port) ?? existingAtom(port);
        if (target === undefined) {
          // No process is registered under a name no atom has: Perl's answer at once, no atom made.
          this.request('kil0', port, ...reasonToWire(atoms.noproc, this.dialect, `${this.opts.self.name}#${port}`));
          return;
        }
        const w = this.monitors.watchedBy(port, target);
        if (w !== undefined) this.route({ op: 'monitor_p', from: this.standIn, to: w.target, ref: w.ref });
        return;
      }
      case 'mon0': {
        const w = this.monitors.unwatchedBy(port);
        if (w !== undefined) this.route({ op: 'demonitor_p', from: this.standIn, to: w.target, ref: w.ref });
        return;
      }
      case 'kil0': {
        const reason = reasonFromWire(args.slice(1));
        for (const w of this.monitors.fired(port)) this.route({ op: 'monitor_p_exit', from: w.target, to: w.from, ref: w.ref, reason });
        return;
      }
      case 'kil1': {
        const name = existingAtom(port);
        const to = pidOfPortName(this.opts.self, port) ?? (name !== undefined ? this.opts.whereis(name) : undefined);
        if (to === undefined) return;
        // Perl's kil without a reason ends the port as a normal exit (Kernel.pm _kill: monitors get `()`).
        if (args.length > 1) this.route({ op: 'exit2', from: this.standIn, to, reason: reasonFromWire(args.slice(1)) });
        else if (this.opts.endNormally !== undefined) this.opts.endNormally(to);
        else this.route({ op: 'exit2', from: this.standIn, to, reason: atoms.kill });
        return;
      }
      default:
        if (this.dialect === 'courier' && isCourierTag(tag)) return this.route(courierOp(tag, args));
        this.opts.service.request(this, tag, args);
    }
  }

  private route(op: DistOp): void {
    try {
      this.opts.router.route(op, this.peer);
    } catch (e) {
      // A protocol violation (a signal from a pid not on this peer) closes the connection, in onData.
      if (e instanceof ProtocolError) throw e;
      this.log.error({ err: e, op: op.op }, 'routing an incoming operation failed');
    }
  }

  // ---- end ------------------------------------------------------------------------------

  onClose(error?: Error): void {
    if (this.closed) return;
    if (error !== undefined) this.log.debug({ err: error.message }, 'carrier closed with an error');
    this.shutdown(atom('connection_closed'), false);
  }

  private shutdown(reason: Atom, abort: boolean): void {
    if (this.closed) return;
    this.closed = true;
    if (abort) this.io.abort();
    this.opts.onClosed?.(this);
    this.opts.router.nodeDown(this.peer, reason, this);
  }
}
