import { describe, expect, it } from 'vitest';
import { atom, BitBinary, decode, decodeTerm, ErlExport, ErlFloat, ErlFun, ErlMap, EtfErrorCode, ImproperList, Pid, Port, Ref, termEquals, Tuple } from '@courier/term';
import { bytes, fromHex, protocolError } from '../support/bytes.js';

const V = 131;
/** SMALL_ATOM_UTF8_EXT of an ASCII name. */
const a8 = (name: string): number[] => [119, name.length, ...Buffer.from(name)];
const u32 = (v: number): number[] => [(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];

function dec(...parts: (number | number[] | Uint8Array)[]): unknown {
  return decode(bytes(V, ...parts));
}
function code(...parts: (number | number[] | Uint8Array)[]): string {
  return protocolError(() => dec(...parts)).code;
}

describe('integers', () => {
  it('SMALL_INTEGER_EXT (97) covers 0..255', () => {
    expect(dec(97, 0)).toBe(0);
    expect(dec(97, 255)).toBe(255);
  });
  it('INTEGER_EXT (98) is signed 32-bit', () => {
    expect(dec(98, u32(0x7fffffff))).toBe(2147483647);
    expect(dec(98, u32(0x80000000))).toBe(-2147483648);
    expect(dec(98, u32(0xffffffff))).toBe(-1);
  });
  it('SMALL_BIG_EXT (110) decodes to number while safe, bigint beyond', () => {
    expect(dec(110, 4, 0, 0, 0, 0, 0x80)).toBe(2 ** 31);
    expect(dec(110, 7, 1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x1f)).toBe(-(2 ** 53 - 1));
    expect(dec(110, 7, 0, 0, 0, 0, 0, 0, 0, 0x20)).toBe(2n ** 53n);
    expect(dec(110, 8, 1, 0, 0, 0, 0, 0, 0, 0, 0x80)).toBe(-(2n ** 63n));
    expect(dec(110, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1)).toBe(2n ** 64n);
  });
  it('accepts non-canonical bignums as OTP does: zero digits, leading zero bytes', () => {
    expect(dec(110, 0, 0)).toBe(0);
    expect(dec(110, 0, 1)).toBe(0);
    expect(dec(110, 3, 0, 5, 0, 0)).toBe(5);
  });
  it('LARGE_BIG_EXT (111) has a 32-bit length', () => {
    const digits = new Uint8Array(256);
    digits[255] = 1;
    expect(dec(111, u32(256), 1, digits)).toBe(-(2n ** 2040n));
  });
  it('rejects a sign byte other than 0 or 1', () => {
    expect(code(110, 1, 2, 5)).toBe(EtfErrorCode.BAD_VALUE);
  });
});

describe('floats', () => {
  it('NEW_FLOAT_EXT (70): non-integral values are numbers', () => {
    expect(dec(fromHex('463ff8000000000000'))).toBe(1.5);
  });
  it('integral values, -0.0 and huge ones stay floats as ErlFloat', () => {
    for (const [hex, v] of [
      ['463ff0000000000000', 1],
      ['468000000000000000', -0],
      ['467fe1ccf385ebc8a0', 1e308],
    ] as const) {
      const t = dec(fromHex(hex));
      expect(t).toBeInstanceOf(ErlFloat);
      expect(Object.is((t as ErlFloat).value, v)).toBe(true);
    }
  });
  it('rejects NaN and infinities', () => {
    expect(code(fromHex('467ff0000000000000'))).toBe(EtfErrorCode.BAD_VALUE);
    expect(code(fromHex('46fff0000000000000'))).toBe(EtfErrorCode.BAD_VALUE);
    expect(code(fromHex('467ff8000000000000'))).toBe(EtfErrorCode.BAD_VALUE);
  });
  it('FLOAT_EXT (99): 31 bytes of NUL-terminated text, in the forms OTP 25 accepts', () => {
    const text = (s: string): number[] => [99, ...Buffer.from(s), ...new Array<number>(31 - s.length).fill(0)];
    expect(dec(text('1.50000000000000000000e+00'))).toBe(1.5);
    expect(dec(text('-1.5'))).toBe(-1.5);
    expect((dec(text('0.0')) as ErlFloat).value).toBe(0);
    expect(dec(text('1.5e-400'))).toBeInstanceOf(ErlFloat); // underflows to 0.0, as in OTP
    for (const bad of ['15', '1.e5', '.5', '1.5 ', 'nan', '1.0e400', '1.5e', '1..5']) {
      expect(code(text(bad)), bad).toBe(EtfErrorCode.BAD_VALUE);
    }
    expect(code(99, ...new Array<number>(31).fill(0x31))).toBe(EtfErrorCode.BAD_VALUE); // no NUL
  });
});

describe('atoms', () => {
  it('reads all four atom tags; true/false become booleans', () => {
    expect(dec(100, 0, 2, 0x6f, 0x6b)).toBe(atom('ok'));
    expect(dec(115, 2, 0x6f, 0x6b)).toBe(atom('ok'));
    expect(dec(118, 0, 2, 0x6f, 0x6b)).toBe(atom('ok'));
    expect(dec(a8('ok'))).toBe(atom('ok'));
    expect(dec(a8('true'))).toBe(true);
    expect(dec(100, 0, 5, ...Buffer.from('false'))).toBe(false);
    expect(dec(a8(''))).toBe(atom(''));
  });
  it('ATOM_EXT is Latin-1 (not windows-1252), UTF-8 tags are UTF-8', () => {
    expect(dec(100, 0, 3, 0xfc, 0x6e, 0xef)).toBe(atom('ünï'));
    expect(dec(115, 1, 0x80)).toBe(atom('\u0080'));
    expect(dec(119, 4, 0xf0, 0x9f, 0x98, 0x80)).toBe(atom('😀'));
  });
  it('keeps a leading BOM, as OTP does', () => {
    expect(dec(119, 3, 0xef, 0xbb, 0xbf)).toBe(atom('\ufeff'));
  });
  it('allows 255 characters and no more', () => {
    const cjk = Buffer.from('こ'.repeat(255));
    expect(dec(118, 0x02, 0xfd, cjk)).toBe(atom('こ'.repeat(255)));
    expect(code(118, 0x03, 0x00, Buffer.from('こ'.repeat(256)))).toBe(EtfErrorCode.LIMIT);
    expect(code(100, 1, 0, new Uint8Array(256).fill(0x61))).toBe(EtfErrorCode.LIMIT);
    expect(code(118, 1, 0, new Uint8Array(256).fill(0x61))).toBe(EtfErrorCode.LIMIT);
  });
  it('rejects invalid UTF-8: overlong, surrogate, stray continuation', () => {
    expect(code(119, 2, 0xc0, 0x80)).toBe(EtfErrorCode.BAD_VALUE);
    expect(code(119, 3, 0xed, 0xa0, 0x80)).toBe(EtfErrorCode.BAD_VALUE);
    expect(code(119, 1, 0x80)).toBe(EtfErrorCode.BAD_VALUE);
  });
  it('ATOM_CACHE_REF (82) goes through the resolver; unknown or absent → ETF_ATOM_CACHE_MISS', () => {
    const cache = (i: number) => (i === 3 ? atom('net_kernel') : undefined);
    expect(decodeTerm(bytes(82, 3), 0, { atomCache: cache })).toEqual({ term: atom('net_kernel'), end: 2 });
    const miss = protocolError(() => decodeTerm(bytes(104, 1, 82, 4), 0, { atomCache: cache }));
    expect(miss.code).toBe(EtfErrorCode.ATOM_CACHE_MISS);
    expect(miss.offset).toBe(2);
    expect(protocolError(() => decodeTerm(bytes(82, 3), 0)).code).toBe(EtfErrorCode.ATOM_CACHE_MISS);
  });
});

describe('binaries and bitstrings', () => {
  it('BINARY_EXT (109) returns a view into the input unless copyBinaries', () => {
    const input = bytes(V, 109, u32(3), 1, 2, 3);
    const view = decode(input) as Uint8Array;
    expect([...view]).toEqual([1, 2, 3]);
    expect(view.buffer).toBe(input.buffer);
    const copy = decode(input, { copyBinaries: true }) as Uint8Array;
    expect([...copy]).toEqual([1, 2, 3]);
    expect(copy.buffer).not.toBe(input.buffer);
    expect(dec(109, u32(0))).toEqual(new Uint8Array(0));
  });
  it('BIT_BINARY_EXT (77): bits 1..7 give BitBinary, 8 a binary, len 0 needs bits 0', () => {
    const b = dec(77, u32(3), 4, 1, 2, 0x30) as BitBinary;
    expect(b).toBeInstanceOf(BitBinary);
    expect(b.bits).toBe(4);
    expect(b.bitLength).toBe(20);
    expect(dec(77, u32(1), 8, 0xff)).toEqual(new Uint8Array([0xff]));
    expect(dec(77, u32(0), 0)).toEqual(new Uint8Array(0));
    expect(code(77, u32(0), 3)).toBe(EtfErrorCode.BAD_VALUE);
    expect(code(77, u32(1), 0, 0xff)).toBe(EtfErrorCode.BAD_VALUE);
    expect(code(77, u32(1), 9, 0xff)).toBe(EtfErrorCode.BAD_VALUE);
  });
  it('clears unused bits of the last byte without touching the input', () => {
    const input = bytes(V, 77, u32(1), 1, 0xff);
    const b = decode(input) as BitBinary;
    expect(b.bytes[0]).toBe(0x80);
    expect(input[7]).toBe(0xff);
  });
});

describe('lists and strings', () => {
  it('NIL_EXT (106) is a fresh empty array', () => {
    const a = dec(106) as unknown[];
    expect(a).toEqual([]);
    expect(dec(106)).not.toBe(a);
  });
  it('STRING_EXT (107) is a JS string of Latin-1 chars, including the empty one', () => {
    expect(dec(107, 0, 3, 1, 2, 3)).toBe('\x01\x02\x03');
    expect(dec(107, 0, 2, 0xe9, 0xff)).toBe('éÿ');
    expect(dec(107, 0, 0)).toBe('');
    expect(dec(107, 0xff, 0xff, new Uint8Array(65535).fill(0x78))).toBe('x'.repeat(65535));
  });
  it('LIST_EXT (108) with NIL tail is an array; another tail makes an ImproperList', () => {
    expect(dec(108, u32(2), 97, 1, 97, 2, 106)).toEqual([1, 2]);
    const l = dec(108, u32(2), a8('a'), a8('b'), a8('c')) as ImproperList;
    expect(l).toBeInstanceOf(ImproperList);
    expect(l.items).toEqual([atom('a'), atom('b')]);
    expect(l.tail).toBe(atom('c'));
  });
  it('a list tail that is a list continues it, as binary_to_term does', () => {
    expect(dec(108, u32(1), 97, 1, 108, u32(1), 97, 2, 106)).toEqual([1, 2]);
    expect(dec(108, u32(1), 97, 1, 107, 0, 2, 65, 66)).toEqual([1, 65, 66]);
    expect(dec(108, u32(0), 106)).toEqual([]);
    expect(dec(108, u32(0), a8('a'))).toBe(atom('a'));
    expect(dec(108, u32(1), 97, 1, 108, u32(0), 108, u32(1), 97, 2, 97, 3)).toEqual(new ImproperList([1, 2], 3));
  });
});

describe('tuples and maps', () => {
  it('SMALL_TUPLE_EXT (104) and LARGE_TUPLE_EXT (105), including empty ones', () => {
    expect(dec(104, 0)).toEqual(new Tuple([]));
    expect(dec(105, u32(0))).toEqual(new Tuple([]));
    expect(dec(104, 2, a8('ok'), 97, 42)).toEqual(new Tuple([atom('ok'), 42]));
    const big = dec(
      105,
      u32(300),
      new Uint8Array(600).map((_, i) => (i % 2 === 0 ? 97 : (i >> 1) & 0xff)),
    ) as Tuple;
    expect(big.length).toBe(300);
    expect(big.at(299)).toBe(299 & 0xff);
  });
  it('MAP_EXT (116) keeps wire order and accepts any key', () => {
    const m = dec(116, u32(2), 104, 2, a8('a'), 97, 1, 97, 9, a8('x'), 97, 8) as ErlMap;
    expect(m).toBeInstanceOf(ErlMap);
    expect(m.get(new Tuple([atom('a'), 1]))).toBe(9);
    expect(m.keys()).toEqual([new Tuple([atom('a'), 1]), atom('x')]);
    expect((dec(116, u32(0)) as ErlMap).size).toBe(0);
  });
  it('rejects duplicate keys, like binary_to_term', () => {
    expect(code(116, u32(2), 97, 1, 97, 1, 97, 1, 97, 2)).toBe(EtfErrorCode.BAD_VALUE);
  });
});

describe('pids, ports, references', () => {
  it('NEW_PID_EXT (88) and PID_EXT (103)', () => {
    expect(dec(88, a8('n@h'), u32(1), u32(2), u32(0xdeadbeef))).toEqual(new Pid(atom('n@h'), 1, 2, 0xdeadbeef));
    expect(dec(103, 100, 0, 3, ...Buffer.from('n@h'), u32(1), u32(2), 3)).toEqual(new Pid(atom('n@h'), 1, 2, 3));
  });
  it('a node named true stays an atom', () => {
    expect((dec(88, a8('true'), u32(1), u32(0), u32(0)) as Pid).node).toBe(atom('true'));
  });
  it('V4_PORT_EXT (120) has a 64-bit id; NEW_PORT_EXT (89) and PORT_EXT (102) 32-bit', () => {
    expect(dec(120, a8('n'), u32(0), u32(8), u32(1))).toEqual(new Port(atom('n'), 8, 1));
    expect(dec(120, a8('n'), u32(0xffffffff), u32(0xffffffff), u32(1))).toEqual(new Port(atom('n'), 2n ** 64n - 1n, 1));
    expect(dec(89, a8('n'), u32(8), u32(7))).toEqual(new Port(atom('n'), 8, 7));
    expect(dec(102, a8('n'), u32(8), 3)).toEqual(new Port(atom('n'), 8, 3));
  });
  it('NEWER_REFERENCE_EXT (90) takes 1..5 words; NEW_REFERENCE_EXT (114), REFERENCE_EXT (101)', () => {
    expect(dec(90, 0, 3, a8('n'), u32(9), u32(1), u32(2), u32(3))).toEqual(new Ref(atom('n'), 9, [1, 2, 3]));
    expect(dec(90, 0, 5, a8('n'), u32(9), u32(1), u32(2), u32(3), u32(4), u32(5))).toEqual(new Ref(atom('n'), 9, [1, 2, 3, 4, 5]));
    expect(dec(114, 0, 1, a8('n'), 3, u32(1))).toEqual(new Ref(atom('n'), 3, [1]));
    expect(dec(101, a8('n'), u32(1), 3)).toEqual(new Ref(atom('n'), 3, [1]));
    expect(code(90, 0, 0, a8('n'), u32(9))).toBe(EtfErrorCode.BAD_VALUE);
    expect(code(90, 0, 6, a8('n'), u32(9), new Uint8Array(24))).toBe(EtfErrorCode.BAD_VALUE);
  });
  it('a node name must be an atom', () => {
    expect(code(88, 97, 1, u32(1), u32(0), u32(0))).toBe(EtfErrorCode.BAD_VALUE);
  });
});

describe('funs', () => {
  const pid = [88, ...a8('n@h'), ...u32(9), ...u32(0), ...u32(1)];
  const uniq = new Array<number>(16).fill(0xab);
  /** NEW_FUN_EXT with a correct (or adjusted) Size field. */
  function fun(freeVars: number[][], sizeDelta = 0): number[] {
    const body = [1, ...uniq, ...u32(3), ...u32(freeVars.length), ...a8('m'), 97, 3, 98, ...u32(61906060), ...pid, ...freeVars.flat()];
    return [112, ...u32(4 + body.length + sizeDelta), ...body];
  }
  it('EXPORT_EXT (113): module, function, arity', () => {
    expect(dec(113, a8('lists'), a8('map'), 97, 2)).toEqual(new ErlExport(atom('lists'), atom('map'), 2));
    expect(code(113, a8('lists'), a8('map'), 98, u32(256))).toBe(EtfErrorCode.BAD_VALUE);
  });
  it('NEW_FUN_EXT (112) with and without free variables', () => {
    const f = dec(fun([[97, 5], [a8('x')].flat()])) as ErlFun;
    expect(f).toBeInstanceOf(ErlFun);
    expect(f.arity).toBe(1);
    expect(f.index).toBe(3);
    expect(f.module).toBe(atom('m'));
    expect(f.oldIndex).toBe(3);
    expect(f.oldUniq).toBe(61906060);
    expect(f.pid).toEqual(new Pid(atom('n@h'), 9, 0, 1));
    expect(f.freeVars).toEqual([5, atom('x')]);
    expect([...f.uniq]).toEqual(uniq);
    expect((dec(fun([])) as ErlFun).freeVars).toEqual([]);
  });
  it('checks the Size field (stricter than OTP 25, which ignores it)', () => {
    expect(code(fun([[97, 5]], 1))).toBe(EtfErrorCode.BAD_VALUE);
    expect(code(fun([], -1))).toBe(EtfErrorCode.BAD_VALUE);
  });
});

describe('framing', () => {
  it('decode wants the version byte and nothing after the term', () => {
    expect(protocolError(() => decode(bytes(130, 97, 1))).code).toBe(EtfErrorCode.BAD_VERSION);
    const trailing = protocolError(() => decode(bytes(V, 97, 1, 0)));
    expect(trailing.code).toBe(EtfErrorCode.TRAILING_BYTES);
    expect(trailing.offset).toBe(3);
    expect(protocolError(() => decode(new Uint8Array(0))).code).toBe(EtfErrorCode.TRUNCATED);
  });
  it('decodeTerm reads one term at an offset and reports where it ended', () => {
    const buf = bytes(0xee, 104, 2, 97, 1, 97, 2, 106, 0xee);
    const r = decodeTerm(buf, 1);
    expect(termEquals(r.term, new Tuple([1, 2]))).toBe(true);
    expect(r.end).toBe(7);
    expect(decodeTerm(buf, 7)).toEqual({ term: [], end: 8 });
    expect(() => decodeTerm(buf, 10)).toThrow(RangeError);
  });
  it('unknown, removed and node-local tags are rejected with their offset', () => {
    const unknown = protocolError(() => dec(104, 1, 7));
    expect(unknown.code).toBe(EtfErrorCode.UNKNOWN_TAG);
    expect(unknown.offset).toBe(3);
    expect(code(121, 0)).toBe(EtfErrorCode.UNSUPPORTED_TAG);
    expect(code(117, 0)).toBe(EtfErrorCode.UNSUPPORTED_TAG);
    expect(code(104, 1, 80, u32(2), 0x78, 0x9c)).toBe(EtfErrorCode.UNSUPPORTED_TAG);
    expect(code(68)).toBe(EtfErrorCode.UNKNOWN_TAG);
  });
});
