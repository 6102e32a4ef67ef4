/**
 * @courier/transport-tcp — the Erlang distribution over TCP, as `inet_tcp_dist`: EPMD (client,
 * resolver, an embedded server), the listener and the socket carrier. The protocol itself (the
 * handshake, the session) is @courier/erl-dist's; the connection sequence is core's pipeline.
 *
 * @packageDocumentation
 * @module @courier/transport-tcp
 */
export { tcpDist, tcpLayer, ErlDistTransport, type DistLayer, type ErlDistOptions } from './erl-dist-transport.js';
export { epmdResolver, fixedPortResolver, splitNodeName, type DistAddress } from './epmd/epmd-resolver.js';
export { EpmdServer } from './epmd/server.js';
export { defaultEpmdPort, names, portPlease, register, type EpmdAddress, type Registration } from './epmd/client.js';
/**
 * EPMD wire messages (erl_dist_protocol "EPMD Protocol"): tags, node types, and the encoders and parsers of
 * requests and responses. Requests carry a 2-byte length; responses do not; integers are big-endian.
 */
export * as epmdMessages from './epmd/messages.js';
