/**
 * The browser build's entry: a Courier node in a web page, joining a cluster through a gateway
 * over the WebSocket carrier. Bundled with esbuild (platform browser); nothing here or below needs
 * a Node module.
 */
import { setImmediateShim } from './timers.js';

setImmediateShim();

export { Node, TIMEOUT, type Process } from '@courier/core';
export { Atom, Pid, Ref, Tuple, atom } from '@courier/term';
export { BrowserWsTransport, type BrowserWsOptions } from './browser-dist.js';
export { WsCarrier, type WebSocketLike } from '../ws-carrier.js';
export { MAX_WS_MESSAGE } from '../subprotocol.js';
