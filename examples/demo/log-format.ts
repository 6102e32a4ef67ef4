import { pino, type Logger } from 'pino';

/**
 * A pino logger for the demo: JSON lines with `--json`, else one readable line per record,
 * `12:00:01.250 INFO  demo@localhost  pong received  actor=ping n=3`. No pino-pretty needed:
 * pino writes each record synchronously to the destination below, which reformats it.
 */
const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
const COLORS: Record<number, string> = { 40: '\x1b[33m', 50: '\x1b[31m', 60: '\x1b[31m' };
const OMIT = new Set(['level', 'time', 'msg', 'node', 'pid', 'hostname']);

export function demoLogger(json: boolean, out: NodeJS.WritableStream = process.stdout): Logger {
  const opts = { base: undefined, level: process.env['LOG_LEVEL'] ?? 'info' };
  if (json) return pino(opts, out);
  const color = (out as { isTTY?: boolean }).isTTY === true;
  return pino(opts, { write: (line: string) => void out.write(formatLine(line, color)) });
}

export function formatLine(line: string, color = false): string {
  const rec = JSON.parse(line) as Record<string, unknown>;
  const time = new Date(rec['time'] as number).toISOString().slice(11, 23);
  const level = rec['level'] as number;
  let tag = (LEVELS[level] ?? String(level)).padEnd(5);
  if (color && COLORS[level] !== undefined) tag = `${COLORS[level]}${tag}\x1b[0m`;
  const fields = Object.entries(rec)
    .filter(([k]) => !OMIT.has(k))
    .map(([k, v]) => `${k}=${k === 'err' ? errText(v) : typeof v === 'string' ? v : JSON.stringify(v)}`);
  return `${time} ${tag} ${text(rec['node'], '-')}  ${text(rec['msg'], '')}  ${fields.join(' ')}`.trimEnd() + '\n';
}

/** A record's field as text: a string as is, absent as `missing`, anything else as JSON. */
function text(v: unknown, missing: string): string {
  return v === undefined || v === null ? missing : typeof v === 'string' ? v : JSON.stringify(v);
}

/** A serialized error as `Type: message (at first frame)`: enough to find the throw site. */
function errText(v: unknown): string {
  const e = v as { type?: string; message?: string; stack?: string };
  const frame = e.stack
    ?.split('\n')
    .find((l) => l.trim().startsWith('at '))
    ?.trim();
  return `"${e.type ?? 'Error'}: ${e.message ?? ''}"${frame !== undefined ? ` (${frame})` : ''}`;
}
