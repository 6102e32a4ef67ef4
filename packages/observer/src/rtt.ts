import { Tuple, atom, type Atom, type Term } from '@courier/term';
import { TIMEOUT, refKey, type Node, type Process } from '@courier/core';

const NET_KERNEL = atom('net_kernel');
const IS_AUTH = atom('is_auth');
const GEN_CALL = atom('$gen_call');

/**
 * Round-trip time to each peer, sampled: every `intervalMs` one `{is_auth, Node}` call to the
 * peer's net_kernel (what net_adm:ping sends; Erlang and Courier's Erlang carriers answer it),
 * one peer after another. A peer that does not answer within `timeoutMs` has no RTT.
 */
export class RttProbe {
  /** Last measured round trip, ms, by peer. */
  readonly rtt = new Map<Atom, number>();
  private stopped = false;
  private proc: Process | undefined;

  constructor(
    private readonly node: Node,
    private readonly intervalMs: number,
    private readonly timeoutMs = 2000,
  ) {}

  /** Starts probing: one process that pings each connected peer in turn, every interval. */
  start(): void {
    this.node.spawn(async (self) => {
      this.proc = self;
      while (!this.stopped) {
        for (const peer of this.node.nodes('all')) {
          if (this.stopped) break;
          const ms = await this.ping(self, peer);
          if (ms === undefined) this.rtt.delete(peer);
          else this.rtt.set(peer, ms);
        }
        for (const p of [...this.rtt.keys()]) if (!this.node.dist.isUp(p)) this.rtt.delete(p);
        if ((await self.receive(undefined, this.intervalMs)) !== TIMEOUT) continue;
      }
    });
  }

  private async ping(self: Process, peer: Atom): Promise<number | undefined> {
    const ref = this.node.makeRef();
    const t0 = performance.now();
    self.send({ name: NET_KERNEL, node: peer }, new Tuple([GEN_CALL, new Tuple([self.pid, ref]), new Tuple([IS_AUTH, this.node.name])]));
    const key = refKey(ref);
    const isReply = (m: Term): boolean => {
      const r = m instanceof Tuple && m.elements.length === 2 ? m.elements[0] : undefined;
      return r !== undefined && typeof r === 'object' && r !== null && 'ids' in r && refKey(r as typeof ref) === key;
    };
    const r = await self.receive(isReply, this.timeoutMs);
    return r === TIMEOUT ? undefined : performance.now() - t0;
  }

  /** Stops probing. */
  stop(): void {
    this.stopped = true;
    if (this.proc?.alive) this.node.exitSignal(undefined, this.proc.pid, atom('kill'));
  }
}
