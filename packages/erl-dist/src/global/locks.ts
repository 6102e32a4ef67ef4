import { Atom, Tuple, type Term } from '@courier/term';
import type { Process } from '@courier/core';
import { multiCall } from './multi-call.js';
import type { GlobalTables } from './tables.js';
import { A, t, theBoss } from './wire.js';

/**
 * The client side of global's locks (global.erl's set_lock/4, set_lock_on_nodes/2, del_lock/2,
 * set_lock_known/2, delete_global_lock/2): a lock `{ResourceId, LockRequesterId}` is set by a
 * multi_call of `{set_lock, Id}` to the name server of every node, held by the calling process
 * (each server monitors it) and taken back by `{del_lock, Id}`.
 */
export type LockId = Tuple;
export type Retries = number | 'infinity';

export function lockId(resourceId: Term, requesterId: Term): LockId {
  return t(resourceId, requesterId);
}

/** set_lock(Id, Nodes, Retries): true once every node holds it, false after the retries. */
export async function setLock(self: Process, tables: GlobalTables, id: LockId, nodes: readonly Atom[], retries: Retries, times = 1): Promise<boolean> {
  for (;;) {
    if (nodes.length === 0) return true;
    if (await setLockOnNodes(self, tables, id, nodes)) return true;
    if (retries === 0) return false;
    await randomSleep(self, times);
    retries = retries === 'infinity' ? retries : retries - 1;
    times++;
  }
}

export async function setLockOnNodes(self: Process, tables: GlobalTables, id: LockId, nodes: readonly Atom[]): Promise<boolean> {
  if (nodes.length === 0) return true;
  // Probe the local lock first: no use asking the others when this node refuses.
  if (nodes.length > 1 && nodes.includes(self.node.name)) {
    const [rid, req] = id.elements as [Term, Term];
    if (tables.canSetLock(rid, req) === false) return false;
  }
  const { replies } = await multiCall(self, nodes, t(A.setLock, id));
  // check_replies/3: one `false` and the nodes that said true are asked to let go again.
  if (replies.every(([, r]) => r === true)) return true;
  if (replies.length > 1) {
    const yes = replies.filter(([, r]) => r === true).map(([n]) => n);
    await multiCall(self, yes, t(A.delLock, id));
  }
  return false;
}

export async function delLock(self: Process, id: LockId, nodes: readonly Atom[]): Promise<void> {
  await multiCall(self, nodes, t(A.delLock, id));
}

/** The boss's lock goes last, to reduce the risk of others failing after having locked the boss. */
export async function deleteGlobalLock(self: Process, id: LockId, nodes: readonly Atom[]): Promise<void> {
  const boss = theBoss(nodes);
  await delLock(
    self,
    id,
    nodes.filter((n) => n !== boss),
  );
  await delLock(self, id, [boss]);
}

/**
 * set_lock_known/2: global's own lock on this node and every node the name server knows, making
 * sure no node became known meanwhile. Returns the nodes locked (this one first). `known` asks the
 * server (get_known), so it answers after the nodeups and nodedowns already in its mailbox.
 */
export async function setLockKnown(self: Process, tables: GlobalTables, id: LockId, known: () => Promise<Atom[]>): Promise<Atom[]> {
  for (let times = 0; ; times++) {
    const k = await known();
    const nodes = [self.node.name, ...k];
    const boss = theBoss(nodes);
    if (await setLockOnNodes(self, tables, id, [boss])) {
      if ((await setLockOnNodes(self, tables, id, nodes)) && (await known()).every((n) => k.includes(n))) return nodes;
      await delLock(self, id, [boss]);
    }
    await randomSleep(self, times);
  }
}

/** random_sleep/1: a quarter second the first time, doubling up to eight seconds. */
export async function randomSleep(self: Process, times: number): Promise<void> {
  const tmax = times > 5 ? 8000 : ((1 << times) * 1000) / 8;
  await self.sleep(1 + Math.floor(Math.random() * tmax));
}
