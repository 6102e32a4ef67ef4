import { Pid, Tuple, atoms } from '@courier/term';
import { isNormal, isShutdown, reasonText } from './exit-reason.js';
import { pidKey } from './keys.js';
import { TIMEOUT } from './mailbox.js';
import { _, ptuple } from './pattern.js';
import type { Child, SupState } from './supervisor-server.js';

export const isPermanent = (c: Child): boolean => (c.spec.restart ?? 'permanent') === 'permanent';

/** How a supervisor stops its children (supervisor.erl's shutdown/1 and terminate_dynamic_children/1). */

/** Stop every child: static ones newest first, dynamic ones all at once (terminate_dynamic_children). */
export async function terminateAll(st: SupState): Promise<void> {
  if (st.simple) {
    const kids = [...st.dynamic.values()];
    st.dynamic.clear();
    await Promise.all(kids.map((c) => shutdownChild(st, c)));
    return;
  }
  for (const c of [...st.children].reverse()) {
    await shutdownChild(st, c);
    c.pid = undefined;
  }
}

/**
 * shutdown/1 of supervisor.erl: monitor, `exit(Pid, shutdown)`, wait `shutdown` ms for the DOWN,
 * then `kill` (`brutal_kill`: kill at once). A monitor, not the link, tells the outcome, so a
 * child that unlinked cannot hang the supervisor. The link's EXIT is dropped.
 */
export async function shutdownChild(st: SupState, c: Child): Promise<void> {
  const pid = c.pid;
  if (!(pid instanceof Pid)) return;
  const self = st.self;
  const mref = self.monitor(pid);
  const down = ptuple(atoms.DOWN, mref, _, _, _);
  const shutdown = c.spec.shutdown ?? (c.spec.type === 'supervisor' ? 'infinity' : 5000);
  self.exit(pid, shutdown === 'brutal_kill' ? atoms.kill : atoms.shutdown);
  let r = await self.receive(down, shutdown === 'infinity' || shutdown === 'brutal_kill' ? Infinity : shutdown);
  if (r === TIMEOUT) {
    self.exit(pid, atoms.kill);
    r = await self.receive(down);
  }
  self.unlink(pid);
  const k = pidKey(pid);
  const exit = self.tryReceive((m) => m instanceof Tuple && m.elements.length === 3 && m.elements[0] === atoms.EXIT && m.elements[1] instanceof Pid && pidKey(m.elements[1]) === k);
  const reason = exit !== TIMEOUT ? (exit as Tuple).elements[2] : (r as Tuple).elements[4];
  const expected = reason === atoms.shutdown || (shutdown === 'brutal_kill' && reason === atoms.killed) || (!isPermanent(c) && (isNormal(reason) || isShutdown(reason)));
  if (!expected) self.node.log.error({ supervisor: self.pid.toString(), child: c.spec.id, reason: reasonText(reason) }, 'child shutdown error');
}
