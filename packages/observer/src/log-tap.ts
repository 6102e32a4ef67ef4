import type { LogFn, Logger } from '@courier/core';

/**
 * Counts handshake failures by reason without a hook in core: core's connection pipeline logs each
 * one once (`'handshake failed'`, with the HandshakeError `code`). Build the node with
 * `log: tap.logger` and pass the tap to `observe`. Every record still goes to `inner`.
 */
export class LogTap {
  /** Handshake failures so far, by reason code (`BAD_COOKIE`, `TIMEOUT`, `NOT_ALLOWED`, …). */
  readonly handshakeFailures = new Map<string, number>();
  readonly logger: Logger;

  constructor(inner: Logger) {
    this.logger = this.wrap(inner);
  }

  private wrap(inner: Logger): Logger {
    const warn: LogFn = (obj: object | string, msg?: string) => {
      if (msg === 'handshake failed' && typeof obj === 'object') {
        const c = (obj as { code?: unknown }).code;
        const code = typeof c === 'string' || typeof c === 'number' ? String(c) : 'unknown';
        this.handshakeFailures.set(code, (this.handshakeFailures.get(code) ?? 0) + 1);
      }
      (inner.warn as (o: object | string, m?: string) => void)(obj, msg);
    };
    return {
      trace: inner.trace.bind(inner),
      debug: inner.debug.bind(inner),
      info: inner.info.bind(inner),
      warn,
      error: inner.error.bind(inner),
      child: (b) => this.wrap(inner.child(b)),
      ...(inner.isLevelEnabled ? { isLevelEnabled: inner.isLevelEnabled.bind(inner) } : {}),
    };
  }
}
