import type { LogFn, Logger } from '@courier/core';

/** One record a capturing logger kept: its level, message, and fields merged over the logger's bindings. */
export interface LogRecord {
  readonly level: string;
  readonly msg: string | undefined;
  /** The record's fields merged over its logger's bindings. */
  readonly fields: Readonly<Record<string, unknown>>;
}

/** A Logger that keeps every record (with child bindings), so cases can assert on warnings. */
export function recordingLogger(records: LogRecord[] = [], bindings: Record<string, unknown> = {}): Logger & { records: LogRecord[] } {
  const fn =
    (level: string): LogFn =>
    (a: object | string, msg?: string) => {
      if (typeof a === 'string') records.push({ level, msg: a, fields: bindings });
      else records.push({ level, msg, fields: { ...bindings, ...(a as Record<string, unknown>) } });
    };
  return {
    records,
    trace: fn('trace'),
    debug: fn('debug'),
    info: fn('info'),
    warn: fn('warn'),
    error: fn('error'),
    child: (b) => recordingLogger(records, { ...bindings, ...b }),
    isLevelEnabled: () => true,
  };
}
