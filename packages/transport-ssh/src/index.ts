/**
 * Courier over SSH: sshrpc-compatible RPC (subsystem sshrpc@k2r.org) and the Erlang distribution session inside an SSH channel, with SSH keys as node credentials.
 *
 * @packageDocumentation
 * @module @courier/transport-ssh
 */
import { SshTransport } from './distribution/ssh-transport.js';
import type { SshTransportOptions } from './options.js';

export { SshTransport, COURIER_SUBSYSTEM } from './distribution/ssh-transport.js';
export { sshDistHandshake, CHANNEL_COOKIE, type SshDistHandshakeOptions } from './distribution/handshake.js';
export { SSH_ROLES, type SshRole, type SshRoleKeys, type SshTransportOptions } from './options.js';
export { parseHostPort } from './options.js';
export { HostKeyError, SshRpcError, type HostKeyErrorCode } from './errors.js';
export { AuthorizedKeys, parseExpiry, type AuthorizedKey } from './keys/authorized-keys.js';
export { KnownHosts, hashName, hostNames, type HostCheck } from './keys/known-hosts.js';
export { HostTrust, type HostTrustOptions, type HostIdentity } from './keys/host-trust.js';
export { fingerprint, publicKeyText } from './keys/fingerprint.js';
export { SshChannelCarrier } from './ssh/channel-carrier.js';
export {
  SshDaemon,
  SSH_LOGIN_GRACE_MS,
  SSH_MAX_AUTH_TRIES,
  SSH_MAX_SESSIONS,
  type SshDaemonLimits,
  type SshDaemonOptions,
  type SubsystemContext,
  type SubsystemHandler,
  type OfferedSubsystem,
} from './ssh/daemon.js';
export type { RoleKeys } from './ssh/daemon-auth.js';
export { SshClientConnection, type DialOptions } from './ssh/client-connection.js';
export { SshRpcClient, SSHRPC_SUBSYSTEM, type SshRpcConnectOptions } from './sshrpc/client.js';
export { SshRpcServerChannel, DEFAULT_MAX_IN_FLIGHT_BYTES, type SshRpcServerOptions } from './sshrpc/server-channel.js';
export { AllowList, SpawnedPids, DEFAULT_MAX_SPAWNED, DEFAULT_MAX_SPAWNED_BYTES, type SshRpcPolicy, type SshRpcHost, type SshRpcHostLike } from './sshrpc/allow-list.js';
export { parseRequest, type Request } from './sshrpc/protocol.js';
export { serveSshRpcStdio, StdioCarrier, type SshRpcStdioOptions } from './sshrpc/stdio.js';

/** The SSH transport for a node: `new Node({ name, transports: [sshRpc({ hostKey, authorizedKeys, knownHosts })] })`. */
export function sshRpc(o: SshTransportOptions): SshTransport {
  return new SshTransport(o);
}
