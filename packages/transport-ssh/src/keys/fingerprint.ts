import { createHash } from 'node:crypto';

/** The OpenSSH fingerprint of a public key blob, as `ssh-keygen -lf` prints it: `SHA256:<base64, no padding>`. */
export function fingerprint(blob: Uint8Array): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/** The key type named inside a public key blob (`ssh-ed25519`, `ecdsa-sha2-nistp256`, …): string(type) first. */
export function blobType(blob: Uint8Array): string {
  if (blob.length < 4) return 'unknown';
  const n = ((blob[0] as number) << 24) | ((blob[1] as number) << 16) | ((blob[2] as number) << 8) | (blob[3] as number);
  if (n <= 0 || n > 64 || 4 + n > blob.length) return 'unknown';
  return Buffer.from(blob.buffer, blob.byteOffset + 4, n).toString('latin1');
}

/** `type base64` as in authorized_keys and known_hosts lines. */
export function publicKeyText(blob: Uint8Array): string {
  return `${blobType(blob)} ${Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength).toString('base64')}`;
}

export function sameBlob(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0;
}
