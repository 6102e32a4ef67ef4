import type { Atom, Pid, Ref, Term } from '@courier/term';
import type { Session } from './session.js';

/**
 * The operations that cross between nodes: one variant per Erlang distribution control message
 * (erl_dist_protocol, "Protocol between connected nodes"). A session decodes frames into these
 * and calls `router.route(op)`; the node hands them to a session with `session.send(op)`.
 * The `_TT` (trace token) variants are folded into their plain forms: Courier does not trace.
 *
 * | op              | Erlang control message                       |
 * |-----------------|----------------------------------------------|
 * | send            | SEND (2) / SEND_SENDER (22)                  |
 * | reg_send        | REG_SEND (6)                                 |
 * | alias_send      | ALIAS_SEND (33)                              |
 * | link            | LINK (1)                                     |
 * | unlink_id       | UNLINK_ID (35)                               |
 * | unlink_id_ack   | UNLINK_ID_ACK (36)                           |
 * | exit            | EXIT (3) / PAYLOAD_EXIT (24): a link broke   |
 * | exit2           | EXIT2 (8) / PAYLOAD_EXIT2 (26): exit/2       |
 * | monitor_p       | MONITOR_P (19)                               |
 * | demonitor_p     | DEMONITOR_P (20)                             |
 * | monitor_p_exit  | MONITOR_P_EXIT (21) / PAYLOAD_MONITOR_P_EXIT |
 * | spawn_request   | SPAWN_REQUEST (29)                           |
 * | spawn_reply     | SPAWN_REPLY (31)                             |
 * | group_leader    | GROUP_LEADER (7)                             |
 * | port_send       | REG_SEND (6), the port name as the atom      |
 *
 * `port_send` is a send to a named port of the peer given as a string (an AEMP port name, the
 * part after `#` of a port id), so that a carrier whose peers name ports freely (Perl makes a
 * fresh name for every reply port) need not make an atom of each. A carrier that addresses
 * processes by registered name only (Erlang) sends it as REG_SEND.
 */
export type DistOp =
  | { readonly op: 'send'; readonly from?: Pid; readonly to: Pid; readonly msg: Term }
  | { readonly op: 'reg_send'; readonly from: Pid; readonly to: Atom; readonly msg: Term }
  | { readonly op: 'alias_send'; readonly from: Pid; readonly alias: Ref; readonly msg: Term }
  | { readonly op: 'link'; readonly from: Pid; readonly to: Pid }
  | { readonly op: 'unlink_id'; readonly id: bigint; readonly from: Pid; readonly to: Pid }
  | { readonly op: 'unlink_id_ack'; readonly id: bigint; readonly from: Pid; readonly to: Pid }
  | { readonly op: 'exit'; readonly from: Pid; readonly to: Pid; readonly reason: Term }
  | { readonly op: 'exit2'; readonly from: Pid; readonly to: Pid; readonly reason: Term }
  | { readonly op: 'monitor_p'; readonly from: Pid; readonly to: Pid | Atom; readonly ref: Ref }
  | { readonly op: 'demonitor_p'; readonly from: Pid; readonly to: Pid | Atom; readonly ref: Ref }
  | {
      readonly op: 'monitor_p_exit';
      /** The monitored process: a pid, or the name it was monitored by. */
      readonly from: Pid | Atom;
      readonly to: Pid;
      readonly ref: Ref;
      readonly reason: Term;
    }
  | {
      readonly op: 'spawn_request';
      readonly reqId: Ref;
      readonly from: Pid;
      readonly groupLeader: Pid;
      readonly module: Atom;
      readonly fun: Atom;
      readonly args: Term[];
      /** Erlang spawn options as sent: `link`, `monitor`, `{reply, yes|no|error_only|success_only}`, … */
      readonly opts: Term[];
    }
  | {
      readonly op: 'spawn_reply';
      readonly reqId: Ref;
      readonly to: Pid;
      /** Bit 0: a link was set up; bit 1: a monitor was set up. */
      readonly flags: number;
      /** The new pid, or an error reason atom such as `notsup`, `badopt`, `noconnection`. */
      readonly result: Pid | Term;
    }
  | { readonly op: 'group_leader'; readonly from: Pid; readonly to: Pid }
  | { readonly op: 'port_send'; readonly from: Pid; readonly to: string; readonly msg: Term };

/** The name of a {@link DistOp} (`send`, `reg_send`, `link`, …). */
export type DistOpName = DistOp['op'];

/** The router edge: what a session calls on the node, one method a direction. */
export interface Router {
  /**
   * An operation arrived from `peer`. Throws a `ProtocolError` when the operation itself breaks
   * the protocol — code `FOREIGN_SENDER`: a LINK, UNLINK_ID(_ACK), EXIT, EXIT2, MONITOR_P,
   * DEMONITOR_P or SPAWN_REQUEST whose sending pid is not a process of `peer` (OTP's dist.c kills
   * the connection on these). A session treats it as any protocol error of its own: it closes that
   * connection and logs a `warn`; the node and its other connections carry on.
   */
  route(op: DistOp, peer: Atom): void;
  /**
   * The connection to `peer` is gone; fire `noconnection` to links and monitors across it.
   * A session passes itself, so a report from a connection that is no longer the peer's current
   * one (replaced, or surplus after a simultaneous connect) is ignored.
   */
  nodeDown(peer: Atom, reason: Term, session?: Session): void;
}
