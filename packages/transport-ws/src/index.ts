export { WsCarrier, type WebSocketLike } from './ws-carrier.js';
export { WsDistTransport, wsDist, dialWs, type WsDistOptions } from './ws-dist.js';
export { DEFAULT_PATH, SUBPROTOCOL } from './subprotocol.js';
export { startGatewayRelay } from './gateway-relay.js';
export { startGateway, type Gateway, type GatewayOptions, type GatewayTarget } from './gateway.js';
