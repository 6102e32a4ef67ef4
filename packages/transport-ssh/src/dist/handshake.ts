import type { Atom } from '@courier/term';
import type { HandshakeArbiter } from '@courier/core';
import { ErlHandshake } from '@courier/transport-tcp';

/**
 * The handshake run inside a Courier distribution channel: the Erlang distribution handshake
 * (version 6, 4-byte lengths as over TLS), for what it carries besides the cookie — node names,
 * creations, capability flags and net_kernel's arbitration of simultaneous connects.
 *
 * SSH has already authenticated both ends by then (host key pinned for the node, client key
 * bound to its node name), so the cookie is a fixed value; what the handshake adds is the binding
 * of names: the acceptor refuses (`not_allowed`) a peer whose name is not the SSH user it logged
 * in as, and the initiator refuses a peer that is not the node it dialed (`NAME_MISMATCH`).
 */
export const CHANNEL_COOKIE = 'courier-ssh-channel';

export interface SshDistHandshakeOptions {
  readonly role: 'initiator' | 'acceptor';
  readonly self: Atom;
  readonly creation: number;
  /** Initiator: the node dialed. */
  readonly peer?: Atom;
  /** Acceptor: the node name SSH authenticated (the login user, bound to the key). */
  readonly identity?: string;
  readonly arbiter?: HandshakeArbiter;
  readonly hidden: boolean;
  /** The cookie both ends use; default {@link CHANNEL_COOKIE}. */
  readonly cookie?: string;
  /** Told when a peer claims a name other than its SSH identity. */
  readonly onMismatch?: (claimed: Atom) => void;
}

export function sshDistHandshake(o: SshDistHandshakeOptions): ErlHandshake {
  const inner = o.arbiter;
  const arbiter: HandshakeArbiter | undefined =
    o.role === 'acceptor'
      ? {
          acceptPending(peer) {
            if (o.identity !== undefined && peer.name !== o.identity) {
              o.onMismatch?.(peer);
              return 'not_allowed';
            }
            return inner?.acceptPending(peer) ?? 'ok';
          },
        }
      : undefined;
  const cookie = o.cookie ?? CHANNEL_COOKIE;
  return new ErlHandshake({
    role: o.role,
    self: o.self,
    creation: o.creation,
    peer: o.peer,
    cookie: () => cookie,
    hidden: o.hidden,
    arbiter,
    lengthBytes: 4,
  });
}
