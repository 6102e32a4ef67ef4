import { createHmac, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { UsageError } from '@courier/core';
import { blobType, publicKeyText, sameBlob } from './fingerprint.js';
import { dataLines, decodeBlob, isKeyType, splitFields } from './key-line.js';

/**
 * Pinned host keys in OpenSSH `known_hosts` format:
 *
 *     [@revoked] patterns type base64 [comment]
 *
 * Patterns are comma-separated host names, `[host]:port`, Courier node names (`b@host`), with
 * `*`/`?` wildcards, `!` negation and hashed entries (`|1|salt|hash`, as `ssh-keygen -H` writes).
 * `@cert-authority` lines are skipped (Courier does not check host certificates).
 */
interface Entry {
  readonly patterns: string[];
  readonly type: string;
  readonly blob: Buffer;
  readonly revoked: boolean;
}

/** What {@link KnownHosts.check} says of a key: `ok`, `unknown`, `mismatch` or `revoked`. */
export type HostCheck = 'ok' | 'unknown' | 'mismatch' | 'revoked';

/**
 * Pinned host keys in OpenSSH `known_hosts` format: host names, `[host]:port` and node names (`b@host`) as
 * patterns, with wildcards, negation, hashed entries and `@revoked` lines.
 */
export class KnownHosts {
  private readonly entries: Entry[] = [];
  readonly problems: string[] = [];

  private constructor(readonly source: string) {}

  /** Parses a known_hosts text; `source` names it in errors. */
  static parse(text: string, source = 'known_hosts'): KnownHosts {
    const kh = new KnownHosts(source);
    for (const { line, no } of dataLines(text)) {
      const why = kh.add(line);
      if (why !== undefined) kh.problems.push(`${source}:${no}: ${why}`);
    }
    return kh;
  }

  /** Read a file; a missing file is an empty table (nothing trusted yet), other errors are UsageErrors. */
  static load(path: string): KnownHosts {
    let text = '';
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        throw new UsageError('SSH_KNOWN_HOSTS', `cannot read the known hosts file ${path}: ${(err as Error).message}`, { cause: err });
      }
    }
    return KnownHosts.parse(text, path);
  }

  /**
   * Whether `blob` is the pinned key of a host known by any of `names`: `ok` when a line for one
   * of the names holds this key; `revoked` when the key is marked `@revoked` (whatever the host);
   * `mismatch` when the names have another key, of any type (a server that shows a key of
   * another type than the pinned one is refused, not taken as new); `unknown` otherwise.
   */
  check(names: readonly string[], blob: Uint8Array): HostCheck {
    let mismatch = false;
    for (const e of this.entries) if (e.revoked && sameBlob(e.blob, blob)) return 'revoked';
    for (const e of this.pinnedFor(names)) {
      if (sameBlob(e.blob, blob)) return 'ok';
      mismatch = true;
    }
    return mismatch ? 'mismatch' : 'unknown';
  }

  /** The key types pinned for a host known by any of `names` (what the dialer offers as host-key algorithms). */
  pinnedTypes(names: readonly string[]): string[] {
    return [...new Set(this.pinnedFor(names).map((e) => e.type))];
  }

  /** Whether the table writes host names hashed (`|1|salt|hash`): as its existing lines do. */
  get hashed(): boolean {
    return this.entries.some((e) => e.patterns.some((p) => p.startsWith('|1|')));
  }

  /**
   * Pin `blob` for `names` (trust on first use) and return the known_hosts lines that record it:
   * one line naming every name, or one hashed line per name when the table hashes its names.
   */
  remember(names: readonly string[], blob: Uint8Array): string[] {
    const type = blobType(blob);
    const patterns = this.hashed ? names.map(hashName) : [names.join(',')];
    for (const p of patterns) this.entries.push({ patterns: p.split(','), type, blob: Buffer.from(blob), revoked: false });
    return patterns.map((p) => `${p} ${publicKeyText(blob)}`);
  }

  private pinnedFor(names: readonly string[]): Entry[] {
    return this.entries.filter((e) => !e.revoked && names.some((n) => matches(e.patterns, n)));
  }

  private add(line: string): string | undefined {
    let rest = line;
    let revoked = false;
    if (rest.startsWith('@')) {
      const m = splitFields(rest, 1);
      const marker = m?.fields[0];
      if (marker === '@cert-authority') return 'host certificates (@cert-authority) are not supported: line skipped';
      if (marker !== '@revoked') return `unknown marker ${marker}`;
      revoked = true;
      rest = m?.rest ?? '';
    }
    const parts = splitFields(rest, 3);
    if (parts === undefined) return 'expected: patterns type base64';
    const [patterns, type, b64] = parts.fields as [string, string, string];
    if (!isKeyType(type)) return `unknown key type ${JSON.stringify(type.slice(0, 40))}`;
    const blob = decodeBlob(type, b64);
    if (blob === undefined) return 'the key does not decode';
    this.entries.push({ patterns: patterns.split(','), type, blob, revoked });
    return undefined;
  }
}

/** The names a server is known by in a known_hosts file: `host` on port 22, else `[host]:port`, plus extra names (a node name). */
export function hostNames(host: string, port: number, extra: readonly string[] = []): string[] {
  return [port === 22 ? host : `[${host}]:${port}`, ...extra];
}

/** `|1|salt|HMAC-SHA1(salt, name)`, as `ssh-keygen -H` and HashKnownHosts write a name. */
export function hashName(name: string): string {
  const salt = randomBytes(20);
  return `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(name).digest('base64')}`;
}

function matches(patterns: readonly string[], name: string): boolean {
  let hit = false;
  for (const p of patterns) {
    if (p.startsWith('!')) {
      if (one(p.slice(1), name)) return false;
    } else if (one(p, name)) hit = true;
  }
  return hit;
}

function one(pattern: string, name: string): boolean {
  if (pattern.startsWith('|1|')) {
    const [, , salt, hash] = pattern.split('|');
    if (salt === undefined || hash === undefined) return false;
    return createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64') === hash;
  }
  if (!/[*?]/.test(pattern)) return pattern.toLowerCase() === name.toLowerCase();
  const re = new RegExp(
    `^${pattern
      .replace(/[.+^${}()|\\[\]]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
    'i',
  );
  return re.test(name);
}
