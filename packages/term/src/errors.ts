/**
 * Courier's error hierarchy. Every error Courier raises is a {@link CourierError} with a stable
 * SCREAMING_SNAKE `code`; subclasses say where the fault lies. `@courier/core` re-exports these,
 * so there is one base class for the whole project.
 */
export class CourierError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** Codes of {@link ProtocolError}s raised while decoding the external term format. */
export const EtfErrorCode = {
  /** The input ended inside a term, or a length field claims more bytes than remain. */
  TRUNCATED: 'ETF_TRUNCATED',
  /** A tag byte that is not (or no longer) part of the external term format. */
  UNKNOWN_TAG: 'ETF_UNKNOWN_TAG',
  /** A tag that is valid Erlang but refused here (LOCAL_EXT, compressed term not at top level). */
  UNSUPPORTED_TAG: 'ETF_UNSUPPORTED_TAG',
  /** A configured limit (depth, size, atom length, bignum size) was exceeded. */
  LIMIT: 'ETF_LIMIT',
  /** Well-framed bytes with an impossible value: NaN, bad UTF-8, duplicate map key, … */
  BAD_VALUE: 'ETF_BAD_VALUE',
  /** The first byte of a standalone term is not the version byte 131. */
  BAD_VERSION: 'ETF_BAD_VERSION',
  /** Bytes left over after a complete standalone term. */
  TRAILING_BYTES: 'ETF_TRAILING_BYTES',
  /** A compressed term (tag 80) whose zlib stream is corrupt or inflates to the wrong size. */
  BAD_COMPRESSED: 'ETF_BAD_COMPRESSED',
  /** An ATOM_CACHE_REF with no resolver, or one the resolver does not know. */
  ATOM_CACHE_MISS: 'ETF_ATOM_CACHE_MISS',
} as const;
export type EtfErrorCode = (typeof EtfErrorCode)[keyof typeof EtfErrorCode];

/** The peer sent bytes that do not form a valid term (or message). `offset` is where it went wrong. */
export class ProtocolError extends CourierError {
  /** Byte offset into the caller's buffer at which decoding failed. */
  readonly offset: number;

  constructor(code: string, message: string, offset: number, options?: { cause?: unknown }) {
    super(code, offset >= 0 ? `${message} at byte ${offset}` : message, options);
    this.offset = offset;
  }
}

/** A local value that has no external term format encoding (a function, a symbol, NaN, …). */
export class EncodeError extends CourierError {
  static readonly CODE = 'ETF_UNENCODABLE';

  constructor(message: string, options?: { cause?: unknown }) {
    super(EncodeError.CODE, message, options);
  }
}
