/**
 * The Erlang handshake and distribution session without EPMD, sockets or node:crypto: what a
 * carrier that brings its own byte layer reuses, in Node or in a browser (@courier/transport-ws).
 */
export { ErlHandshake, genDigest, type ErlHandshakeOptions } from './handshake/machine.js';
export { DFLAG, COURIER_FLAGS, expandFlags, missingFlags } from './handshake/flags.js';
export { ErlSession, type ErlSessionOptions } from './dist/session.js';
