import { describe, expect, it } from 'vitest';
import {
  atom,
  BitBinary,
  CourierError,
  decode,
  encode,
  EncodeError,
  Encoder,
  ErlExport,
  ErlFun,
  ErlMap,
  float,
  ImproperList,
  Pid,
  Port,
  Ref,
  termEquals,
  tuple,
  type Term,
} from '@courier/term';
import { fromHex, toHex } from '../support/bytes.js';

const hex = (t: Term): string => toHex(encode(t));

function encodeError(t: unknown): EncodeError {
  try {
    encode(t as Term);
  } catch (err) {
    expect(err).toBeInstanceOf(EncodeError);
    expect(err).toBeInstanceOf(CourierError);
    expect((err as EncodeError).code).toBe('ETF_UNENCODABLE');
    return err as EncodeError;
  }
  throw new Error('expected an EncodeError');
}

describe('integers', () => {
  it('picks SMALL_INTEGER, INTEGER, SMALL_BIG, LARGE_BIG at their boundaries like OTP', () => {
    expect(hex(0)).toBe('836100');
    expect(hex(255)).toBe('8361ff');
    expect(hex(256)).toBe('836200000100');
    expect(hex(-1)).toBe('8362ffffffff');
    expect(hex(2 ** 31 - 1)).toBe('83627fffffff');
    expect(hex(-(2 ** 31))).toBe('836280000000');
    expect(hex(2 ** 31)).toBe('836e040000000080');
    expect(hex(-(2 ** 31) - 1)).toBe('836e040101000080');
    expect(hex(2 ** 53 - 1)).toBe('836e0700ffffffffffff1f');
    expect(hex(2n ** 64n)).toBe('836e0900' + '00'.repeat(8) + '01');
    expect(hex(-(2n ** 64n))).toBe('836e0901' + '00'.repeat(8) + '01');
    expect(hex(2n ** 2040n - 1n)).toBe('836eff00' + 'ff'.repeat(255));
    expect(hex(2n ** 2040n)).toBe('836f0000010000' + '00'.repeat(255) + '01');
  });
  it('writes small bigints as integers and -0 as 0', () => {
    expect(hex(5n)).toBe('836105');
    expect(hex(-5n)).toBe('8362fffffffb');
    expect(hex(-0)).toBe('836100');
  });
  it('writes unsafe integral numbers by their exact value', () => {
    expect(decode(encode(1e20))).toBe(100000000000000000000n);
  });
});

describe('floats', () => {
  it('non-integral numbers and ErlFloat go as NEW_FLOAT_EXT', () => {
    expect(hex(1.5)).toBe('83463ff8000000000000');
    expect(hex(float(1))).toBe('83463ff0000000000000');
    expect(hex(float(-0))).toBe('83468000000000000000');
  });
  it('refuses NaN and infinities, plain or wrapped', () => {
    expect(encodeError(NaN).message).toMatch(/NaN/);
    encodeError(Infinity);
    encodeError(float(-Infinity));
  });
});

describe('atoms and the JS constants', () => {
  it('uses SMALL_ATOM_UTF8_EXT up to 255 bytes, ATOM_UTF8_EXT beyond', () => {
    expect(hex(atom('ok'))).toBe('8377026f6b');
    expect(hex(atom(''))).toBe('837700');
    expect(hex(atom('ünï'))).toBe('837705c3bc6ec3af');
    expect(hex(atom('é'.repeat(127)))).toBe('8377fe' + 'c3a9'.repeat(127));
    expect(hex(atom('é'.repeat(128)))).toBe('83760100' + 'c3a9'.repeat(128));
  });
  it('maps true/false/null/undefined to atoms', () => {
    expect(hex(true)).toBe('83770474727565');
    expect(hex(false)).toBe('83770566616c7365');
    expect(hex(null)).toBe('83770975' + '6e646566696e6564');
    expect(hex(undefined)).toBe(hex(null));
  });
  it('refuses an atom with an unpaired surrogate', () => {
    encodeError(atom('a\ud800'));
  });
});

describe('strings, lists, binaries', () => {
  it('a JS string of chars ≤ 0xFF is STRING_EXT; "" is NIL_EXT', () => {
    expect(hex('abc')).toBe('836b0003616263');
    expect(hex('é')).toBe('836b0001e9');
    expect(hex('')).toBe('836a');
    expect(hex('x'.repeat(65535)).slice(0, 8)).toBe('836bffff');
  });
  it('other strings are LIST_EXT of code points', () => {
    expect(hex('a€')).toBe('836c000000026161620000' + '20ac' + '6a');
    expect(hex('😀')).toBe('836c00000001620001f6006a');
    expect(hex('x'.repeat(65536)).slice(0, 14)).toBe('836c0001000061');
  });
  it('arrays: NIL_EXT, STRING_EXT for byte lists (as OTP), else LIST_EXT', () => {
    expect(hex([])).toBe('836a');
    expect(hex([1, 2, 3])).toBe('836b0003010203');
    expect(hex([1n, 255])).toBe('836b000201ff');
    expect(hex([1, 256])).toBe('836c00000002610162000001006a');
    expect(hex([1.5])).toBe('836c00000001463ff80000000000006a');
    expect(hex([atom('a'), []])).toBe('836c000000027701616a6a');
  });
  it('improper lists: LIST_EXT with the tail instead of NIL_EXT; no items means just the tail', () => {
    expect(hex(new ImproperList([1], 2))).toBe('836c0000000161016102');
    expect(hex(new ImproperList([], atom('a')))).toBe('83770161');
  });
  it('binaries and bitstrings; unused bits are cleared, whole bytes are a binary', () => {
    expect(hex(new Uint8Array([1, 2]))).toBe('836d000000020102');
    expect(hex(Buffer.from('hi'))).toBe('836d000000026869');
    expect(hex(new BitBinary(new Uint8Array([1, 0xff]), 4))).toBe('834d000000020401f0');
    expect(hex(new BitBinary(new Uint8Array([7]), 8))).toBe('836d0000000107');
    expect(hex(new BitBinary(new Uint8Array(0), 3))).toBe('836d00000000');
    encodeError(new BitBinary(new Uint8Array([1]), 0));
  });
});

describe('containers', () => {
  it('tuples switch to LARGE_TUPLE_EXT past 255 elements', () => {
    expect(hex(tuple())).toBe('836800');
    expect(hex(tuple(atom('ok'), 1))).toBe('8368027702' + '6f6b6101');
    expect(hex(tuple(...new Array<Term>(255).fill(0))).slice(0, 6)).toBe('8368ff');
    expect(hex(tuple(...new Array<Term>(256).fill(0))).slice(0, 12)).toBe('836900000100');
  });
  it('ErlMap in iteration order; plain objects with atom keys', () => {
    expect(
      hex(
        new ErlMap([
          [atom('a'), 1],
          [2, 3],
        ]),
      ),
    ).toBe('837400000002770161' + '6101' + '61026103');
    expect(hex({ a: 1 })).toBe(hex(new ErlMap([[atom('a'), 1]])));
    expect(hex(new ErlMap())).toBe('837400000000');
    expect(hex(Object.create(null) as Term)).toBe('837400000000');
  });
  it('pids, refs and ports in their newest forms', () => {
    expect(hex(new Pid(atom('n'), 1, 2, 3))).toBe('83587701' + '6e' + '000000010000000200000003');
    expect(hex(new Ref(atom('n'), 3, [1, 2, 3]))).toBe('835a00037701' + '6e' + '00000003000000010000000200000003');
    expect(hex(new Port(atom('n'), 2n ** 40n, 3))).toBe('83787701' + '6e' + '000001000000000000000003');
    encodeError(new Ref(atom('n'), 3, []));
    encodeError(new Ref(atom('n'), 3, [1, 2, 3, 4, 5, 6]));
    encodeError(new Pid(atom('n'), -1, 0, 0));
    encodeError(new Port(atom('n'), 1.5, 0));
  });
  it('funs: EXPORT_EXT, and NEW_FUN_EXT with its Size patched', () => {
    expect(hex(new ErlExport(atom('lists'), atom('map'), 2))).toBe('8371770' + '56c69737473' + '7703' + '6d6170' + '6102');
    const corpus =
      '837000000054017613919a7778df48eaaccf2288ae2c3f0000000300000001' +
      '770e67656e5f6574665f636f7270757361036203b09c8c58770d67656e403132372e302e302e3100000009000000006b02306f6105';
    const f = new ErlFun(1, fromHex('7613919a7778df48eaaccf2288ae2c3f'), 3, atom('gen_etf_corpus'), 3, 61906060, new Pid(atom('gen@127.0.0.1'), 9, 0, 0x6b02306f), [5]);
    expect(hex(f)).toBe(corpus.replace('0000005401', '0000005201'));
    encodeError(new ErlFun(1, new Uint8Array(15), 3, atom('m'), 3, 1, new Pid(atom('n'), 1, 0, 0), []));
  });
});

describe('errors name the value and where it is', () => {
  it('functions, symbols and class instances', () => {
    expect(encodeError(() => 1).message).toMatch(/cannot encode a function/);
    expect(encodeError(Symbol('s')).message).toMatch(/symbol Symbol\(s\)/);
    expect(encodeError(new Date(0)).message).toMatch(/a Date/);
    expect(encodeError(new Map()).message).toMatch(/a Map/);
  });
  it('gives a path into the term', () => {
    expect(encodeError([1, tuple(2, Symbol('x') as unknown as Term)]).message).toMatch(/at \$\[1\]\{1\}$/);
    expect(encodeError({ user: { name: NaN } }).message).toMatch(/at \$\.user\.name$/);
    expect(encodeError(new ErlMap([[atom('k'), [() => 0]]])).message).toMatch(/at \$#\{k\}\[0\]$/);
    expect(encodeError(new ErlMap([[() => 0, 1]])).message).toMatch(/at \$#key$/);
  });
  it('an object key too long for an atom', () => {
    encodeError({ ['k'.repeat(256)]: 1 });
  });
  it('a cyclic term fails on depth instead of running away', () => {
    const cyclic: Term[] = [];
    cyclic.push(cyclic);
    const message = encodeError(cyclic).message;
    expect(message).toMatch(/deeper than 100000/);
    expect(message).toMatch(/at \$(\[0\]){10}…\(99980 levels\)…(\[0\]){10}$/);
    expect(() => encode([[[atom('x')]]], { maxDepth: 2 })).toThrow(EncodeError);
    expect(() => new Encoder({ maxDepth: 3 }).writeTerm([[[[atom('x')]]]])).toThrow(EncodeError);
  });
});

describe('Encoder', () => {
  it('reuses one buffer: reset, version, terms, finish (a copy) or subarray (a view)', () => {
    const enc = new Encoder({ initialCapacity: 4 });
    enc.writeUint8(112); // e.g. a pass-through header
    enc.writeVersion();
    enc.writeTerm(tuple(atom('ok'), 'x'.repeat(100)));
    const first = enc.finish();
    expect(first[0]).toBe(112);
    expect(termEquals(decode(first.subarray(1)), tuple(atom('ok'), 'x'.repeat(100)))).toBe(true);
    const capacity = enc.capacity;
    enc.reset();
    enc.writeVersion();
    enc.writeTerm(1);
    expect(toHex(enc.subarray())).toBe('836101');
    expect(enc.capacity).toBe(capacity);
    expect(first[0]).toBe(112); // the copy is unaffected by later writes
  });
  it('a failed writeTerm leaves the bytes written before it intact', () => {
    const enc = new Encoder();
    enc.writeVersion();
    expect(() => enc.writeTerm([1, 2, Symbol('bad') as unknown as Term])).toThrow(EncodeError);
    enc.writeTerm(7);
    expect(toHex(enc.finish())).toBe('836107');
  });
  it('walks terms far deeper than the call stack allows', () => {
    let deep: Term = [];
    for (let i = 0; i < 50_000; i++) deep = [deep];
    const bytes = encode(deep);
    expect(bytes.length).toBe(1 + 50_000 * 6 + 1);
  });
  it('encode() returns bytes the caller owns', () => {
    const a = encode(new Uint8Array(100_000).fill(1));
    const b = encode(new Uint8Array(100_000).fill(2));
    expect(a[10]).toBe(1);
    expect(b[10]).toBe(2);
    const c = encode(1);
    const d = encode(2);
    expect(toHex(c)).toBe('836101');
    expect(toHex(d)).toBe('836102');
  });
});
