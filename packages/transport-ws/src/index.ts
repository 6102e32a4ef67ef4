/**
 * The Courier distribution (Erlang handshake and session) over WebSocket binary messages; a gateway accepts browser nodes.
 *
 * @packageDocumentation
 * @module @courier/transport-ws
 */
export { WsCarrier, type WebSocketLike, type WsCarrierOptions } from './ws-carrier.js';
export { WsDistTransport, wsDist, dialWs, MAX_UPGRADE_HEADER_BYTES, type WsDistOptions } from './ws-dist.js';
export { DEFAULT_PATH, SUBPROTOCOL, PAGE_SUBPROTOCOL, PAGE_CLOSE, MAX_WS_MESSAGE, MAX_WS_FRAGMENTS, MAX_WS_BUFFERED_CHUNKS, type PageWelcome } from './subprotocol.js';
export { UpgradeGate, type UpgradeGateOptions } from './upgrade-gate.js';
export { startGatewayRelay } from './gateway-relay.js';
export { startGateway, type Gateway, type GatewayOptions, type GatewayTarget } from './gateway.js';
export { GatewayPagePolicy, NEVER_GRANTED } from './gateway-policy.js';
export { PAGE_MAX_MESSAGE, PAGE_MAX_CREDENTIAL_BYTES, PAGE_MAX_PER_IDENTITY, PAGE_MAX_PAGES, type PageDirectory } from './page-door.js';
export { PageAuthError, type PageAuthErrorCode } from './page-auth-error.js';
export {
  signPageToken,
  verifyPageToken,
  tokenAuthorizer,
  MIN_SECRET_BYTES,
  DEFAULT_MAX_TOKEN_LIFETIME_S,
  type PageTokenClaims,
  type VerifyPageTokenOptions,
} from './page-token.js';
export type { Authorize, PageAuthorization, PageGrants, PageInfo, PagePolicy, PageRequest, PagesOptions } from './page-types.js';
