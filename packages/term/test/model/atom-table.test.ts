import { describe, expect, it } from 'vitest';
import { AtomTableFull, MAX_ATOMS, ProtocolError, atom, atomCount, decode, encode } from '@courier/term';

/** This file fills the atom table of its own worker (vitest isolates module state per file). */
describe('the atom table limit', () => {
  it('a peer sending endless new atoms gets a ProtocolError, known atoms still decode', () => {
    const known = encode(atom('known_before_the_flood'));
    const fresh = encode(atom('x'));
    for (let i = atomCount(); i < MAX_ATOMS; i++) atom(`flood_${i}`);
    expect(atomCount()).toBe(MAX_ATOMS);
    expect(() => atom('one_too_many')).toThrow(AtomTableFull);
    const bytes = Buffer.from(fresh);
    // Same length as 'x': a name never seen ('y' was not made above).
    bytes[bytes.length - 1] = 'y'.charCodeAt(0);
    let err: unknown;
    try {
      decode(bytes);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ProtocolError);
    expect((err as ProtocolError).code).toBe('ETF_LIMIT');
    expect(decode(known)).toBe(atom('known_before_the_flood'));
  }, 60_000);
});
