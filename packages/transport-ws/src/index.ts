export { WsCarrier, type WebSocketLike, type WsCarrierOptions } from './ws-carrier.js';
export { WsDistTransport, wsDist, dialWs, MAX_UPGRADE_HEADER_BYTES, type WsDistOptions } from './ws-dist.js';
export { DEFAULT_PATH, SUBPROTOCOL, MAX_WS_MESSAGE, MAX_WS_FRAGMENTS, MAX_WS_BUFFERED_CHUNKS } from './subprotocol.js';
export { UpgradeGate, type UpgradeGateOptions } from './upgrade-gate.js';
export { startGatewayRelay } from './gateway-relay.js';
export { startGateway, type Gateway, type GatewayOptions, type GatewayTarget } from './gateway.js';
