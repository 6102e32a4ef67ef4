import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import { AuthorizedKeys, KnownHosts } from '@courier/transport-ssh';

const { utils } = ssh2;

/** A key pair made at test time; `publicLine` is `type base64 comment` (the comment: the node name). */
export interface TestKey {
  readonly name: string;
  readonly privateKey: string;
  readonly publicLine: string;
}

/**
 * ssh2's generator writes a malformed ed25519 private key about 3 times in 1000 (ssh-keygen
 * refuses those too: "error in libcrypto"), so a key is kept only once it parses back.
 */
export function makeKey(name: string, type: 'ed25519' | 'ecdsa' = 'ed25519'): TestKey {
  for (;;) {
    const kp = type === 'ecdsa' ? utils.generateKeyPairSync('ecdsa', { bits: 256, comment: name }) : utils.generateKeyPairSync('ed25519', { comment: name });
    if (!(utils.parseKey(kp.private) instanceof Error)) return { name, privateKey: kp.private, publicLine: kp.public.trim() };
  }
}

/** `type base64` without the comment. */
export const bare = (k: TestKey): string => k.publicLine.split(' ').slice(0, 2).join(' ');

export function authorized(...keys: TestKey[]): AuthorizedKeys {
  return AuthorizedKeys.parse(keys.map((k) => k.publicLine).join('\n'));
}

/** known_hosts lines pinning each key's host key under its node name. */
export function knownHosts(...keys: TestKey[]): KnownHosts {
  return KnownHosts.parse(keys.map((k) => `${k.name} ${bare(k)}`).join('\n'));
}

/** A temporary directory, removed by `cleanup`. */
export function tempDir(prefix = 'courier-ssh-'): { dir: string; file(name: string, text: string, mode?: number): string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return {
    dir,
    file(name, text, mode = 0o600) {
      const p = join(dir, name);
      writeFileSync(p, text, { mode });
      return p;
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
