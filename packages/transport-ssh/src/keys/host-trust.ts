import type { Logger } from '@courier/core';
import { HostKeyError } from '../errors.js';
import { fingerprint, publicKeyText } from './fingerprint.js';
import { KnownHosts, hostNames } from './known-hosts.js';

/**
 * How a dialing side decides whether a server's host key is the right one. Keys are pinned in a
 * known_hosts-style file or table, or by fingerprint per host or node name; a key pinned in
 * neither is refused unless `trustUnknown` (trust on first use, logged with the fingerprint).
 */
export interface HostTrustOptions {
  /** A known_hosts file path, or a parsed table. */
  readonly knownHosts?: string | KnownHosts;
  /** `{ 'b@host' | '[host]:port' | 'host': 'SHA256:…' | ['SHA256:…', …] }`. */
  readonly fingerprints?: Readonly<Record<string, string | readonly string[]>>;
  /** Accept keys pinned nowhere (logged at warn with their fingerprint). Default false. */
  readonly trustUnknown?: boolean;
}

export interface HostIdentity {
  readonly host: string;
  readonly port: number;
  /** The node name the server should be (Courier peers), checked as a known_hosts name too. */
  readonly node?: string;
}

export class HostTrust {
  private readonly table: KnownHosts | undefined;
  private readonly file: string | undefined;

  constructor(
    private readonly opts: HostTrustOptions,
    private readonly log: Logger,
  ) {
    this.file = typeof opts.knownHosts === 'string' ? opts.knownHosts : opts.knownHosts?.source;
    this.table = typeof opts.knownHosts === 'string' ? KnownHosts.load(opts.knownHosts) : opts.knownHosts;
    for (const p of this.table?.problems ?? []) log.warn({ problem: p }, 'known hosts line skipped');
  }

  /** Undefined when `blob` is the right key for `id`; else the error to fail the connection with. */
  verify(id: HostIdentity, blob: Uint8Array): HostKeyError | undefined {
    const names = hostNames(id.host, id.port, id.node === undefined ? [] : [id.node]);
    const fp = fingerprint(blob);
    const pinned = names.flatMap((n) => {
      const v = this.opts.fingerprints?.[n];
      return v === undefined ? [] : typeof v === 'string' ? [v] : [...v];
    });
    if (pinned.includes(fp)) return undefined;
    const check = this.table?.check(names, blob) ?? 'unknown';
    if (check === 'ok') return undefined;
    const who = `${id.node ?? names[0]} (${id.host}:${id.port})`;
    if (check === 'revoked') return new HostKeyError('HOST_KEY_REVOKED', `the host key of ${who} (${fp}) is marked @revoked in ${this.file}`, fp);
    if (check === 'mismatch' || pinned.length > 0) {
      return new HostKeyError(
        'HOST_KEY_MISMATCH',
        `the host key of ${who} is ${fp}, not the key pinned for it${this.file ? ` in ${this.file}` : ''}: someone may be impersonating it, or its key changed (remove the old line only if you know why)`,
        fp,
      );
    }
    if (this.opts.trustUnknown === true) {
      this.log.warn({ host: who, fingerprint: fp }, 'unknown host key trusted (trustUnknown)');
      return undefined;
    }
    const line = `${names.join(',')} ${publicKeyText(blob)}`;
    return new HostKeyError(
      'UNKNOWN_HOST_KEY',
      `the host key of ${who} is not known: ${fp}. If that is its key, trust it by adding this line to ${this.file ?? 'the known hosts file'}:\n${line}\n(or pin the fingerprint ${fp})`,
      fp,
    );
  }
}
