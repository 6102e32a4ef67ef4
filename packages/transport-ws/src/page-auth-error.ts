import { CourierError } from '@courier/core';

/**
 * Codes of {@link PageAuthError}: why a gateway refused a page (or a page its gateway's answer).
 * `NO_TOKEN`, `BAD_TOKEN` (malformed, wrong signature, an `alg` other than HS256, a bad claim),
 * `TOKEN_EXPIRED`, `TOKEN_TOO_LONG_LIVED`, `REFUSED` (the application's `authorize` said no),
 * `TOO_MANY` (connections per identity, or pages), `BAD_WELCOME` (the gateway's answer).
 */
export type PageAuthErrorCode = 'NO_TOKEN' | 'BAD_TOKEN' | 'TOKEN_EXPIRED' | 'TOKEN_TOO_LONG_LIVED' | 'REFUSED' | 'TOO_MANY' | 'BAD_WELCOME';

/** A page was not let in: its credential, its identity's connection count, or the gateway's answer. */
export class PageAuthError extends CourierError {
  constructor(code: PageAuthErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'PageAuthError';
  }
}
