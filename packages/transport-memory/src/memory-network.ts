import type { Atom } from '@courier/term';
import { CarrierError, type CarrierFactory, type Resolver } from '@courier/core';
import { memoryCarrierPair, type MemoryCarrier, type MemoryCarrierOptions } from './memory-carrier.js';

/** Called with the acceptor's end of each new connection. */
export type MemoryAccept = (carrier: MemoryCarrier) => void;

/**
 * A process-local "network": node names that listen, and dials that reach them. It plays the
 * Resolver (the name is the address) and the CarrierFactory of the in-memory carrier.
 */
export class MemoryNetwork implements Resolver<Atom>, CarrierFactory<Atom> {
  private readonly listeners = new Map<Atom, MemoryAccept>();
  /** The dialer's end of every connection made, until it is seen closed. */
  private readonly made = new Set<MemoryCarrier>();

  constructor(readonly carrierOptions: MemoryCarrierOptions = {}) {}

  /** Accept connections to `name`. Fails with `ADDRESS_IN_USE` when someone listens there already. */
  listen(name: Atom, accept: MemoryAccept): void {
    if (this.listeners.has(name)) throw new CarrierError('ADDRESS_IN_USE', `${name.name} is already listening on this memory network`);
    this.listeners.set(name, accept);
  }

  /** Stop accepting for `name` (only if `accept` is the current listener, when given). */
  unlisten(name: Atom, accept?: MemoryAccept): void {
    if (accept === undefined || this.listeners.get(name) === accept) this.listeners.delete(name);
  }

  /** Whether a node named `name` listens on this network. */
  isListening(name: Atom): boolean {
    return this.listeners.has(name);
  }

  /** The node name is the address: one candidate, itself (whether anyone listens there is the dial's to find). */
  resolve(node: Atom): Promise<readonly Atom[]> {
    return Promise.resolve([node]);
  }

  /**
   * Connect to the listener `name`, on a later turn of the event loop (as a socket would).
   * Fails with `CONNECTION_REFUSED` when nobody listens there, `ABORTED` when `signal` fires first.
   */
  dial(name: Atom, _peer?: Atom, signal?: AbortSignal): Promise<MemoryCarrier> {
    return new Promise((resolve, reject) => {
      const aborted = (): CarrierError => new CarrierError('ABORTED', `the dial to ${name.name} was aborted`, { cause: signal?.reason });
      if (signal?.aborted) {
        reject(aborted());
        return;
      }
      setImmediate(() => {
        if (signal?.aborted) {
          reject(aborted());
          return;
        }
        const accept = this.listeners.get(name);
        if (accept === undefined) {
          reject(new CarrierError('CONNECTION_REFUSED', `nothing listens as ${name.name} on this memory network`));
          return;
        }
        const [mine, theirs] = memoryCarrierPair(this.carrierOptions, ['dialer', `memory:${name.name}`]);
        this.made.add(mine);
        accept(theirs);
        resolve(mine);
      });
    });
  }

  /** Connections made here and not closed yet, each counted once. */
  openConnections(): number {
    let n = 0;
    for (const c of this.made) {
      if (c.closed || c.peer.closed) this.made.delete(c);
      else n++;
    }
    return n;
  }
}
