/** The WebSocket subprotocol both ends name: the Erlang distribution, version 6. */
export const SUBPROTOCOL = 'courier-erldist-6';
/** Where a gateway accepts by default. */
export const DEFAULT_PATH = '/courier';
