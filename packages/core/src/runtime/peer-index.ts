import type { Atom } from '@courier/term';
import type { Process } from './process.js';

/**
 * The local processes that hold something toward each remote node — a link (active or being
 * unlinked), a monitor, a monitor from one of its processes (monitored-by), a node monitor — so
 * a nodedown touches those processes only, not every process of the node (OTP keeps the same
 * per-connection lists in its dist entry). Membership may outlive the state it was made for (an
 * unlink or demonitor leaves it; it goes when the process exits or that node goes down), never
 * the other way round: every place that adds such state adds the process here first.
 */
export class PeerIndex {
  private readonly byNode = new Map<Atom, Set<Process>>();

  /** `p` now holds state toward `peer` (a remote node). */
  add(p: Process, peer: Atom): void {
    if (!p.alive) return;
    let set = this.byNode.get(peer);
    if (set === undefined) this.byNode.set(peer, (set = new Set()));
    set.add(p);
    (p.peers ??= new Set()).add(peer);
  }

  /** `p` exited: it leaves every node's set. */
  drop(p: Process): void {
    const peers = p.peers;
    if (peers === undefined) return;
    p.peers = undefined;
    for (const peer of peers) {
      const set = this.byNode.get(peer);
      if (set === undefined) continue;
      set.delete(p);
      if (set.size === 0) this.byNode.delete(peer);
    }
  }

  /**
   * The processes indexed under `peer`, in spawn order (the order of the node's process table,
   * which nodedown handling has always followed); the index forgets `peer`.
   */
  take(peer: Atom): Process[] {
    const set = this.byNode.get(peer);
    if (set === undefined) return [];
    this.byNode.delete(peer);
    const list = [...set];
    let sorted = true;
    for (let i = 0; i < list.length; i++) {
      const p = list[i] as Process;
      p.peers?.delete(peer);
      if (i > 0 && spawnOrder(list[i - 1] as Process, p) > 0) sorted = false;
    }
    if (!sorted) list.sort(spawnOrder);
    return list;
  }

  /** How many processes are indexed under `peer` (for tests and observers). */
  size(peer: Atom): number {
    return this.byNode.get(peer)?.size ?? 0;
  }
}

/** Pids are handed out by increasing id, and by increasing serial once ids wrap (runtime/ids.ts). */
function spawnOrder(a: Process, b: Process): number {
  return a.pid.serial - b.pid.serial || a.pid.id - b.pid.id;
}
