/**
 * Stands in for `node:zlib` in the browser build (esbuild alias): a page has no synchronous zlib,
 * so a compressed term (tag 80, `term_to_binary(T, [compressed])`) from a peer fails to decode
 * there as a ProtocolError (BAD_COMPRESSED) and the node carries on. Erlang's distribution never
 * compresses on its own.
 */
function unsupported(): never {
  throw new Error('compressed terms are not supported in a browser node');
}

export const inflateSync = unsupported;
export const deflateSync = unsupported;
export type ZlibOptions = Record<string, unknown>;
