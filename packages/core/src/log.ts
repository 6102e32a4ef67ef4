/**
 * The logger seam. pino's Logger satisfies it; library code never imports pino.
 * Silent by default: pass a pino instance to see anything.
 */
export interface LogFn {
  (obj: object, msg?: string): void;
  (msg: string): void;
}

/**
 * The logger library code writes to: a subset of pino's API, so a pino logger fits as it is. Silent by
 * default ({@link silentLogger}).
 */
export interface Logger {
  trace: LogFn;
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
  /** A logger that adds `bindings` to every record (one per transport and per connection, never per message). */
  child(bindings: Record<string, unknown>): Logger;
  /** Whether records of `level` are written; guard costly `trace` calls with it. */
  isLevelEnabled?(level: string): boolean;
}

const noop: LogFn = () => {};

/** A {@link Logger} that writes nothing: the default everywhere a logger is optional. */
export const silentLogger: Logger = {
  trace: noop,
  debug: noop,
  info: noop,
  warn: noop,
  error: noop,
  child: () => silentLogger,
  isLevelEnabled: () => false,
};
