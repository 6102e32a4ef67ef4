/**
 * AnyEvent::MP 2.x (AEMP) carrier: Courier nodes in Perl AnyEvent::MP networks.
 *
 * @packageDocumentation
 * @module @courier/transport-aemp
 */
export { aemp, AempTransport, DEFAULT_AEMP_HANDSHAKE_TIMEOUT_MS, type AempOptions } from './aemp-dist.js';
export { AempProtocol, type AempProtocolOptions } from './aemp-protocol.js';
export { AempHandshake, REFUSED, type AempHandshakeOptions, type AempHandshakeState, type AempDetails, type TlsRole } from './handshake/aemp-handshake.js';
export { AuthMethod, authData, authMessage, hmacSha3512Hex, sha3512Hex, cleartextHex } from './handshake/auth.js';
export { formatGreeting, parseGreeting, PROTOCOL, PROTOCOL_VERSION, type Greeting } from './handshake/greeting.js';
export { LineReader, MAX_HANDSHAKE_LINE } from './handshake/line-reader.js';
export { JsonSplitter } from './framing/json-splitter.js';
export { CborSplitter } from './framing/cbor-splitter.js';
export { StreamSplitter } from './framing/splitter.js';
export { parseJsonExact } from './framing/json-exact.js';
export { PacketReader, PacketWriter, FRAMINGS, isFraming, type Framing, type Dialect } from './framing/codec.js';
export { toPerl, fromPerlCbor, type BinaryStyle } from './values/natural.js';
export { toCourier, fromCourierJson, fromCourierCbor, JSON_TAGS, CBOR_TAGS } from './values/extended.js';
export { pidPortName, portIdOfPid, pidOfPortName, splitPortId } from './values/port-id.js';
export { AempSession, DEFAULT_MAX_PACKET_BYTES, type AempSessionOptions, type NodePortService } from './session/aemp-session.js';
export { NodeServices } from './session/node-services.js';
export { reasonFromWire, reasonToWire } from './session/reasons.js';
export { AempRegistry, type DbChange, type DbListener } from './global/registry.js';
export { addressResolver } from './address-resolver.js';
export { secureContext, startTls, type AempTlsOptions } from './tls.js';
export { dialTcp, listenTcp, parseHostPort, interfaceAddresses } from './dial.js';
