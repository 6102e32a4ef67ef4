/** A Logger (the shape pino satisfies) that keeps every entry, to assert what a node logged. */
export interface LogEntry {
  readonly level: string;
  readonly msg: string;
  readonly fields: Record<string, unknown>;
}

export interface CapturedLog {
  readonly entries: LogEntry[];
  readonly logger: {
    trace: (o: unknown, m?: string) => void;
    debug: (o: unknown, m?: string) => void;
    info: (o: unknown, m?: string) => void;
    warn: (o: unknown, m?: string) => void;
    error: (o: unknown, m?: string) => void;
    child: (b: Record<string, unknown>) => CapturedLog['logger'];
    isLevelEnabled: () => boolean;
  };
  /** Entries at `level` whose message or fields mention `text`. */
  find(level: string, text?: string): LogEntry[];
}

export function captureLog(): CapturedLog {
  const entries: LogEntry[] = [];
  const make = (bindings: Record<string, unknown>): CapturedLog['logger'] => {
    const at = (level: string) => (o: unknown, m?: string) => {
      if (typeof o === 'string') entries.push({ level, msg: o, fields: { ...bindings } });
      else entries.push({ level, msg: m ?? '', fields: { ...bindings, ...(o as Record<string, unknown>) } });
    };
    return {
      trace: at('trace'),
      debug: at('debug'),
      info: at('info'),
      warn: at('warn'),
      error: at('error'),
      child: (b) => make({ ...bindings, ...b }),
      isLevelEnabled: () => true,
    };
  };
  return {
    entries,
    logger: make({}),
    find: (level, text) => entries.filter((e) => e.level === level && (text === undefined || e.msg.includes(text) || JSON.stringify(e.fields).includes(text))),
  };
}
