import { appendFileSync, closeSync, openSync, readSync, statSync } from 'node:fs';
import type { Logger } from '@courier/core';
import { HostKeyError } from '../errors.js';
import { fingerprint, publicKeyText } from './fingerprint.js';
import { KnownHosts, hostNames } from './known-hosts.js';

/**
 * How a dialing side decides whether a server's host key is the right one. Keys are pinned in a
 * known_hosts-style file or table, or by fingerprint per host or node name; a key pinned in
 * neither is refused unless `trustUnknown` (trust on first use: the key is pinned from then on,
 * and written to the known_hosts file given).
 */
export interface HostTrustOptions {
  /** A known_hosts file path (keys trusted on first use are appended to it), or a parsed table. */
  readonly knownHosts?: string | KnownHosts;
  /** `{ 'b@host' | '[host]:port' | 'host': 'SHA256:…' | ['SHA256:…', …] }`. */
  readonly fingerprints?: Readonly<Record<string, string | readonly string[]>>;
  /**
   * Trust on first use: accept a key pinned nowhere for a host with nothing pinned, logged at
   * warn with its fingerprint, and pin it (appended to the `knownHosts` file, hashed when the file
   * hashes its names; kept in memory without one), so a changed key on a later connect is
   * refused. Default false.
   */
  readonly trustUnknown?: boolean;
}

/** The server a client dials, as host keys are looked up: host, port, and the node name it should be. */
export interface HostIdentity {
  readonly host: string;
  readonly port: number;
  /** The node name the server should be (Courier peers), checked as a known_hosts name too. */
  readonly node?: string;
}

/** ssh2's host-key algorithms for a pinned key type (an RSA key signs with any of three). */
const ALGORITHMS: Readonly<Record<string, readonly string[]>> = {
  'ssh-ed25519': ['ssh-ed25519'],
  'ecdsa-sha2-nistp256': ['ecdsa-sha2-nistp256'],
  'ecdsa-sha2-nistp384': ['ecdsa-sha2-nistp384'],
  'ecdsa-sha2-nistp521': ['ecdsa-sha2-nistp521'],
  'ssh-rsa': ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'],
  'ssh-dss': ['ssh-dss'],
};

/**
 * How a dialing side decides whether a server's host key is the right one: pinned in a known_hosts file or
 * table, or by fingerprint per host or node name; a key pinned nowhere is refused unless trusted on first
 * use.
 */
export class HostTrust {
  private readonly table: KnownHosts;
  /** The file keys trusted on first use are written to. */
  private readonly file: string | undefined;
  /** How messages name where keys are pinned (the file, or the given table's source). */
  private readonly where: string | undefined;

  constructor(
    private readonly opts: HostTrustOptions,
    private readonly log: Logger,
  ) {
    this.file = typeof opts.knownHosts === 'string' ? opts.knownHosts : undefined;
    this.where = typeof opts.knownHosts === 'string' ? opts.knownHosts : opts.knownHosts?.source;
    this.table = typeof opts.knownHosts === 'string' ? KnownHosts.load(opts.knownHosts) : (opts.knownHosts ?? KnownHosts.parse('', 'memory'));
    for (const p of this.table.problems) log.warn({ problem: p }, 'known hosts line skipped');
  }

  /**
   * The host-key algorithms to offer when dialing `id`: those of the key types pinned for it in
   * the known hosts (so a server holding several keys shows the pinned one), or undefined (ssh2's
   * defaults) when nothing is pinned there.
   */
  hostKeyAlgorithms(id: HostIdentity): string[] | undefined {
    const types = this.table.pinnedTypes(this.names(id));
    const algs = types.flatMap((t) => ALGORITHMS[t] ?? []);
    return algs.length > 0 ? algs : undefined;
  }

  /** Undefined when `blob` is the right key for `id`; else the error to fail the connection with. */
  verify(id: HostIdentity, blob: Uint8Array): HostKeyError | undefined {
    const names = this.names(id);
    const fp = fingerprint(blob);
    const pinned = names.flatMap((n) => {
      const v = this.opts.fingerprints?.[n];
      return v === undefined ? [] : typeof v === 'string' ? [v] : [...v];
    });
    if (pinned.includes(fp)) return undefined;
    const check = this.table.check(names, blob);
    if (check === 'ok') return undefined;
    const where = this.where ?? 'the known hosts';
    const who = `${id.node ?? names[0]} (${id.host}:${id.port})`;
    if (check === 'revoked') return new HostKeyError('HOST_KEY_REVOKED', `the host key of ${who} (${fp}) is marked @revoked in ${where}`, fp);
    if (check === 'mismatch' || pinned.length > 0) {
      return new HostKeyError(
        'HOST_KEY_MISMATCH',
        `the host key of ${who} is ${fp}, not the key pinned for it in ${pinned.length > 0 ? 'fingerprints' : where}: someone may be impersonating it, or its key changed (remove the old line only if you know why)`,
        fp,
      );
    }
    if (this.opts.trustUnknown === true) {
      this.trustFirst(names, blob, who, fp);
      return undefined;
    }
    const line = `${names.join(',')} ${publicKeyText(blob)}`;
    return new HostKeyError(
      'UNKNOWN_HOST_KEY',
      `the host key of ${who} is not known: ${fp}. If that is its key, trust it by adding this line to ${this.where ?? 'the known hosts file'}:\n${line}\n(or pin the fingerprint ${fp})`,
      fp,
    );
  }

  private names(id: HostIdentity): string[] {
    return hostNames(id.host, id.port, id.node === undefined ? [] : [id.node]);
  }

  /** Pin a key seen for the first time, and write it to the known hosts file when there is one. */
  private trustFirst(names: readonly string[], blob: Uint8Array, who: string, fp: string): void {
    const lines = this.table.remember(names, blob);
    if (this.file === undefined) {
      this.log.warn({ host: who, fingerprint: fp }, 'unknown host key trusted on first use (pinned for this process only: no known hosts file)');
      return;
    }
    try {
      appendFileSync(this.file, `${endsWithNewline(this.file) ? '' : '\n'}${lines.join('\n')}\n`, { mode: 0o600 });
      this.log.warn({ host: who, fingerprint: fp, file: this.file }, 'unknown host key trusted on first use and recorded');
    } catch (err) {
      this.log.warn({ host: who, fingerprint: fp, file: this.file, err: (err as Error).message }, 'unknown host key trusted on first use, but it could not be recorded');
    }
  }
}

/** Whether a file is empty, missing, or ends with a newline (so that an appended line starts a line). */
function endsWithNewline(path: string): boolean {
  let size: number;
  try {
    size = statSync(path).size;
  } catch {
    return true;
  }
  if (size === 0) return true;
  const fd = openSync(path, 'r');
  try {
    const b = Buffer.alloc(1);
    readSync(fd, b, 0, 1, size - 1);
    return b[0] === 0x0a;
  } finally {
    closeSync(fd);
  }
}
