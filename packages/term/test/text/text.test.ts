import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ErlFloat, ErlMap, ImproperList, Tuple, atom, consultErlang, formatErlang, parseErlang, termEquals, type Term } from '@courier/term';

describe('Erlang term text', () => {
  it('parses the forms users type', () => {
    const t = parseErlang('{ok, [1, <<"x">>, #{a => 1}]}.');
    expect(termEquals(t, new Tuple([atom('ok'), [1, Buffer.from('x'), new ErlMap([[atom('a'), 1]])]]))).toBe(true);
    expect(parseErlang("'hello world'")).toBe(atom('hello world'));
    expect(parseErlang('16#ff')).toBe(255);
    expect(parseErlang('-2#101')).toBe(-5);
    expect(parseErlang('$a')).toBe(97);
    expect(parseErlang('123456789012345678901234567890')).toBe(123456789012345678901234567890n);
    expect(parseErlang('1.5e3')).toEqual(new ErlFloat(1500));
    expect(parseErlang('0.25')).toBe(0.25);
    expect(parseErlang('2.0')).toEqual(new ErlFloat(2));
    expect(parseErlang('[a, b | c]')).toEqual(new ImproperList([atom('a'), atom('b')], atom('c')));
    expect(parseErlang('[1 | [2, 3]]')).toEqual([1, 2, 3]);
    expect(parseErlang('"abc"')).toBe('abc');
    expect(parseErlang('<<"é"/utf8>>')).toEqual(Uint8Array.from(Buffer.from('é')));
    expect(parseErlang('<<1, 2, 255>>')).toEqual(Uint8Array.from([1, 2, 255]));
    expect(parseErlang('true')).toBe(true);
    expect(parseErlang(' % comment\n {}')).toEqual(new Tuple([]));
  });

  it('reads an -ssl_dist_optfile with consult', () => {
    const [opts] = consultErlang(`[{server, [{certfile, "/a/node.pem"}, {verify, verify_peer}, {fail_if_no_peer_cert, true}]},
      {client, [{cacertfile, "/a/ca.pem"}, {versions, ['tlsv1.3']}]}].`);
    expect(Array.isArray(opts)).toBe(true);
    expect(formatErlang(opts)).toBe(
      '[{server,[{certfile,"/a/node.pem"},{verify,verify_peer},{fail_if_no_peer_cert,true}]},{client,[{cacertfile,"/a/ca.pem"},{versions,[\'tlsv1.3\']}]}]',
    );
  });

  it('rejects bad syntax with an offset', () => {
    for (const bad of ['{ok', '[1,,2]', '<<"x"', "'abc", '#{a 1}', '{} junk', '']) {
      expect(() => parseErlang(bad)).toThrow(/at byte \d+/);
    }
  });

  it('format then parse round-trips', () => {
    const arb = fc.letrec<{ t: Term }>((tie) => ({
      t: fc.oneof(
        { depthSize: 'small' },
        fc.integer(),
        fc.bigInt({ min: -(2n ** 100n), max: 2n ** 100n }),
        fc.double({ noNaN: true, noDefaultInfinity: true }).map((d) => (Number.isInteger(d) ? new ErlFloat(d) : d)),
        fc.string().map((s) => atom(s.slice(0, 50))),
        fc.uint8Array({ maxLength: 20 }),
        fc.array(tie('t'), { maxLength: 4 }),
        fc.array(tie('t'), { maxLength: 4 }).map((xs) => new Tuple(xs)),
        fc.array(fc.tuple(tie('t'), tie('t')), { maxLength: 3 }).map((es) => new ErlMap(es)),
      ),
    })).t;
    fc.assert(
      fc.property(arb, (t) => {
        expect(termEquals(parseErlang(formatErlang(t)), t)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });
});
