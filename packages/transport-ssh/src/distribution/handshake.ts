import type { Atom } from '@courier/term';
import type { HandshakeArbiter, Protocol } from '@courier/core';
import { ErlHandshake, erlProtocol } from '@courier/erl-dist';

/**
 * What is spoken inside a Courier distribution channel: the Erlang distribution handshake
 * (version 6, 4-byte lengths as over TLS) and session, for what the handshake carries besides the
 * cookie — node names, creations, capability flags and net_kernel's arbitration of simultaneous
 * connects.
 *
 * SSH has already authenticated both ends by then (host key pinned for the node, client key
 * bound to its node name), so the cookie is a fixed value; what the handshake adds is the binding
 * of names: the acceptor refuses (`not_allowed`) a peer whose name is not the SSH user it logged
 * in as, and the initiator refuses a peer that is not the node it dialed (`NAME_MISMATCH`).
 */
export const CHANNEL_COOKIE = 'courier-ssh-channel';

/** Acceptor: wrap the node's arbiter to refuse a peer whose handshake names another node than `login`. */
export function loginArbiter(login: string | undefined, onMismatch?: (claimed: Atom) => void): (inner: HandshakeArbiter) => HandshakeArbiter {
  return (inner) => ({
    acceptPending(peer) {
      if (login !== undefined && peer.name !== login) {
        onMismatch?.(peer);
        return 'not_allowed';
      }
      return inner.acceptPending(peer);
    },
  });
}

export interface SshDistProtocolOptions {
  readonly self: Atom;
  readonly creation: number;
  readonly hidden: boolean;
  readonly netTicktime?: number;
  readonly maxMessage?: number;
  /** Output bytes queued per connection past which it is busy (dist_buf_busy_limit). Default 1 MiB. */
  readonly busyLimit?: number;
  /** Acceptor: the node name SSH authenticated (the login user, bound to the key). */
  readonly login?: string;
  /** Told when a peer claims a name other than its SSH login. */
  readonly onMismatch?: (claimed: Atom) => void;
}

/** The protocol of a distribution channel; one per accepted channel, as its login differs. */
export function sshDistProtocol(o: SshDistProtocolOptions): Protocol {
  return erlProtocol({
    self: o.self,
    creation: o.creation,
    cookie: () => CHANNEL_COOKIE,
    hidden: o.hidden,
    lengthBytes: 4,
    carrierName: 'ssh',
    netTicktime: o.netTicktime,
    maxMessage: o.maxMessage,
    busyLimit: o.busyLimit,
    arbiter: o.login === undefined ? undefined : loginArbiter(o.login, o.onMismatch),
  });
}

/**
 * Options of the Courier distribution handshake inside an SSH channel: the role, our name and creation, the
 * peer dialed or the identity SSH authenticated, hidden or visible.
 */
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

const AGREE: HandshakeArbiter = { acceptPending: () => 'ok' };

/** One handshake of a distribution channel outside a node (a client of the subsystem, tests). */
export function sshDistHandshake(o: SshDistHandshakeOptions): ErlHandshake {
  const cookie = o.cookie ?? CHANNEL_COOKIE;
  return new ErlHandshake({
    role: o.role,
    self: o.self,
    creation: o.creation,
    peer: o.peer,
    cookie: () => cookie,
    hidden: o.hidden,
    arbiter: o.role === 'acceptor' ? loginArbiter(o.identity, o.onMismatch)(o.arbiter ?? AGREE) : undefined,
    lengthBytes: 4,
  });
}
