import { describe, expect, it } from 'vitest';
import { Pid, Ref, Tuple, atom, atoms, decodeTerm, encode, termKey, type Term } from '@courier/term';
import { ControlErrorCode, ControlOp, decodeControl, encodeControl, type ControlOptions } from '../../src/control/control.js';
import type { DistOp } from '@courier/core';

const A = atom('a@host');
const B = atom('b@host');
const from = new Pid(A, 11, 0, 7);
const to = new Pid(B, 22, 1, 9);
const ref = new Ref(A, 7, [1, 2, 3]);
const reason = new Tuple([atom('shutdown'), atom('x')]);
const msg: Term = [1, atom('two'), new Uint8Array([3])];
const token = atom('trace_token');
const t = (...e: Term[]): Tuple => new Tuple(e);
const E = atoms.empty;

const plain: ControlOptions = { payloadExits: false, sendSender: false };
const rich: ControlOptions = { payloadExits: true, sendSender: true };

/** op, expected {control, payload} without and with the optional peer flags. */
const table: Array<[DistOp, [Term[], Term | undefined], [Term[], Term | undefined]]> = [
  [{ op: 'send', from, to, msg }, [[2, E, to], msg], [[22, from, to], msg]],
  [{ op: 'reg_send', from, to: atom('srv'), msg }, [[6, from, E, atom('srv')], msg], [[6, from, E, atom('srv')], msg]],
  [{ op: 'alias_send', from, alias: ref, msg }, [[33, from, ref], msg], [[33, from, ref], msg]],
  [{ op: 'link', from, to }, [[1, from, to], undefined], [[1, from, to], undefined]],
  [{ op: 'unlink_id', id: 5n, from, to }, [[35, 5, from, to], undefined], [[35, 5, from, to], undefined]],
  [{ op: 'unlink_id_ack', id: 5n, from, to }, [[36, 5, from, to], undefined], [[36, 5, from, to], undefined]],
  [{ op: 'exit', from, to, reason }, [[3, from, to, reason], undefined], [[24, from, to], reason]],
  [{ op: 'exit2', from, to, reason }, [[8, from, to, reason], undefined], [[26, from, to], reason]],
  [{ op: 'monitor_p', from, to, ref }, [[19, from, to, ref], undefined], [[19, from, to, ref], undefined]],
  [{ op: 'monitor_p', from, to: atom('srv'), ref }, [[19, from, atom('srv'), ref], undefined], [[19, from, atom('srv'), ref], undefined]],
  [{ op: 'demonitor_p', from, to, ref }, [[20, from, to, ref], undefined], [[20, from, to, ref], undefined]],
  [{ op: 'monitor_p_exit', from: to, to: from, ref, reason }, [[21, to, from, ref, reason], undefined], [[28, to, from, ref], reason]],
  [
    { op: 'monitor_p_exit', from: atom('srv'), to: from, ref, reason: atoms.noproc },
    [[21, atom('srv'), from, ref, atoms.noproc], undefined],
    [[28, atom('srv'), from, ref], atoms.noproc],
  ],
  [
    { op: 'spawn_request', reqId: ref, from, groupLeader: from, module: atom('m'), fun: atom('f'), args: [1, atom('x')], opts: [atom('monitor')] },
    [
      [29, ref, from, from, t(atom('m'), atom('f'), 2), [atom('monitor')]],
      [1, atom('x')],
    ],
    [
      [29, ref, from, from, t(atom('m'), atom('f'), 2), [atom('monitor')]],
      [1, atom('x')],
    ],
  ],
  [{ op: 'spawn_reply', reqId: ref, to: from, flags: 3, result: to }, [[31, ref, from, 3, to], undefined], [[31, ref, from, 3, to], undefined]],
  [{ op: 'spawn_reply', reqId: ref, to: from, flags: 0, result: atom('badopt') }, [[31, ref, from, 0, atom('badopt')], undefined], [[31, ref, from, 0, atom('badopt')], undefined]],
  [{ op: 'group_leader', from, to }, [[7, from, to], undefined], [[7, from, to], undefined]],
];

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return (e as { code?: string }).code;
  }
  return undefined;
}

describe('encodeControl', () => {
  for (const [op, basic, full] of table) {
    it(`${op.op} → Erlang tuples (${String(basic[0][0])} / ${String(full[0][0])})`, () => {
      for (const [opts, [control, payload]] of [
        [plain, basic],
        [rich, full],
      ] as const) {
        const m = encodeControl(op, opts);
        expect(m.control.elements).toEqual(control);
        expect(m.payload).toEqual(payload);
        expect('payload' in m).toBe(payload !== undefined);
      }
    });
  }

  it('sends SEND without a sender even when the peer takes SEND_SENDER', () => {
    expect(encodeControl({ op: 'send', to, msg }, rich).control.elements).toEqual([2, E, to]);
  });

  it('never leaves a payload undefined (JS undefined travels as the atom)', () => {
    expect(encodeControl({ op: 'send', to, msg: undefined }, plain).payload).toBe(atoms.undefined);
  });

  it('sends a 64-bit unlink id as a bigint', () => {
    const id = (1n << 64n) - 1n;
    expect(encodeControl({ op: 'unlink_id', id, from, to }, plain).control.elements[1]).toBe(id);
  });
});

describe('decodeControl', () => {
  for (const [op, basic, full] of table) {
    it(`${op.op} round-trips with and without the optional flags`, () => {
      for (const opts of [plain, rich]) {
        const m = encodeControl(op, opts);
        const back = decodeControl(m.control, m.payload);
        const expected = op.op === 'send' && !opts.sendSender ? { op: 'send', to: op.to, msg: op.msg } : op;
        expect(back).toEqual(expected);
      }
      void basic;
      void full;
    });
  }

  it('drops the trace token of every _TT variant', () => {
    const cases: Array<[Term[], Term | undefined, DistOp]> = [
      [[12, E, to, token], msg, { op: 'send', to, msg }],
      [[23, from, to, token], msg, { op: 'send', from, to, msg }],
      [[13, from, to, token, reason], undefined, { op: 'exit', from, to, reason }],
      [[18, from, to, token, reason], undefined, { op: 'exit2', from, to, reason }],
      [[16, from, E, atom('srv'), token], msg, { op: 'reg_send', from, to: atom('srv'), msg }],
      [[25, from, to, token], reason, { op: 'exit', from, to, reason }],
      [[27, from, to, token], reason, { op: 'exit2', from, to, reason }],
      [
        [30, ref, from, from, t(atom('m'), atom('f'), 0), [], token],
        [],
        { op: 'spawn_request', reqId: ref, from, groupLeader: from, module: atom('m'), fun: atom('f'), args: [], opts: [] },
      ],
      [[32, ref, from, 2, to, token], undefined, { op: 'spawn_reply', reqId: ref, to: from, flags: 2, result: to }],
      [[34, from, ref, token], msg, { op: 'alias_send', from, alias: ref, msg }],
    ];
    for (const [control, payload, op] of cases) expect(decodeControl(t(...control), payload)).toEqual(op);
  });

  it('reads a STRING_EXT argument list as character codes', () => {
    const op = decodeControl(t(29, ref, from, from, t(atom('m'), atom('f'), 3), []), '\x01\x02\xff');
    expect(op).toMatchObject({ op: 'spawn_request', args: [1, 2, 255] });
  });

  it('turns names decoded as booleans back into atoms', () => {
    expect(decodeControl(t(6, from, E, true), msg)).toEqual({ op: 'reg_send', from, to: atoms.true, msg });
    expect(decodeControl(t(19, from, false, ref), undefined)).toEqual({ op: 'monitor_p', from, to: atoms.false, ref });
  });

  it('accepts unlink ids from 0 to 2^64-1, as numbers or bigints', () => {
    expect(decodeControl(t(35, 0, from, to), undefined)).toMatchObject({ id: 0n });
    expect(decodeControl(t(36, (1n << 64n) - 1n, from, to), undefined)).toMatchObject({ id: (1n << 64n) - 1n });
  });

  it('rejects malformed control messages with BAD_CONTROL', () => {
    const bad: Array<[Term, Term | undefined]> = [
      [atom('link'), undefined],
      [t(), undefined],
      [t(atom('x'), from, to), undefined],
      [t(1.5, from, to), undefined],
      [t(1, from), undefined],
      [t(1, from, to, to), undefined],
      [t(1, atom('x'), to), undefined],
      [t(1, from, to), msg],
      [t(2, E, to), undefined],
      [t(2, E, atom('name')), msg],
      [t(6, from, E, 42), msg],
      [t(19, from, to, 42), undefined],
      [t(21, 42, from, ref, reason), undefined],
      [t(29, ref, from, from, t(atom('m'), atom('f'), 2), []), [1]],
      [t(29, ref, from, from, t(atom('m'), atom('f')), []), []],
      [t(29, ref, from, from, t(atom('m'), atom('f'), 0), atom('x')), []],
      [t(29, ref, from, from, t(atom('m'), atom('f'), 1), []), atom('notalist')],
      [t(31, ref, from, -1, to), undefined],
      [t(35, -1, from, to), undefined],
      [t(35, 1n << 64n, from, to), undefined],
      [t(35, atom('id'), from, to), undefined],
    ];
    for (const [control, payload] of bad) {
      expect(
        code(() => decodeControl(control, payload)),
        JSON.stringify(String(control)),
      ).toBe(ControlErrorCode.BAD_CONTROL);
    }
  });

  it('reports obsolete, OTP 28 and future operations as UNKNOWN_CONTROL with their number', () => {
    for (const n of [ControlOp.UNLINK, ControlOp.NODE_LINK, ControlOp.ALTACT_SIG_SEND, 0, 9, 99]) {
      let err: unknown;
      try {
        decodeControl(t(n, from, to), undefined);
      } catch (e) {
        err = e;
      }
      expect(err).toMatchObject({ code: ControlErrorCode.UNKNOWN_CONTROL, op: n });
    }
    expect(code(() => decodeControl(t(1n << 70n), undefined))).toBe(ControlErrorCode.UNKNOWN_CONTROL);
  });
});

describe('control messages through the external term format', () => {
  it('every op survives encode → ETF frame → decodeTerm → decodeControl', () => {
    for (const [op] of table) {
      for (const opts of [plain, rich]) {
        const m = encodeControl(op, opts);
        const parts = [encode(m.control)];
        if (m.payload !== undefined) parts.push(encode(m.payload));
        const frame = Buffer.concat(parts);
        const c = decodeTerm(frame, 1);
        const payload = c.end < frame.length ? decodeTerm(frame, c.end + 1) : undefined;
        if (payload !== undefined) expect(payload.end).toBe(frame.length);
        const back = decodeControl(c.term, payload?.term);
        expect(back.op).toBe(op.op);
        const again = encodeControl(back, opts);
        expect(termKey(again.control)).toBe(termKey(m.control));
        expect(again.payload === undefined ? undefined : termKey(again.payload)).toBe(m.payload === undefined ? undefined : termKey(m.payload));
      }
    }
  });
});
