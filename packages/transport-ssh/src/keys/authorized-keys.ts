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
 * option, no comment, a comment with blanks, or a malformed key is skipped and reported in
 * `problems`.
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
      const m = /^expiry-time="?(\d{8})(\d{4})?(\d{2})?"?$/i.exec(opt);
      if (m) {
        const [d, hm, s] = [m[1] as string, m[2] ?? '0000', m[3] ?? '00'];
        expires = new Date(`${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6, 8)}T${hm.slice(0, 2)}:${hm.slice(2, 4)}:${s}`);
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
