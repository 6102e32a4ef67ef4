import { ProtocolError } from '@courier/term';

/**
 * Operation numbers of the Erlang distribution control messages (erl_dist_protocol.md,
 * "Protocol between connected nodes"; erts/emulator/beam/dist.h `DOP_*`).
 */
export const ControlOp = {
  LINK: 1,
  SEND: 2,
  EXIT: 3,
  /** Obsolete (replaced by UNLINK_ID); not decoded. */
  UNLINK: 4,
  /** Ancient, unused; not decoded. */
  NODE_LINK: 5,
  REG_SEND: 6,
  GROUP_LEADER: 7,
  EXIT2: 8,
  SEND_TT: 12,
  EXIT_TT: 13,
  REG_SEND_TT: 16,
  EXIT2_TT: 18,
  MONITOR_P: 19,
  DEMONITOR_P: 20,
  MONITOR_P_EXIT: 21,
  SEND_SENDER: 22,
  SEND_SENDER_TT: 23,
  PAYLOAD_EXIT: 24,
  PAYLOAD_EXIT_TT: 25,
  PAYLOAD_EXIT2: 26,
  PAYLOAD_EXIT2_TT: 27,
  PAYLOAD_MONITOR_P_EXIT: 28,
  SPAWN_REQUEST: 29,
  SPAWN_REQUEST_TT: 30,
  SPAWN_REPLY: 31,
  SPAWN_REPLY_TT: 32,
  ALIAS_SEND: 33,
  ALIAS_SEND_TT: 34,
  UNLINK_ID: 35,
  UNLINK_ID_ACK: 36,
  /** OTP 28, sent only to peers advertising DFLAG_ALTACT_SIG, which Courier does not; not decoded. */
  ALTACT_SIG_SEND: 37,
} as const;
export type ControlOp = (typeof ControlOp)[keyof typeof ControlOp];

/** Codes of the errors {@link decodeControl} raises. */
export const ControlErrorCode = {
  /** The control message (or its payload) does not have the shape its operation requires. */
  BAD_CONTROL: 'BAD_CONTROL',
  /** A well-formed control tuple whose operation number Courier does not handle: log and ignore. */
  UNKNOWN_CONTROL: 'UNKNOWN_CONTROL',
} as const;
export type ControlErrorCode = (typeof ControlErrorCode)[keyof typeof ControlErrorCode];

/** A malformed control message: the peer broke the protocol, the connection should close. */
export class BadControlError extends ProtocolError {
  constructor(message: string) {
    super(ControlErrorCode.BAD_CONTROL, message, 0);
  }
}

/**
 * A control message with an operation number Courier does not handle (obsolete UNLINK and
 * NODE_LINK, OTP 28's ALTACT_SIG_SEND, or anything newer). Sessions log it and carry on.
 */
export class UnknownControlError extends ProtocolError {
  constructor(readonly op: number) {
    super(ControlErrorCode.UNKNOWN_CONTROL, `unknown distribution control operation ${op}`, 0);
  }
}
