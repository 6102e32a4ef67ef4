import { statSync } from 'node:fs';
import type { Logger } from '@courier/core';
import { AuthorizedKeys } from './authorized-keys.js';

/**
 * An authorized_keys file re-read when it changes: `current()` is consulted at every login and
 * costs one stat, so a key added or removed applies to the next login without a restart. A file
 * that cannot be read any more keeps the last good table (logged).
 */
export class AuthorizedKeysFile {
  private keys: AuthorizedKeys;
  private stamp: number;

  constructor(
    readonly path: string,
    private readonly log: Logger,
  ) {
    this.keys = AuthorizedKeys.load(path);
    this.stamp = this.mtime();
    this.report();
  }

  current(): AuthorizedKeys {
    const now = this.mtime();
    if (now !== this.stamp) {
      try {
        this.keys = AuthorizedKeys.load(this.path);
        this.stamp = now;
        this.log.info({ file: this.path, keys: this.keys.size }, 'authorized keys reloaded');
        this.report();
      } catch (err) {
        this.log.warn({ file: this.path, err: (err as Error).message }, 'authorized keys reload failed, keeping the previous keys');
      }
    }
    return this.keys;
  }

  private report(): void {
    for (const p of this.keys.problems) this.log.warn({ problem: p }, 'authorized keys line skipped');
  }

  private mtime(): number {
    try {
      return statSync(this.path).mtimeMs;
    } catch {
      return -1;
    }
  }
}
