import { Atom, Pid, Ref, ProtocolError, type Term } from '@courier/term';
import type { DistOp } from '@courier/core';

/**
 * Operations AEMP has no word for — links, exit/2 with its sender, aliases, remote spawn — travel
 * between Courier nodes (and only between them: both greetings carry `courier=1`) as node-port
 * requests `["", "c_<op>", fields…]` in the extended value mapping. Perl never receives them.
 * (`c_monitor_p_exit` is the DOWN of a monitor set up by a remote spawn, which has no port
 * monitor behind it; port monitors use mon1/mon0/kil0 with every peer.)
 */
export const COURIER_OPS = ['link', 'unlink_id', 'unlink_id_ack', 'exit', 'exit2', 'alias_send', 'spawn_request', 'spawn_reply', 'group_leader', 'monitor_p_exit'] as const;
type CourierOp = Extract<DistOp, { op: (typeof COURIER_OPS)[number] }>;

export const isCourierTag = (tag: string): boolean => tag.startsWith('c_') && (COURIER_OPS as readonly string[]).includes(tag.slice(2));

/** The fields of `op` in wire order (terms; the session maps them to wire values). */
export function courierFields(op: CourierOp): Term[] {
  switch (op.op) {
    case 'link':
    case 'group_leader':
      return [op.from, op.to];
    case 'unlink_id':
    case 'unlink_id_ack':
      return [op.id, op.from, op.to];
    case 'exit':
    case 'exit2':
      return [op.from, op.to, op.reason];
    case 'alias_send':
      return [op.from, op.alias, op.msg];
    case 'spawn_request':
      return [op.reqId, op.from, op.groupLeader, op.module, op.fun, op.args, op.opts];
    case 'spawn_reply':
      return [op.reqId, op.to, op.flags, op.result];
    case 'monitor_p_exit':
      return [op.from, op.to, op.ref, op.reason];
  }
}

/** The operation `["", tag, ...fields]` carries. Throws ProtocolError when a field has the wrong type. */
export function courierOp(tag: string, f: readonly Term[]): DistOp {
  const pid = (i: number): Pid => (f[i] instanceof Pid ? f[i] : bad(tag, i));
  const ref = (i: number): Ref => (f[i] instanceof Ref ? f[i] : bad(tag, i));
  const atm = (i: number): Atom => (f[i] instanceof Atom ? f[i] : bad(tag, i));
  const list = (i: number): Term[] => (Array.isArray(f[i]) ? f[i] : bad(tag, i));
  const id = (i: number): bigint => (typeof f[i] === 'bigint' || typeof f[i] === 'number' ? BigInt(f[i]) : bad(tag, i));
  switch (tag.slice(2)) {
    case 'link':
      return { op: 'link', from: pid(0), to: pid(1) };
    case 'group_leader':
      return { op: 'group_leader', from: pid(0), to: pid(1) };
    case 'unlink_id':
      return { op: 'unlink_id', id: id(0), from: pid(1), to: pid(2) };
    case 'unlink_id_ack':
      return { op: 'unlink_id_ack', id: id(0), from: pid(1), to: pid(2) };
    case 'exit':
      return { op: 'exit', from: pid(0), to: pid(1), reason: f[2] };
    case 'exit2':
      return { op: 'exit2', from: pid(0), to: pid(1), reason: f[2] };
    case 'alias_send':
      return { op: 'alias_send', from: pid(0), alias: ref(1), msg: f[2] };
    case 'spawn_request':
      return { op: 'spawn_request', reqId: ref(0), from: pid(1), groupLeader: pid(2), module: atm(3), fun: atm(4), args: list(5), opts: list(6) };
    case 'spawn_reply':
      return { op: 'spawn_reply', reqId: ref(0), to: pid(1), flags: Number(f[2]), result: f[3] };
    case 'monitor_p_exit':
      return { op: 'monitor_p_exit', from: f[0] instanceof Atom ? f[0] : pid(0), to: pid(1), ref: ref(2), reason: f[3] };
    default:
      return bad(tag, -1);
  }
}

function bad(tag: string, field: number): never {
  throw new ProtocolError('BAD_COURIER_OP', field < 0 ? `unknown Courier operation ${tag}` : `field ${field} of ${tag} has the wrong type`, 0);
}
