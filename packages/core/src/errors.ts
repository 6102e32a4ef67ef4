import { CourierError } from '@courier/term';
export { CourierError, ProtocolError } from '@courier/term';

/**
 * Typed errors. Each has a stable `code` and a message that says what to do. A peer's mistake
 * is logged at `warn` without a stack; a broken local invariant is an `error` with one.
 */
export type HandshakeErrorCode = 'BAD_COOKIE' | 'NOT_ALLOWED' | 'MISSING_FLAGS' | 'TIMEOUT' | 'BAD_MESSAGE' | 'NAME_MISMATCH' | 'ALREADY_CONNECTED' | 'NOK';

export class HandshakeError extends CourierError {
  constructor(code: HandshakeErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'HandshakeError';
  }
}

export class CarrierError extends CourierError {
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'CarrierError';
  }
}

export class ResolveError extends CourierError {
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'ResolveError';
  }
}

export class UsageError extends CourierError {
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'UsageError';
  }
}

/** A gen_server-style call failed: the callee timed out, was not there, or exited. */
export class CallError extends CourierError {
  constructor(
    code: 'TIMEOUT' | 'NOPROC' | 'EXIT' | 'NOCONNECTION',
    message: string,
    readonly reason?: unknown,
  ) {
    super(code, message);
    this.name = 'CallError';
  }
}
