import { Pid, Ref, type Atom } from '@courier/term';
import { pidPortName } from '../values/port-id.js';

/** A monitor a local process holds on one of the peer's ports. */
interface Watch {
  readonly from: Pid;
  readonly ref: Ref;
  /** What the process monitored: the pid, or the name (as the DOWN reports it). */
  readonly target: Pid | Atom;
}

let refCount = 0;

/**
 * AEMP monitors are per port and per node (MP.pm mon, Node.pm:198-221): the first local monitor
 * of a peer's port sends `mon1`, the last one gone sends `mon0`, and one `kil0` fires them all.
 * Courier's monitors carry a reference each; this keeps both views of one connection:
 * `out` — our processes watching the peer's ports — and `in` — the peer watching ours, each as
 * one core monitor held by the peer's stand-in pid.
 */
export class PortMonitors {
  private readonly out = new Map<string, Map<Ref, Watch>>();
  private readonly in = new Map<string, { ref: Ref; target: Pid | Atom }>();

  constructor(private readonly peer: Atom) {}

  /** The port name of a pid or a registered name. */
  static portOf(target: Pid | Atom): string {
    return target instanceof Pid ? pidPortName(target) : target.name;
  }

  /** A local process monitors `target` on the peer. True when this is the port's first (send mon1). */
  watch(from: Pid, ref: Ref, target: Pid | Atom): boolean {
    const port = PortMonitors.portOf(target);
    let m = this.out.get(port);
    const first = m === undefined;
    if (m === undefined) this.out.set(port, (m = new Map<Ref, Watch>()));
    m.set(ref, { from, ref, target });
    return first;
  }

  /** Drop one monitor (matched by its ref's identity or key). True when the port has none left (send mon0). */
  unwatch(ref: Ref, target: Pid | Atom): boolean {
    const port = PortMonitors.portOf(target);
    const m = this.out.get(port);
    if (m === undefined) return false;
    for (const r of m.keys()) if (r === ref || sameRef(r, ref)) m.delete(r);
    if (m.size > 0) return false;
    this.out.delete(port);
    return true;
  }

  /** The peer's port died (kil0): every monitor on it, removed. */
  fired(port: string): Watch[] {
    const m = this.out.get(port);
    if (m === undefined) return [];
    this.out.delete(port);
    return [...m.values()];
  }

  /** The peer monitors our `port`, which is `target` (mon1): the core monitor to set up, or undefined if it does already. */
  watchedBy(port: string, target: Pid | Atom): { ref: Ref; target: Pid | Atom } | undefined {
    if (this.in.has(port)) return undefined;
    const w = { ref: new Ref(this.peer, 0, [++refCount & 0x3ffff, Math.floor(refCount / 0x40000), 0]), target };
    this.in.set(port, w);
    return w;
  }

  /** The peer stops monitoring `port` (mon0), or our kil0 for it went out. */
  unwatchedBy(port: string): { ref: Ref; target: Pid | Atom } | undefined {
    const w = this.in.get(port);
    this.in.delete(port);
    return w;
  }
}

function sameRef(a: Ref, b: Ref): boolean {
  return a.node === b.node && a.creation === b.creation && a.ids.length === b.ids.length && a.ids.every((x, i) => x === b.ids[i]);
}
