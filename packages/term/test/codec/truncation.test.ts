import { describe, expect, it } from 'vitest';
import { atom, decode, decodeTerm, encode, ErlMap, EtfErrorCode, float, ImproperList, Pid, Port, ProtocolError, Ref, tuple, type Term } from '@courier/term';
import { fromHex } from '../support/bytes.js';
import { fullEncodings, loadCorpus } from '../support/corpus.js';

/**
 * Byte-by-byte: every proper prefix of a valid encoding is ETF_TRUNCATED — never another code,
 * never another exception type, never a term. (The decoder sees whole buffers; a prefix is what a
 * framing bug or a short read would hand it.)
 */
function expectEveryPrefixTruncated(bytes: Uint8Array, label: string): void {
  for (let n = 0; n < bytes.length; n++) {
    let err: unknown;
    try {
      decode(bytes.subarray(0, n));
    } catch (e) {
      err = e;
    }
    if (!(err instanceof ProtocolError) || err.code !== EtfErrorCode.TRUNCATED) {
      expect.fail(`${label}: prefix of ${n}/${bytes.length} bytes gave ${err instanceof Error ? `${err.name} ${err.message}` : 'a term'}`);
    }
  }
}

const pid = new Pid(atom('n@127.0.0.1'), 7, 1, 0xdeadbeef);
const samples: Record<string, Term> = {
  integers: [0, 255, 256, -1, 2 ** 31, -(2 ** 53), 2n ** 64n, -(2n ** 2040n)],
  floats: [1.5, float(1), float(-0), -1e-300],
  atoms: [atom('ok'), atom('ünï'), atom('こ'.repeat(200)), true],
  binaries: [new Uint8Array([1, 2, 3]), new Uint8Array(0)],
  strings: ['abc', 'a€😀', ''],
  improper: new ImproperList([1, atom('a')], tuple(2)),
  map: new ErlMap([
    [tuple(atom('k'), 1), [1, 2]],
    [atom('x'), new ErlMap()],
  ]),
  identifiers: [pid, new Ref(atom('n'), 1, [1, 2, 3, 4, 5]), new Port(atom('n'), 2n ** 60n, 2)],
  object: { a: { b: [{ c: 'd' }] } },
};

describe('truncation', () => {
  it.each(Object.entries(samples))('every prefix of %s', (label, t) => {
    expectEveryPrefixTruncated(encode(t), label);
  });

  it('every prefix of a compressed encoding', () => {
    const bytes = encode(
      Array.from({ length: 200 }, (_, i) => tuple(atom('item'), i)),
      { compressed: true },
    );
    expect(bytes[1]).toBe(80);
    expectEveryPrefixTruncated(bytes, 'compressed');
  });

  it('every prefix of every full encoding in the OTP corpus', () => {
    let checked = 0;
    for (const e of loadCorpus().entries) {
      for (const { label, hex } of fullEncodings(e)) {
        expectEveryPrefixTruncated(fromHex(hex), `${e.id}/${label}`);
        checked++;
      }
    }
    expect(checked).toBe(221);
  });

  it('decodeTerm reports truncation at the offset where bytes ran out', () => {
    const full = fromHex('68027701616203'); // {a, <INTEGER_EXT cut short>}
    let err: unknown;
    try {
      decodeTerm(full, 0);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ProtocolError);
    expect((err as ProtocolError).code).toBe(EtfErrorCode.TRUNCATED);
    expect((err as ProtocolError).offset).toBe(6);
  });
});
