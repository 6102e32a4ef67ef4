import { readFileSync } from 'node:fs';
import { ResolveError, UsageError, type Logger } from '@courier/core';
import type { Atom } from '@courier/term';
import { AuthorizedKeys } from './keys/authorized-keys.js';
import type { HostTrustOptions } from './keys/host-trust.js';
import type { SshRpcPolicy } from './sshrpc/allow-list.js';
import type { SshDaemonLimits } from './ssh/daemon.js';

/** Options of the SSH transport ({@link sshRpc}). */
export interface SshTransportOptions extends HostTrustOptions {
  /** The node's private key: its host key as a daemon and its user key when dialing. Text, or a file path. */
  readonly hostKey: string | Buffer;
  /** Another key to log in with when dialing (default: the host key). */
  readonly userKey?: string | Buffer;
  /**
   * Who may log in, and to do what: one OpenSSH authorized_keys file (path; re-read when it
   * changes) or table per role, `{ sshrpc, dist }`. `sshrpc` keys may call what the allow-list
   * permits (`sshrpc@k2r.org`); `dist` keys get the Courier distribution subsystem, i.e. full node
   * access (send, link, exit to any process); a key in both files has both. A single file or table
   * means sshrpc only (the node warns at start that it no longer grants dist). Each key's comment
   * is the node name it may claim.
   */
  readonly authorizedKeys: string | AuthorizedKeys | SshRoleKeys;
  /** Where the daemon listens; `false`: no daemon (dial only). Default: loopback (127.0.0.1), an ephemeral port. */
  readonly listen?: false | { readonly host?: string; readonly port?: number };
  /** Where peers listen: `{ 'b@host': 'host:port' }`. Others: their node name's host, at `peerPort`. */
  readonly peers?: Readonly<Record<string, string>>;
  /** Port of peers not in `peers`. Default: the port this node listens on. */
  readonly peerPort?: number;
  /**
   * What sshrpc peers may call (default: what the node exposes); `false`: no sshrpc subsystem.
   * Per channel: `maxFrame` (16 MiB), `maxInFlight` calls (1,024) and `maxInFlightBytes` of them
   * (1 MiB); per connection, `maxSpawned` live processes from `{spawn, …}` (1,024) and
   * `maxSpawnedBytes` of their requests (16 MiB). docs/limits.md.
   */
  readonly sshrpc?:
    | false
    | (SshRpcPolicy & {
        readonly maxFrame?: number;
        readonly maxInFlight?: number;
        readonly maxInFlightBytes?: number;
        readonly maxSpawned?: number;
        readonly maxSpawnedBytes?: number;
      });
  /** The daemon's limits on peers: login grace time, MaxStartups, MaxAuthTries, MaxSessions (docs/limits.md). */
  readonly daemonLimits?: SshDaemonLimits;
  /** Listed by peers' nodes()? Default visible (false). */
  readonly hidden?: boolean;
  /** SSH set-up plus the distribution handshake must finish within this (net_setuptime). Default 7000 ms. */
  readonly handshakeTimeoutMs?: number;
  readonly netTicktime?: number;
  /** Largest distribution frame accepted. Default 64 MiB (DEFAULT_MAX_TERM_BYTES). */
  readonly maxMessage?: number;
  /** Output bytes queued per connection past which it is busy (dist_buf_busy_limit). Default 1 MiB. */
  readonly busyLimit?: number;
  readonly log?: Logger;
}

/** The roles an SSH key may carry, each with its own authorized_keys file or table. */
export const SSH_ROLES = ['sshrpc', 'dist'] as const;
/** A role an SSH key may carry: `sshrpc` (calls) or `dist` (the Courier distribution). */
export type SshRole = (typeof SSH_ROLES)[number];
/** The authorized keys of each role: a file path or a parsed {@link AuthorizedKeys}. */
export type SshRoleKeys = { readonly [R in SshRole]?: string | AuthorizedKeys };

/** `authorizedKeys` as one entry per role; `single` when it was one file or table (sshrpc only). */
export function roleKeys(given: SshTransportOptions['authorizedKeys']): { readonly roles: SshRoleKeys; readonly single: boolean } {
  if (typeof given === 'string' || given instanceof AuthorizedKeys) return { roles: { sshrpc: given }, single: true };
  for (const k of Object.keys(given)) {
    if (!(SSH_ROLES as readonly string[]).includes(k)) throw new UsageError('SSH_ROLE', `authorizedKeys.${k}: unknown role (the roles are ${SSH_ROLES.join(', ')})`);
  }
  return { roles: given, single: false };
}

/** Key material given inline (PEM / OpenSSH text) or as a file path. */
export function keyText(k: string | Buffer, what: string): string | Buffer {
  if (Buffer.isBuffer(k) || k.includes('-----BEGIN')) return k;
  try {
    return readFileSync(k);
  } catch (err) {
    throw new UsageError('SSH_KEY_FILE', `cannot read the ${what} ${k}: ${(err as Error).message}`, { cause: err });
  }
}

/** `host:port` or `[v6]:port`. */
export function parseHostPort(s: string, what: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(s.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || !(port >= 0 && port < 65536)) throw new UsageError('SSH_ADDRESS', `${what} ${JSON.stringify(s)} is not host:port`);
  return { host: (m[1] ?? m[2]) as string, port };
}

/** Where `peer` listens: the `peers` table, else its host part at `port`. */
export function peerAddress(peer: Atom, peers: Readonly<Record<string, string>> | undefined, port: number | undefined): { host: string; port: number } {
  const listed = peers?.[peer.name];
  if (listed !== undefined) return parseHostPort(listed, `the address of ${peer.name}`);
  const at = peer.name.indexOf('@');
  if (at <= 0 || at === peer.name.length - 1) throw new ResolveError('BAD_NODE_NAME', `${peer.name} is not a node name of the form alive@host`);
  if (port === undefined) throw new ResolveError('NO_ADDRESS', `no address for ${peer.name}: list it in peers, or set peerPort`);
  return { host: peer.name.slice(at + 1), port };
}
