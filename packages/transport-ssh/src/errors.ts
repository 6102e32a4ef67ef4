import type { Term } from '@courier/term';
import { CourierError } from '@courier/core';

/**
 * The server's host key is not the one pinned for it. `UNKNOWN_HOST_KEY`: nothing is pinned for
 * that host or node (the message prints the fingerprint and the line that would trust it);
 * `HOST_KEY_MISMATCH`: another key is pinned (someone may be in the middle); `HOST_KEY_REVOKED`:
 * the key is marked @revoked.
 */
export type HostKeyErrorCode = 'UNKNOWN_HOST_KEY' | 'HOST_KEY_MISMATCH' | 'HOST_KEY_REVOKED';

export class HostKeyError extends CourierError {
  constructor(
    code: HostKeyErrorCode,
    message: string,
    /** `SHA256:…` of the key the server presented. */
    readonly fingerprint: string,
  ) {
    super(code, message);
    this.name = 'HostKeyError';
  }
}

/**
 * An sshrpc request was answered with an error: `NOT_ALLOWED` (the allow-list refused it),
 * `BADRPC` (the function raised; `reason` is `{Class, Reason}` or the legacy `{'EXIT', Why}`),
 * `BAD_REQUEST` (the server did not understand the request), `EXEC_ERROR` (legacy `exec_error`),
 * `REMOTE` (any other `{error, Reason}`), `CLOSED` (the channel closed before the answer),
 * `TIMEOUT`.
 */
export class SshRpcError extends CourierError {
  constructor(
    code: string,
    message: string,
    /** The error term as the server sent it (undefined for local failures). */
    readonly reason?: Term,
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
    this.name = 'SshRpcError';
  }
}
