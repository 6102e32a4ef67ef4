import type { Atom } from '@courier/term';
import type { Logger } from '@courier/core';
import type { HostTrust } from '../keys/host-trust.js';
import { SshClientConnection } from '../ssh/client-connection.js';

/**
 * The SSH connections a node dialed, one per peer: the distribution channel and sshrpc channels
 * to that peer share it. A connection closes when its last channel does (after a nodedown, a
 * lost simultaneous-connect race or a failed handshake), and is dialed again when needed.
 */
export class SshPool {
  private readonly conns = new Map<Atom, Promise<SshClientConnection>>();
  private readonly open = new Set<SshClientConnection>();

  constructor(private readonly opts: { readonly self: string; readonly privateKey: string | Buffer; readonly trust: HostTrust; readonly log: Logger }) {}

  get size(): number {
    return this.open.size;
  }

  get(peer: Atom, addr: { host: string; port: number }, timeoutMs: number, signal?: AbortSignal): Promise<SshClientConnection> {
    const known = this.conns.get(peer);
    if (known !== undefined) return known.then((c) => (c.isOpen ? c : this.dial(peer, addr, timeoutMs, signal)));
    return this.dial(peer, addr, timeoutMs, signal);
  }

  private dial(peer: Atom, addr: { host: string; port: number }, timeoutMs: number, signal?: AbortSignal): Promise<SshClientConnection> {
    const p = SshClientConnection.dial({
      ...addr,
      user: this.opts.self,
      privateKey: this.opts.privateKey,
      trust: this.opts.trust,
      node: peer.name,
      timeoutMs,
      signal,
      log: this.opts.log,
    });
    this.conns.set(peer, p);
    p.then(
      (c) => {
        c.closeWhenIdle = true;
        this.open.add(c);
        c.onClose(() => {
          this.open.delete(c);
          if (this.conns.get(peer) === p) this.conns.delete(peer);
        });
      },
      () => {
        if (this.conns.get(peer) === p) this.conns.delete(peer);
      },
    );
    return p;
  }

  closeAll(): void {
    for (const c of this.open) c.close();
    this.open.clear();
    this.conns.clear();
  }
}
