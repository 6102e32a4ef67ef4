import { readFileSync } from 'node:fs';
import ssh2, { type ParsedKey } from 'ssh2';
import { UsageError } from '@courier/core';
import { fingerprint } from './fingerprint.js';
import { dataLines, decodeBlob, isKeyType, splitFields } from './key-line.js';

// ssh2 is CommonJS: Node sees its named exports only through the default export.
const { utils } = ssh2;

/**
 * An OpenSSH `authorized_keys` file read as Courier's identity table: each key's comment is the
 * one node name that key may claim, and a peer logs in with that name as its SSH user name.
 *
 *     [options] type base64 node-name
 *
 * Options Courier cannot enforce are refused rather than ignored (a `from=` or `command=` the
 * operator wrote must not silently stop applying): only `restrict`, the `no-…` options (the
 * daemon offers nothing they would forbid) and `expiry-time=` are accepted; a line with any other
 * option, an expiry-time that is not a time, no comment, a comment with blanks, or a malformed key
 * is skipped and reported in `problems` (logged at warn by the daemon).
 */
export interface AuthorizedKey {
  readonly type: string;
  readonly blob: Buffer;
  /** The node names (comments) this key may log in as. */
  readonly names: ReadonlySet<string>;
  readonly fingerprint: string;
  /** expiry-time=, when given. */
  readonly expires: Date | undefined;
  /** For signature checks. */
  readonly key: ParsedKey;
}

const HARMLESS = /^(restrict|no-agent-forwarding|no-port-forwarding|no-pty|no-user-rc|no-x11-forwarding|no-touch-required)$/i;

/**
 * A table of public keys in OpenSSH `authorized_keys` format, each bound to the node names it may log in as
 * (its comment); a line that cannot be used is skipped and reported in `problems`.
 */
export class AuthorizedKeys {
  private readonly byBlob = new Map<string, AuthorizedKey>();
  /** Lines skipped, with the reason (`file:line: why`). */
  readonly problems: string[] = [];

  private constructor(readonly source: string) {}

  /** Parse the text of an authorized_keys file; `source` names it in problems. */
  static parse(text: string, source = 'authorized_keys'): AuthorizedKeys {
    const ak = new AuthorizedKeys(source);
    for (const { line, no } of dataLines(text)) {
      const why = ak.add(line);
      if (why !== undefined) ak.problems.push(`${source}:${no}: ${why}`);
    }
    return ak;
  }

  /** Read and parse a file; a missing or unreadable file is a UsageError. */
  static load(path: string): AuthorizedKeys {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      throw new UsageError('SSH_AUTHORIZED_KEYS', `cannot read the authorized keys file ${path}: ${(err as Error).message}`, { cause: err });
    }
    return AuthorizedKeys.parse(text, path);
  }

  /** size The number of usable keys. */
  get size(): number {
    return this.byBlob.size;
  }

  /** The entry for a public key blob, if the key is listed. */
  lookup(blob: Uint8Array): AuthorizedKey | undefined {
    return this.byBlob.get(Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength).toString('base64'));
  }

  private add(line: string): string | undefined {
    const first = splitFields(line, 1);
    if (first === undefined) return 'empty';
    const hasOptions = !isKeyType(first.fields[0] as string);
    const parts = splitFields(line, hasOptions ? 3 : 2);
    if (parts === undefined) return 'no key';
    const [options, type, b64] = hasOptions ? (parts.fields as [string, string, string]) : ['', ...(parts.fields as [string, string])];
    if (!isKeyType(type)) return `unknown key type ${JSON.stringify(type.slice(0, 40))}`;
    const name = parts.rest;
    if (name === '') return 'no comment: the comment is the node name the key may claim';
    if (/\s/.test(name)) return `the comment ${JSON.stringify(name)} has blanks: it must be exactly one node name`;
    let expires: Date | undefined;
    for (const opt of options === '' ? [] : splitOptions(options)) {
      if (/^expiry-time=/i.test(opt)) {
        // An expiry that does not parse must not mean "never expires": the line is not used.
        const value = opt.slice('expiry-time='.length);
        expires = parseExpiry(value);
        if (expires === undefined) return `expiry-time=${value} is not a time (YYYYMMDD[HHMM[SS]][Z]), so the key is not used`;
      } else if (!HARMLESS.test(opt)) {
        return `option ${opt.split('=')[0]} is not supported by Courier's daemon, so the key is not used`;
      }
    }
    const blob = decodeBlob(type, b64);
    if (blob === undefined) return 'the key does not decode';
    const parsed = utils.parseKey(`${type} ${b64}`);
    if (parsed instanceof Error) return `the key does not parse: ${parsed.message}`;
    const id = blob.toString('base64');
    const known = this.byBlob.get(id);
    const names = new Set(known?.names ?? []);
    names.add(name);
    this.byBlob.set(id, { type, blob, names, fingerprint: fingerprint(blob), expires, key: parsed });
    return undefined;
  }
}

/**
 * OpenSSH's expiry-time: `YYYYMMDD[HHMM[SS]]`, local time, or UTC with a trailing `Z`, optionally
 * quoted. Undefined when it is not a real time (a month 13, a day 31 in April, an hour 24).
 */
export function parseExpiry(value: string): Date | undefined {
  const m = /^"?(\d{4})(\d{2})(\d{2})(?:(\d{2})(\d{2})(\d{2})?)?(Z?)"?$/i.exec(value);
  if (m === null) return undefined;
  const [y, mo, d, h, mi, s] = [m[1], m[2], m[3], m[4] ?? '0', m[5] ?? '0', m[6] ?? '0'].map(Number) as [number, number, number, number, number, number];
  const daysInMonth = new Date(Date.UTC(y, mo, 0)).getUTCDate();
  if (mo < 1 || mo > 12 || d < 1 || d > daysInMonth || h > 23 || mi > 59 || s > 59) return undefined;
  return m[7] !== '' ? new Date(Date.UTC(y, mo - 1, d, h, mi, s)) : new Date(y, mo - 1, d, h, mi, s);
}

/** Comma-separated options; commas inside double quotes do not split. */
function splitOptions(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (const ch of s) {
    if (ch === '"') quoted = !quoted;
    if (ch === ',' && !quoted) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out.filter((o) => o !== '');
}
