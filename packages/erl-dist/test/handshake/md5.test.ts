import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { md5 } from '../../src/handshake/md5.js';

const hexOf = (b: Uint8Array) => Buffer.from(b).toString('hex');
const bytes = (s: string) => new Uint8Array(Buffer.from(s, 'latin1'));

describe('md5 (pure, for the handshake in a browser)', () => {
  it('gives the RFC 1321 test suite digests', () => {
    expect(hexOf(md5(bytes('')))).toBe('d41d8cd98f00b204e9800998ecf8427e');
    expect(hexOf(md5(bytes('a')))).toBe('0cc175b9c0f1b6a831c399e269772661');
    expect(hexOf(md5(bytes('abc')))).toBe('900150983cd24fb0d6963f7d28e17f72');
    expect(hexOf(md5(bytes('message digest')))).toBe('f96b697d7cb7938d525a2f31aaf161d0');
    expect(hexOf(md5(bytes('12345678901234567890123456789012345678901234567890123456789012345678901234567890')))).toBe('57edf4a22be3c955ac49da2e2107b67a');
  });

  it('agrees with node:crypto around the padding boundaries and on all byte values', () => {
    for (const n of [55, 56, 57, 63, 64, 65, 119, 120, 1000]) {
      const b = new Uint8Array(n).map((_, i) => (i * 31 + n) & 0xff);
      expect(hexOf(md5(b))).toBe(createHash('md5').update(b).digest('hex'));
    }
  });
});
