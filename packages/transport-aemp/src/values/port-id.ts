import { Pid, type Atom } from '@courier/term';

/**
 * AEMP port ids are `<nodeid>#<portname>` (node_of splits at the first `#`). A Courier process is
 * the port `~<id>.<serial>.<creation>` of its node; a registered process is also the port named
 * like its registered name. The node port is the empty name.
 */
export const PID_PORT_PREFIX = '~';

/** The AEMP port name of a Courier process: `~<id>.<serial>.<creation>`. */
export function pidPortName(pid: Pid): string {
  return `${PID_PORT_PREFIX}${pid.id}.${pid.serial}.${pid.creation}`;
}

/** The full AEMP port id of a Courier process: `<nodeid>#~<id>.<serial>.<creation>`. */
export function portIdOfPid(pid: Pid): string {
  return `${pid.node.name}#${pidPortName(pid)}`;
}

/** The pid a port name of `node` stands for, or undefined when it is not a pid's port name. */
export function pidOfPortName(node: Atom, name: string): Pid | undefined {
  if (name.charCodeAt(0) !== 0x7e) return undefined;
  const a = name.indexOf('.', 1);
  const b = a < 0 ? -1 : name.indexOf('.', a + 1);
  if (b < 0) return undefined;
  const id = Number(name.slice(1, a));
  const serial = Number(name.slice(a + 1, b));
  const creation = Number(name.slice(b + 1));
  if (!Number.isInteger(id) || !Number.isInteger(serial) || !Number.isInteger(creation) || id < 0 || serial < 0 || creation < 0) return undefined;
  return new Pid(node, id, serial, creation);
}

/** `nodeid#port` → [nodeid, port]; a string without `#` is a node id (its node port ""). */
export function splitPortId(id: string): [string, string] {
  const i = id.indexOf('#');
  return i < 0 ? [id, ''] : [id.slice(0, i), id.slice(i + 1)];
}
