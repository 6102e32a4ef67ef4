/**
 * The browser build's entry: a Courier node in a web page, joining a cluster through a gateway
 * over the WebSocket carrier. Bundled with esbuild (platform browser); nothing here or below needs
 * a Node module.
 */
import { setImmediateShim } from './timers.js';

setImmediateShim();

export { Node, TIMEOUT, type Process } from '@courier/core';
export { Atom, Pid, Ref, Tuple, atom } from '@courier/term';
export { joinGateway, type JoinGatewayOptions, type JoinedPage } from './browser-dist.js';
export { PageAuthError, type PageAuthErrorCode } from '../page-auth-error.js';
export { WsCarrier, type WebSocketLike } from '../ws-carrier.js';
export { MAX_WS_MESSAGE, PAGE_SUBPROTOCOL } from '../subprotocol.js';
